import Foundation
import Testing
@testable import Backtest
import Settings
import TradingDomain

@Suite("Buy and hold beside every backtest")
struct BuyAndHoldTests {
    static let day: Int64 = 86_400_000

    /// Daily bars opening at day 0, 1, …, closing at `closes`.
    static func series(_ closes: [Double]) -> [Candle] {
        closes.enumerated().map { i, c in Candle(openTime: Int64(i) * day, open: c, high: c, low: c, close: c, volume: 1) }
    }

    @Test func itIsTheCloseAtTheFirstCycleToTheCloseAtTheLastAveragedOverTheSymbols() {
        let a = Self.series([100, 110, 121, 90, 150]), b = Self.series([50, 50, 25, 40, 100])
        // First cycle at day 1 sees bar 0 closed (100, 50); last cycle at day 5 sees bar 4 (150, 100).
        let whole = BacktestRunner.buyAndHoldReturn([Symbol(rawValue: "A"): a, Symbol(rawValue: "B"): b], start: Self.day, end: 5 * Self.day, step: Self.day)
        #expect(abs(whole - (0.5 + 1.0) / 2) < 1e-12)
        // A period cut by --from/--to: cycles from day 2 (bar 1 closed) to day 4 (bar 3 closed).
        let cut = BacktestRunner.buyAndHoldReturn([Symbol(rawValue: "A"): a], start: 2 * Self.day, end: 4 * Self.day, step: Self.day)
        #expect(abs(cut - (90.0 / 110 - 1)) < 1e-12)
        // A cycle time between bar closes reads the newest bar closed by then.
        let between = BacktestRunner.buyAndHoldReturn([Symbol(rawValue: "A"): a], start: 2 * Self.day + 5, end: 3 * Self.day + 5, step: Self.day)
        #expect(abs(between - (121.0 / 110 - 1)) < 1e-12)
        #expect(BacktestRunner.buyAndHoldReturn([:], start: 0, end: Self.day, step: Self.day) == 0)
    }

    @Test func theBacktestSummaryShowsItUnderTheTotalReturn() async throws {
        let closes = (0..<120).map { 100 + Double($0) }
        let candles = [Symbol(rawValue: "SYN"): Self.series(closes)]
        let (parameters, paper) = try BacktestData.smaCross(symbols: [Symbol(rawValue: "SYN")])
        let result = try await BacktestRunner(parameters: parameters, paper: paper, candles: candles, everyCandle: true).run()
        #expect(abs(result.buyAndHoldReturn - (219.0 / 100 - 1)) < 1e-12)
        let text = BacktestSummary(result).text
        let lines = text.split(separator: "\n")
        #expect(lines.count > 2 && lines[1] == "buy and hold   119.0000%", "\(text)")
    }
}
