import Foundation
import Settings
import Testing
@testable import TradejobCLI
import TradingDomain

/// A backtest's cycle parameters follow the backtest's timeframe, not the configuration's.
@Suite struct BacktestSetupTests {
    @Test(arguments: ["1m", "1h", "1d"])
    func theAnalysisAnnualisesByTheBacktestsTimeframe(name: String) throws {
        let config = try ConfigLoader.resolve(data: Data(#"{"market": {"timeframe": "15m"}}"#.utf8), file: "test", environment: [:])
        let timeframe = try #require(Timeframe(name))
        let choice = BacktestStrategyChoice(strategy: "default", fast: 10, slow: 30, size: 1, fee: nil)
        let (parameters, _) = try choice.setup(config: config, symbols: ["BTCUSDT"], timeframe: timeframe)
        #expect(parameters.timeframe == timeframe)
        #expect(parameters.analysis.barsPerYear == timeframe.barsPerYear, "\(parameters.analysis.barsPerYear) bars a year for \(name)")
    }
}
