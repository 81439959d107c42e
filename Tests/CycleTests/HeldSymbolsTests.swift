import Foundation
import Logging
import Testing
import Brokers
@testable import Cycle
import MarketData
import Settings
import Storage
import Strategy
import TradingDomain

/// A position outlives its symbol's removal from the configuration: the cycle still fetches that symbol's candles,
/// values the position at its price, checks its stop and target, and makes no entry in it.
@Suite("Positions in symbols no longer configured")
struct HeldSymbolsTests {
    static let start: Int64 = 1_709_251_215_000  // 2024-03-01T00:00:15Z
    static let step: Int64 = 15 * 60_000
    static let m15 = Timeframe("15m")!

    struct Setup {
        let store: MemoryStateStore
        let broker: PaperBroker
        let market: ReplayMarket
        let parameters: CycleParameters
        let locks = SafeModeLockInMemory()

        func cycle() -> TradingCycle {
            TradingCycle(parameters: parameters, configHash: "test", store: store, market: market, broker: broker, analyzer: WindowAnalyzer(),
                         safeModeLocks: locks, nextRunFile: nil, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }
    }

    /// BTCUSDT and ETHUSDT replayed; `configured` are the cycle's symbols.
    static func setup(configured: [Symbol], minConfidence: Double = 0.3, exitConfidence: Double = 0.6) throws -> Setup {
        let config = try ConfigLoader.resolve(data: Data("""
            {"market": {"timeframe": "15m", "lookback": 150}, "strategy": {"min_confidence": \(minConfidence), "exit_confidence": \(exitConfidence)},
             "protections": {"symbol_cooldown": {"enabled": false}}}
            """.utf8), file: "test", environment: [:])
        var parameters = try CycleParameters(config: config)
        parameters.symbols = configured
        var candles: [Symbol: [Candle]] = [:]
        for symbol: Symbol in ["BTCUSDT", "ETHUSDT"] {
            candles[symbol] = SimulatedMarket.closedCandles(symbol: symbol, timeframe: m15, after: nil, limit: 600, now: start + 40 * step)
        }
        let store = MemoryStateStore()
        let broker = PaperBroker(store: store, settings: PaperSettings())
        try broker.ensureFunded()
        return Setup(store: store, broker: broker, market: ReplayMarket(candles: candles), parameters: parameters)
    }

    /// An open ETHUSDT position of 1 ETH bought at 1 USDT (its coins in the wallet), with `stop`, its candles checked up
    /// to `checkedUpTo`.
    static func holdEther(_ s: Setup, stop: Price?, checkedUpTo: Int64 = 0) throws {
        try s.store.writeNow { ledger in
            let p = Position(id: 0, symbol: "ETHUSDT", state: .open, quantity: 1, entryPrice: 1, initialEntryPrice: 1, cost: 1, stopPrice: stop,
                             takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false,
                             openedAt: start - step, lastCheckedCandle: checkedUpTo)
            _ = try ledger.insertPosition(p)
            try ledger.setBalance(asset: "ETH", free: 1)
        }
    }

    @Test func theHeldSymbolIsAnalysedAndValuedAtItsPrice() async throws {
        // No entries, no exit on a signal: the ether stays held.
        let s = try Self.setup(configured: ["BTCUSDT"], minConfidence: 0.99, exitConfidence: 1.0)
        try Self.holdEther(s, stop: nil, checkedUpTo: Self.start)
        let report = try await s.cycle().run(now: Self.start)
        let close = try #require(try s.market.closedCandlesNow(symbol: "ETHUSDT", timeframe: Self.m15, after: nil, limit: 1, now: Self.start).last?.close)
        #expect(report.symbolsAnalysed == 2 && report.signals.contains { $0.symbol == "ETHUSDT" })
        // (Managed too: the price far above its entry took part of it as profit.)
        let held = try #require(report.openPositions.first { $0.symbol == "ETHUSDT" })
        #expect(report.equity == (try report.cash + Price(double: close).times(held.quantity, .halfEven)),
                "the ether at \(close), not at its entry price 1: equity \(report.equity), cash \(report.cash), \(report.openPositions)")
        #expect(report.notes.contains { $0.contains("ETHUSDT, no longer configured") }, "\(report.notes)")
    }

