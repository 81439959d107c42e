import Foundation
import Testing
@testable import Backtest
import Brokers
import Cycle
import MarketData
import Settings
import Strategy
import TradingDomain

@Suite("Bias checks: look-ahead and recursive indicators")
struct BiasCheckTests {
    static func bars() throws -> [Candle] {
        try CSVMarket.load(path: BacktestData.fixtures.appendingPathComponent("SYN.csv").path, symbol: "SYN").prefix(300).map { $0 }
    }

    /// The default strategy with a low entry threshold, so that it trades on the fixture.
    static func defaultStrategy() throws -> (CycleParameters, PaperSettings) {
        let config = try ConfigLoader.resolve(data: Data(#"{"market": {"timeframe": "1d", "symbols": ["SYN"]}, "strategy": {"min_confidence": 0.2}}"#.utf8), file: "test", environment: [:])
        return (try CycleParameters(config: config), PaperSettings(startingCash: 10_000, quoteAsset: "USDT", feeRate: Fixed("0.001") ?? 0, slippageBasisPoints: 5))
    }

    @Test(arguments: ["default", "sma-cross"])
    func theJobsStrategiesPass(strategy: String) async throws {
        let (p, paper) = strategy == "default" ? try Self.defaultStrategy() : try BacktestData.smaCross(symbols: ["SYN"])
        let runner = BacktestRunner(parameters: p, paper: paper, candles: ["SYN": try Self.bars()], everyCandle: true)
        let report = try await LookaheadCheck(runner: runner, samples: 6).run()
        #expect(report.decisions > 0, "the fixture makes the strategy trade")
        #expect(report.findings.count >= 2 && report.findings.count <= 6)
        #expect(Set(report.findings.map(\.cycleTime)).count == report.findings.count, "distinct cycles")
        #expect(report.findings.allSatisfy { $0.decisions > 0 })
        #expect(report.passed, "\(report.findings.compactMap(\.difference))")
    }

    @Test func anAnalysisThatReadsTheNextBarFails() async throws {
        let (p, paper) = try Self.defaultStrategy()
        let runner = BacktestRunner(parameters: p, paper: paper, candles: ["SYN": try Self.bars()], everyCandle: true)
        // Each bar's readings made from the bar after it: the future.
        let peeking = LookaheadCheck(runner: runner, samples: 6) { candles, parameters, lookback in
            let shifted = candles.mapValues { series in
                series.indices.map { i in
                    let next = series[min(i + 1, series.count - 1)]
                    return Candle(openTime: series[i].openTime, open: next.open, high: next.high, low: next.low, close: next.close, volume: next.volume)
                }
            }
            return PrecomputedAnalysis(candles: shifted, parameters: parameters, lookback: lookback)
        }
        let report = try await peeking.run()
        #expect(!report.passed)
        let first = try #require(report.findings.first { $0.difference != nil }?.difference)
        #expect(first.contains("cut at") || first.contains("analysis at"), "\(first)")
    }

    @Test func theCutKeepsTheClosedBarsAndOnlyTheOpenOfTheCurrentOne() throws {
        let day: Int64 = 86_400_000
        let series = (0..<5).map { Candle(openTime: Int64($0) * day, open: 10 + Double($0), high: 20, low: 5, close: 11 + Double($0), volume: 3) }
        let cut = LookaheadCheck.cut(["X": series], at: 3 * day, step: day)["X"] ?? []
        #expect(cut.count == 4)
        #expect(Array(cut.prefix(3)) == Array(series.prefix(3)))
        #expect(cut[3] == Candle(openTime: 3 * day, open: 13, high: 13, low: 13, close: 13, volume: 0))
        #expect(LookaheadCheck.spread(Array(1...10), count: 3) == [1, 5, 10])
        #expect(LookaheadCheck.spread([1, 2], count: 5) == [1, 2])
    }

    @Test func aWindowTooShortForTheSlowEMAFailsAndALongOnePasses() throws {
        let bars = try CSVMarket.load(path: BacktestData.fixtures.appendingPathComponent("SYN.csv").path, symbol: "SYN")
        let parameters = AnalysisParameters(emaFast: 20, emaSlow: 100)
        let short = RecursiveCheck(candles: ["SYN": bars], parameters: parameters, lookback: 150).run()
        #expect(!short.passed)
        let atShort = try #require(short.rows.first { $0.length == 150 })
        let slow = try #require(short.names.firstIndex(of: "ema_slow"))
        #expect((atShort.differences?[slow] ?? 0) > 1e-6, "an EMA of 100 has not settled after 150 bars")
        let long = RecursiveCheck(candles: ["SYN": bars], parameters: parameters, lookback: 600).run()
        #expect(long.passed, "\(long.rows.map { ($0.length, $0.worst ?? -1) })")
        // Longer windows differ less.
        let worst = long.rows.compactMap(\.worst)
        #expect(worst.first ?? 0 >= worst.last ?? 0)
    }
}
