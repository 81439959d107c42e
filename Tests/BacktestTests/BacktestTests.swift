import Foundation
import GRDB
import Testing
@testable import Backtest
import Brokers
import Cycle
import MarketData
import Settings
import Storage
import Strategy
import TradingDomain

enum BacktestData {
    static let fixtures = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("Fixtures")
    static var shared: URL? {
        if let dir = ProcessInfo.processInfo.environment["TRADEJOB_SHARED_DIR"] { return URL(fileURLWithPath: dir) }
        let shared = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
    }

    /// The reference strategy's parameters, as `tradejob backtest --strategy sma-cross` sets them.
    static func smaCross(symbols: [Symbol], timeframe: String = "1d") throws -> (CycleParameters, PaperSettings) {
        let config = try ConfigLoader.resolve(data: Data(#"{"market": {"timeframe": "\#(timeframe)"}}"#.utf8), file: "test", environment: [:])
        var p = try CycleParameters(config: config)
        p.symbols = symbols
        p.strategy = .smaCross(fast: 10, slow: 30, quantity: 10)
        p.lookback = 60
        for keyPath in [\ProtectionRules.maxDrawdown, \.dailyLoss, \.losingStreak, \.errorRate] { p.protections[keyPath: keyPath].enabled = false }
        p.protections.symbolCooldownMilliseconds = 0
        p.exits.exitConfidence = 0.5
        p.exits.trailingStop = false
        let paper = PaperSettings(startingCash: 10_000_000, quoteAsset: "USDT", feeRate: Fixed("0.001") ?? 0, slippageBasisPoints: 0)
        p.limits.costRate = paper.feeRate
        return (p, paper)
    }

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-bt-\(UUID().uuidString)").path
    }

    /// Compares our trades with a reference trade file: same count, bars, times; prices, fees and P&L within 1e-6.
    static func compare(_ trades: [BacktestTrade], reference path: String) throws {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
        #expect(trades.count == lines.count)
        for (trade, line) in zip(trades, lines) {
            let f = line.split(separator: ",").map(String.init)
            try #require(f.count == 9)
            #expect(Timestamp.rfc3339(trade.entryTime) == f[0])
            #expect(Timestamp.rfc3339(trade.exitTime) == f[1])
            #expect(trade.entryBar == Int(f[2]))
            #expect(trade.exitBar == Int(f[3]))
            for (ours, theirs, name) in [(trade.size.description, f[4], "size"), (trade.entryPrice.description, f[5], "entry_price"),
                                         (trade.exitPrice.description, f[6], "exit_price"), (trade.fees.description, f[7], "fees"), (trade.pnl.description, f[8], "pnl")] {
                let difference = abs((Double(ours) ?? .nan) - (Double(theirs) ?? .nan))
                #expect(difference <= 1e-6, "\(name) at bar \(trade.entryBar): \(ours) vs \(theirs)")
            }
        }
    }
}

@Suite("Backtest on the real cycle")
struct BacktestTests {
    @Test func reproducesBacktestingPyOnTheCommittedFixture() async throws {
        let candles = try CSVMarket.load(path: BacktestData.fixtures.appendingPathComponent("SYN.csv").path, symbol: "SYN")
        let (p, paper) = try BacktestData.smaCross(symbols: ["SYN"])
        let dir = BacktestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await BacktestRunner(parameters: p, paper: paper, candles: ["SYN": candles], everyCandle: true).run(stateDirectory: dir)
        try BacktestData.compare(result.trades, reference: BacktestData.fixtures.appendingPathComponent("SYN.sma_10_30.trades.csv").path)
    }

    @Test(.enabled(if: BacktestData.shared != nil, "../shared is absent: the SPY reference comparison is skipped"))
    func reproducesBacktestingPyOnSPY() async throws {
        guard let shared = BacktestData.shared else { return }
        let candles = try CSVMarket.load(path: shared.appendingPathComponent("data/SPY_1d.csv").path, symbol: "SPY")
        let (p, paper) = try BacktestData.smaCross(symbols: ["SPY"])
        let dir = BacktestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await BacktestRunner(parameters: p, paper: paper, candles: ["SPY": candles], everyCandle: true).run(stateDirectory: dir)
        #expect(result.trades.count == 88)
        try BacktestData.compare(result.trades, reference: shared.appendingPathComponent("reference/backtest/SPY_1d.sma_10_30.trades.csv").path)
    }

