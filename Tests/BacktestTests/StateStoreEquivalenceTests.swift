import Foundation
import Testing
@testable import Backtest
import Brokers
import Cycle
import MarketData
import Settings
import Storage
import Strategy
import TechnicalAnalysis
import TradingDomain

/// The backtest keeps its state in memory by default and in SQLite with `--keep-state`; both run the same cycle code
/// and must give the same trades, equity curve and schedule.
@Suite("Backtest state: memory and SQLite")
struct StateStoreEquivalenceTests {
    static func candles() throws -> [Candle] {
        try CSVMarket.load(path: BacktestData.fixtures.appendingPathComponent("SYN.csv").path, symbol: "SYN")
    }

    static func defaultStrategy() throws -> (CycleParameters, PaperSettings) {
        let config = try ConfigLoader.resolve(data: Data(#"{"market": {"timeframe": "1d", "symbols": ["SYN"], "lookback": 120}, "strategy": {"min_confidence": 0.2}}"#.utf8),
                                              file: "test", environment: [:])
        let paper = PaperSettings(startingCash: 10_000, quoteAsset: "USDT", feeRate: Fixed("0.001") ?? 0, slippageBasisPoints: 5)
        var p = try CycleParameters(config: config)
        p.limits.costRate = try paper.feeRate + paper.slippageBasisPoints.divided(by: 10_000, .up)
        return (p, paper)
    }

    @Test(arguments: [("sma-cross", true), ("default", true), ("default", false)])
    func memoryAndSQLiteGiveTheSameBacktest(strategy: String, everyCandle: Bool) async throws {
        let candles = Array(try Self.candles().prefix(260))
        let (p, paper) = strategy == "default" ? try Self.defaultStrategy() : try BacktestData.smaCross(symbols: ["SYN"])
        let runner = BacktestRunner(parameters: p, paper: paper, candles: ["SYN": candles], everyCandle: everyCandle)
        let dir = BacktestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inMemory = try await runner.run(equityOut: dir + "/memory-equity.csv")
        let inSQLite = try await runner.run(stateDirectory: dir + "/state", equityOut: dir + "/sqlite-equity.csv")
        #expect(!inMemory.trades.isEmpty, "the fixture should make the strategy trade")
        #expect(inMemory.trades == inSQLite.trades)
        #expect(inMemory.equity == inSQLite.equity)
        let curve = try String(contentsOfFile: dir + "/memory-equity.csv", encoding: .utf8)
        #expect(curve == (try String(contentsOfFile: dir + "/sqlite-equity.csv", encoding: .utf8)))
        #expect(curve.split(separator: "\n").count == inMemory.cycles + 1)
        // The curve recorded from the cycles' reports is the one the cycle itself stores.
        let database = try StateDatabase(path: dir + "/state/tradejob.sqlite")
        let stored = try await database.read { try $0.equityHistory() }
        #expect(curve == "time,equity,cash,safe_mode\n" + stored.map { BacktestFiles.equityLine(time: $0.time, equity: $0.equity, cash: $0.cash, safeMode: $0.safeMode) }.joined())
        #expect(inMemory.runsPerInterval == inSQLite.runsPerInterval)
        #expect(inMemory.cycles == inSQLite.cycles && inMemory.cyclesInMarket == inSQLite.cyclesInMarket)
    }

    /// While the history is no longer than the window, the precomputed analysis is the job's analysis exactly.
    @Test func precomputedAnalysisIsTheWindowAnalysis() throws {
        let candles = Array(try Self.candles().prefix(300))
        let parameters = AnalysisParameters(barsPerYear: 365)
        let precomputed = PrecomputedAnalysis(candles: ["SYN": candles], parameters: parameters, lookback: 500)
        var compared = 0
        for i in 0..<candles.count {
            let window = candles[0...i]
            let expected = SymbolAnalyzer.snapshot(candles: Array(window), parameters: parameters)
            let got = precomputed.snapshot(symbol: "SYN", candles: window, parameters: parameters)
            #expect(got == expected, "bar \(i)")
            if expected != nil { compared += 1 }
        }
        #expect(compared > 200)
    }

    /// With a window shorter than the history, structure (pivots, levels, breakouts) is that of the window, and the
    /// indicators differ from the window's only by their seed, which 500 bars (the default lookback) wash out.
    @Test func precomputedAnalysisFollowsTheSlidingWindow() throws {
        let candles = try Self.candles()
        let parameters = AnalysisParameters(barsPerYear: 365)
        let lookback = 500
        let precomputed = PrecomputedAnalysis(candles: ["SYN": candles], parameters: parameters, lookback: lookback)
        var compared = 0
        for i in stride(from: lookback, to: candles.count, by: 2) {
            let window = candles[(i - lookback + 1)...i]
            guard let expected = SymbolAnalyzer.snapshot(candles: Array(window), parameters: parameters),
                  let got = precomputed.snapshot(symbol: "SYN", candles: window, parameters: parameters) else {
                Issue.record("no snapshot at bar \(i)")
                continue
            }
            compared += 1
            #expect(got.breakout == expected.breakout, "bar \(i)")
            #expect(got.regime == expected.regime, "bar \(i)")
            #expect(got.patterns == expected.patterns, "bar \(i)")
            for (a, b) in [(got.emaFast, expected.emaFast), (got.emaSlow, expected.emaSlow), (got.rsi, expected.rsi), (got.atr, expected.atr),
                           (got.adx, expected.adx), (got.macdHistogram, expected.macdHistogram), (got.bollingerUpper, expected.bollingerUpper),
                           (got.volatility, expected.volatility)] {
                #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "bar \(i): \(a) vs \(b)")
            }
        }
        #expect(compared > 90)
    }
}