    @Test func itsStopFiresAndNoEntryFollowsInIt() async throws {
        // The control: with ETHUSDT configured, these cycles enter it at run `r` (no cooldown after an exit).
        let control = try Self.setup(configured: ["BTCUSDT", "ETHUSDT"], minConfidence: 0.05)
        func ether(_ s: Setup) throws -> [Position] {
            try s.store.writeNow { ledger in try ledger.closedPositions(since: 0) + ledger.activePositions() }.filter { $0.symbol == "ETHUSDT" }
        }
        var entryRun: Int?
        for run in 0..<40 where entryRun == nil {
            _ = try await control.cycle().run(now: Self.start + Int64(run) * Self.step)
            if try !ether(control).isEmpty { entryRun = run }
        }
        let r = try #require(entryRun, "the control enters ETHUSDT")

        // Held but no longer configured, its stop far above the market and that run's candle not yet checked: sold at run
        // `r`, and not bought again in the same run although its signal is the one the control entered on.
        let s = try Self.setup(configured: ["BTCUSDT"], minConfidence: 0.05)
        try Self.holdEther(s, stop: 1_000_000, checkedUpTo: Self.start + Int64(r - 2) * Self.step)
        let report = try await s.cycle().run(now: Self.start + Int64(r) * Self.step)
        #expect(report.ordersPlaced >= 1)
        let held = try ether(s)
        #expect(held.count == 1, "no new ETHUSDT position: \(held)")
        #expect(held.first.map { $0.state == .closed && $0.exitReason == .stopLoss } == true, "\(held)")
        // Later runs do not analyse it any more.
        let next = try await s.cycle().run(now: Self.start + Int64(r + 1) * Self.step)
        #expect(!next.signals.contains { $0.symbol == "ETHUSDT" })
    }

    /// A source whose ETHUSDT cannot be fetched once `failing` is set.
    final class FailingEther: MarketDataSource, @unchecked Sendable {
        let inner: ReplayMarket
        var failing = false
        init(_ inner: ReplayMarket) { self.inner = inner }
        var name: String { inner.name }
        func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle] {
            if failing && symbol == "ETHUSDT" { throw MarketDataError(source: name, symbol: symbol, message: "unreachable") }
            return try await inner.closedCandles(symbol: symbol, timeframe: timeframe, after: after, limit: limit, now: now)
        }
        func currentPrice(symbol: Symbol, timeframe: Timeframe, now: Int64) async throws -> Double {
            try await inner.currentPrice(symbol: symbol, timeframe: timeframe, now: now)
        }
    }

    /// When a held symbol's candles cannot be fetched, its position is valued at the newest stored close, not at its entry
    /// price.
    @Test func aSymbolThatCannotBeFetchedIsValuedAtItsNewestStoredClose() async throws {
        let s = try Self.setup(configured: ["BTCUSDT", "ETHUSDT"], minConfidence: 0.99, exitConfidence: 1.0)
        try Self.holdEther(s, stop: nil, checkedUpTo: Self.start + 2 * Self.step)
        let market = FailingEther(s.market)
        func cycle() -> TradingCycle {
            TradingCycle(parameters: s.parameters, configHash: "test", store: s.store, market: market, broker: s.broker, analyzer: WindowAnalyzer(),
                         safeModeLocks: s.locks, nextRunFile: nil, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        }
        _ = try await cycle().run(now: Self.start)
        market.failing = true
        let report = try await cycle().run(now: Self.start + 2 * Self.step)
        #expect(report.failedSymbols["ETHUSDT"] != nil)
        let stored = try #require(try s.market.closedCandlesNow(symbol: "ETHUSDT", timeframe: Self.m15, after: nil, limit: 1, now: Self.start).last?.close)
        let held = try #require(report.openPositions.first { $0.symbol == "ETHUSDT" })
        #expect(report.equity == (try report.cash + Price(double: stored).times(held.quantity, .halfEven)),
                "at the close stored by the first run (\(stored)): equity \(report.equity), cash \(report.cash), \(report.openPositions)")
    }
}
