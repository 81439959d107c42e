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

/// A source that answers at once (`ImmediateMarketData`: the replayed and the simulated markets) is fetched from one
/// symbol after another without an async call when the analysis runs one symbol at a time, as in backtests. These tests
/// hold that path to the async one: the same cycles, with a symbol that cannot be fetched and with an interrupt.
@Suite("Markets that answer at once")
struct ImmediateMarketTests {
    static let start: Int64 = 1_709_251_215_000  // 2024-03-01T00:00:15Z
    static let step: Int64 = 15 * 60_000
    static let m15 = Timeframe("15m")!

    /// The same source seen only through the protocol's async requirements (its `immediate` is the default nil).
    struct AsyncOnly: MarketDataSource {
        let inner: any MarketDataSource
        var name: String { inner.name }
        func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle] {
            try await inner.closedCandles(symbol: symbol, timeframe: timeframe, after: after, limit: limit, now: now)
        }
        func currentPrice(symbol: Symbol, timeframe: Timeframe, now: Int64) async throws -> Double {
            try await inner.currentPrice(symbol: symbol, timeframe: timeframe, now: now)
        }
    }

    @Test func theReplayedAndTheSimulatedMarketsAnswerAtOnceAndOthersDoNot() async throws {
        let replay = ReplayMarket(candles: ["BTCUSDT": SimulatedMarket.closedCandles(symbol: "BTCUSDT", timeframe: Self.m15, after: nil, limit: 50, now: Self.start)])
        #expect(replay.immediate != nil)
        #expect(SimulatedMarket().immediate != nil)
        #expect(AsyncOnly(inner: replay).immediate == nil)
        // The twins give the async requirements' answers, errors included.
        let now = Self.start + 7 * Self.step
        #expect(try replay.closedCandlesNow(symbol: "BTCUSDT", timeframe: Self.m15, after: Self.start - 10 * Self.step, limit: 30, now: now)
                == (try await AsyncOnly(inner: replay).closedCandles(symbol: "BTCUSDT", timeframe: Self.m15, after: Self.start - 10 * Self.step, limit: 30, now: now)))
        #expect(try replay.currentPriceNow(symbol: "BTCUSDT", timeframe: Self.m15, now: now - 1) == (try await AsyncOnly(inner: replay).currentPrice(symbol: "BTCUSDT", timeframe: Self.m15, now: now - 1)))
        #expect(throws: MarketDataError.self) { try replay.closedCandlesNow(symbol: "ETHUSDT", timeframe: Self.m15, after: nil, limit: 30, now: now) }
    }

    @Test(arguments: ["plain", "interrupted"])
    func aCycleFetchesTheSameFromTheSyncAndTheAsyncPath(scenario: String) async throws {
        let immediate = try await Self.runCycles(asyncOnly: false, interrupted: scenario == "interrupted")
        let viaAsync = try await Self.runCycles(asyncOnly: true, interrupted: scenario == "interrupted")
        #expect(immediate.reports == viaAsync.reports)
        #expect(immediate.signals == viaAsync.signals)
        // What the comparison covers: a symbol failed every run, the others were analysed (none when interrupted).
        let plain = scenario == "plain"
        #expect(immediate.reports.allSatisfy { $0.contains("failed: XRPUSDT: replay market data for XRPUSDT: no candles for this symbol") } == plain)
        #expect(immediate.reports.allSatisfy { $0.contains("symbols analysed: 3") } == plain)
        #expect(immediate.signals.allSatisfy { $0.count == (plain ? 3 : 0) })
        // An entry is sized at the reference price, which the sync path also reads from the market directly.
        #expect(immediate.reports.contains { $0.contains("orders: 1") } == plain)
    }

    /// Five cycles 15 minutes apart over a replay of three symbols (a fourth has no candles), one symbol at a time.
    static func runCycles(asyncOnly: Bool, interrupted: Bool) async throws -> (reports: [String], signals: [[Signal]]) {
        let config = try ConfigLoader.resolve(data: Data(#"""
            {"market": {"timeframe": "15m", "lookback": 150}, "analysis": {"max_concurrent_analyses": 1}, "strategy": {"min_confidence": 0.3}}
            """#.utf8), file: "test", environment: [:])
        var parameters = try CycleParameters(config: config)
        let held: [Symbol] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
        parameters.symbols = held + ["XRPUSDT"]
        var candles: [Symbol: [Candle]] = [:]
        for symbol in held {
            candles[symbol] = SimulatedMarket.closedCandles(symbol: symbol, timeframe: Self.m15, after: nil, limit: 400, now: start + 5 * step)
        }
        let replay = ReplayMarket(candles: candles)
        let market: any MarketDataSource = asyncOnly ? AsyncOnly(inner: replay) : replay
        let store = MemoryStateStore()
        let broker = PaperBroker(store: store, settings: PaperSettings())
        try broker.ensureFunded()
        let locks = SafeModeLockInMemory()
        var reports: [String] = [], signals: [[Signal]] = []
        for run in 0..<5 {
            let interrupt = InterruptFlag()
            if interrupted { interrupt.raise(SIGTERM) }
            let cycle = TradingCycle(parameters: parameters, configHash: "test", store: store, market: market, broker: broker,
                                     analyzer: WindowAnalyzer(), safeModeLocks: locks, nextRunFile: nil,
                                     logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, interrupt: interrupt)
            let report = try await cycle.run(now: start + Int64(run) * step)
            let failures = report.failedSymbols.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            let positions = report.openPositions.map { "\($0.symbol) \($0.quantity)@\($0.entryPrice)" }.joined(separator: "; ")
            signals.append(report.signals)
            reports.append("\(report.outcome) symbols analysed: \(report.symbolsAnalysed) failed: \(failures) "
                           + "orders: \(report.ordersPlaced) positions: \(positions) equity: \(report.equity)")
        }
        return (reports, signals)
    }
}