    /// Every order placed up to bar k is the same whether or not the bars after k exist.
    @Test(arguments: ["sma-cross", "default"])
    func noDecisionUsesTheFuture(strategy: String) async throws {
        let all = try CSVMarket.load(path: BacktestData.fixtures.appendingPathComponent("SYN.csv").path, symbol: "SYN").prefix(260).map { $0 }
        var (p, paper) = try BacktestData.smaCross(symbols: ["SYN"])
        if strategy == "default" {
            let config = try ConfigLoader.resolve(data: Data(#"{"market": {"timeframe": "1d", "symbols": ["SYN"]}, "strategy": {"min_confidence": 0.2}}"#.utf8), file: "test", environment: [:])
            p = try CycleParameters(config: config)
            paper = PaperSettings(startingCash: 10_000, quoteAsset: "USDT", feeRate: Fixed("0.001") ?? 0, slippageBasisPoints: 5)
        }
        func orders(_ candles: [Candle]) async throws -> [String] {
            let dir = BacktestData.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            _ = try await BacktestRunner(parameters: p, paper: paper, candles: ["SYN": candles], everyCandle: true).run(stateDirectory: dir)
            let db = try DatabaseQueue(path: dir + "/tradejob.sqlite")
            return try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT o.created_at, o.side, o.quantity, o.purpose, f.price FROM orders o LEFT JOIN fills f ON f.client_order_id = o.client_order_id ORDER BY o.id")
                    .map { "\($0[0] as Int64) \($0[1] as String) \($0[2] as Int64) \($0[3] as String) \(($0[4] as Int64?).map(String.init) ?? "-")" }
            }
        }
        let full = try await orders(all)
        #expect(!full.isEmpty, "the fixture should make the strategy trade")
        for k in [120, 170, 220] {
            let cutoff = all[k].openTime
            let truncated = try await orders(Array(all.prefix(k + 1)))
            let expected = full.filter { (Int64($0.split(separator: " ")[0]) ?? 0) <= cutoff }
            #expect(truncated.filter { (Int64($0.split(separator: " ")[0]) ?? 0) <= cutoff } == expected, "k = \(k)")
        }
    }

    @Test func summaryFigures() {
        let day: Int64 = 86_400_000
        let equity = [EquityPoint(time: 0, equity: 100, cash: 100, safeMode: false), EquityPoint(time: day * 365, equity: 110, cash: 110, safeMode: false),
                      EquityPoint(time: day * 730, equity: 99, cash: 99, safeMode: true), EquityPoint(time: day * 1095, equity: 121, cash: 121, safeMode: false)]
        let trades = [BacktestTrade(symbol: "X", entryTime: 0, exitTime: 1, entryBar: 0, exitBar: 1, size: 1, entryPrice: 1, exitPrice: 2, fees: 1, pnl: 30),
                      BacktestTrade(symbol: "X", entryTime: 2, exitTime: 3, entryBar: 2, exitBar: 3, size: 1, entryPrice: 2, exitPrice: 1, fees: 1, pnl: -10)]
        let s = BacktestSummary(BacktestResult(trades: trades, equity: EquityStats(equity), runsPerInterval: [900: 3], cycles: 4, cyclesInMarket: 1, startingCash: 100))
        #expect(abs(s.totalReturn - 0.21) < 1e-12)
        #expect(abs(s.maxDrawdown - 0.1) < 1e-12)
        #expect(s.winRate == 0.5)
        #expect(abs(s.profitFactor - 3) < 1e-12)
        #expect(s.exposure == 0.25)
        #expect(s.fees == 2)
        #expect(s.safeModeShare == 0.25)
        #expect(abs(s.cagr - (pow(1.21, 1 / (1095.0 / 365.25)) - 1)) < 1e-9)
    }
}
