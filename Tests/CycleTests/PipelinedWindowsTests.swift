import Foundation
import GRDB
import Logging
import Testing
import Brokers
@testable import Cycle
import MarketData
import Settings
import Storage
import Strategy
import TradingDomain

/// The cycle analyses each window while the write transaction that stored the new candles reads the next ones
/// (`StateStore.pipelinesWindows`). These tests run the same cycles on two copies of a state, one in that order and one
/// in the plain order (store, then analyse), and compare everything: the reports, every table, the log lines of the
/// failed symbols — with symbols that fail to fetch, to store or to analyse, an interrupt in the middle of the fetch, a
/// write transaction that fails to commit, and the models consulted.
@Suite("Windows analysed while the candle write goes on")
struct PipelinedWindowsTests {
    static let start: Int64 = 1_709_251_215_000  // 2024-03-01T00:00:15Z
    static let step: Int64 = 15 * 60_000

    /// What can go wrong in a scenario.
    struct Faults: Sendable {
        /// Symbols whose candles cannot be fetched (every run).
        var unfetchable: Set<Symbol> = []
        /// Symbols whose fetch returns, while nothing of theirs is stored, a candle with a NaN close (the `candles` table
        /// refuses it: only that symbol's batch fails).
        var unstorable: Set<Symbol> = []
        /// Symbols whose first fetch returns only this many candles (too few to analyse for a while).
        var short: [Symbol: Int] = [:]
        /// (run, symbol index): in that run the fetch of that symbol raises the interrupt, once the three symbols
        /// before it have been started (they wait for it), so exactly the symbols up to it are started.
        var interruptAt: (run: Int, index: Int)?
        /// The run whose candle write fails after its body ran (as a failed commit would).
        var failedCommitRun: Int?
        /// Whether models are consulted (every signal, a fake answering by symbol).
        var consults = false
    }

    @Test(arguments: ["plain", "faults", "interrupt", "failed commit", "models"])
    func pipelinedAndPlainOrdersGiveTheSameCycles(scenario: String) async throws {
        let symbols = (0..<24).map { Symbol(rawValue: String(format: "S%03dUSDT", $0)) }
        var faults = Faults()
        switch scenario {
        case "faults":
            faults.unfetchable = [symbols[3]]
            faults.unstorable = [symbols[7], symbols[8]]
            faults.short = [symbols[11]: 20]
        case "interrupt": faults.interruptAt = (run: 2, index: 12)
        case "failed commit": faults.failedCommitRun = 1
        case "models": faults.consults = true
        default: break
        }
        let plain = try await Self.runCycles(symbols: symbols, faults: faults, pipelined: false)
        let pipelined = try await Self.runCycles(symbols: symbols, faults: faults, pipelined: true)
        #expect(Self.difference(pipelined.reports, plain.reports) == nil)
        #expect(pipelined.signals == plain.signals)
        #expect(Self.difference(pipelined.failureLogs, plain.failureLogs) == nil)
        #expect(Self.difference(pipelined.consulted, plain.consulted) == nil)
        #expect(pipelined.consultedDuringWrite == 0 && plain.consultedDuringWrite == 0)
        #expect(pipelined.tables.keys.sorted() == plain.tables.keys.sorted())
        for (table, rows) in plain.tables {
            #expect(Self.difference(pipelined.tables[table] ?? [], rows) == nil, "table \(table)")
        }
        // The scenarios do what they say.
        #expect(plain.tables["candles"]?.isEmpty == false)
        switch scenario {
        case "plain": #expect(plain.tables["orders"]?.isEmpty == false, "the cycles should trade")
        case "faults":
            #expect(plain.reports[0].contains("S003USDT") && plain.reports[0].contains("S007USDT") && plain.reports[0].contains("S011USDT"))
            #expect(plain.failureLogs.contains { $0.contains("S007USDT") })
        case "interrupt":
            #expect(plain.reports[2].contains("interrupted"))
            #expect(plain.reports[2].contains("symbols analysed: 13"))
        case "failed commit": #expect(plain.reports[1].contains("injected commit failure"))
        case "models": #expect(!plain.consulted.isEmpty)
        default: break
        }
    }

    /// The first entry where `a` and `b` differ (nil: equal).
    static func difference(_ a: [String], _ b: [String]) -> String? {
        guard a != b else { return nil }
        let k = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "\(a.count) vs \(b.count) entries; first difference at \(k): \(k < a.count ? a[k] : "-") vs \(k < b.count ? b[k] : "-")"
    }

    /// A row as text, every value exactly (blobs in hex, reals with all their digits).
    static func text(_ row: Row) -> String {
        row.databaseValues.map { value -> String in
            switch value.storage {
            case .null: return "NULL"
            case let .int64(v): return "\(v)"
            case let .double(v): return "\(v.bitPattern)"
            case let .string(v): return v.debugDescription
            case let .blob(v): return v.map { String(format: "%02x", $0) }.joined()
            }
        }.joined(separator: "|")
    }

    struct Outcome {
        var reports: [String] = []
        var signals: [[Signal]] = []
        var failureLogs: [String] = []
        var consulted: [String] = []
        var consultedDuringWrite = 0
        var tables: [String: [String]] = [:]
    }

    /// Five cycles 15 minutes apart on a new state (the first backfills every window), in one order or the other.
    static func runCycles(symbols: [Symbol], faults: Faults, pipelined: Bool) async throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-pipe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let llm = faults.consults ? #", "llm": {"enabled": true, "consult_band": 1.0}"# : ""
        let config = try ConfigLoader.resolve(data: Data(#"""
            {"market": {"timeframe": "15m", "lookback": 150}, "analysis": {"max_concurrent_analyses": 4},
             "strategy": {"min_confidence": 0.3}\#(llm)}
            """#.utf8), file: "test", environment: [:])
        var parameters = try CycleParameters(config: config)
        parameters.symbols = symbols
        let database = try StateDatabase(path: dir + "/tradejob.sqlite")
        var sqlite = database.store
        sqlite.pipelinesWindows = pipelined
        let store = TestStore(sqlite)
        let paper = PaperSettings()
        let broker = PaperBroker(store: store, settings: paper)
        try broker.ensureFunded()
        let logs = LogLines()
        let logger = Logger(label: "test") { _ in LogLines.Handler(sink: logs) }
        let consultant = faults.consults ? FakeConsultant(store: store) : nil
        let locks = SafeModeLockInMemory()
        var outcome = Outcome()
        for run in 0..<5 {
            let interrupt = InterruptFlag()
            let market = TestMarket(symbols: symbols, faults: faults, run: run, interrupt: interrupt, store: store)
            let cycle = TradingCycle(parameters: parameters, configHash: "test", store: store, market: market, broker: broker,
                                     consultant: consultant, analyzer: WindowAnalyzer(), safeModeLocks: locks, nextRunFile: nil,
                                     logger: logger, interrupt: interrupt)
            let report = try await cycle.run(now: start + Int64(run) * step)
            let failures = report.failedSymbols.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            let decisions = report.decisions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            outcome.reports.append("\(report.summary)\nsymbols analysed: \(report.symbolsAnalysed)\nfailed: \(failures)\ndecisions: \(decisions)")
            outcome.signals.append(report.signals)
        }
        outcome.failureLogs = logs.lines
        outcome.consulted = consultant?.calls ?? []
        outcome.consultedDuringWrite = consultant?.duringWrite ?? 0
        try database.close()
        let reader = try DatabaseQueue(path: dir + "/tradejob.sqlite")
        outcome.tables = try await reader.read { db in
            var tables: [String: [String]] = [:]
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'") {
                // Every column, events' ids included: a run records its failed symbols in symbol order.
                let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String }.joined(separator: ", ")
                tables[table] = try Row.fetchAll(db, sql: "SELECT \(columns) FROM \(table)").map(Self.text).sorted()
            }
            return tables
        }
        try reader.close()
        return outcome
    }
}

/// The state store under test, which can fail a write after its body ran (the transaction rolls back, as when the
/// commit fails) and says whether a write's body is running.
final class TestStore: StateStore, @unchecked Sendable {
    struct InjectedCommitFailure: Error, CustomStringConvertible {
        var description: String { "injected commit failure" }
    }
    let inner: SQLiteStateStore
    private let lock = NSLock()
    private var failNext = false
    private var writing = false
    init(_ inner: SQLiteStateStore) { self.inner = inner }
    var keepsAudit: Bool { inner.keepsAudit }
    var pipelinesWindows: Bool { inner.pipelinesWindows }
    var isWriting: Bool { lock.withLock { writing } }
    func failNextWrite() { lock.withLock { failNext = true } }

    func read<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T { try await inner.read(body) }
    func write<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        let fails = takeFailure()
        return try await inner.write { ledger in try self.watched(ledger, fails: fails, body) }
    }
    func writeAside<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        let fails = takeFailure()
        return try await inner.writeAside { ledger in try self.watched(ledger, fails: fails, body) }
    }
    /// Whether this write is to fail (asked for by `failNextWrite`).
    private func takeFailure() -> Bool {
        lock.withLock { () -> Bool in
            defer { failNext = false }
            return failNext
        }
    }
    /// `body` run with the store marked as writing, then failed when `fails`.
    private func watched<T>(_ ledger: any Ledger, fails: Bool, _ body: (any Ledger) throws -> T) throws -> T {
        lock.withLock { writing = true }
        defer { lock.withLock { writing = false } }
        let value = try body(ledger)
        if fails { throw InjectedCommitFailure() }
        return value
    }
    func writeNow<T>(_ body: (any Ledger) throws -> T) throws -> T { try inner.writeNow(body) }
}

/// The simulated market with the scenario's faults.
struct TestMarket: MarketDataSource {
    struct Unavailable: Error, CustomStringConvertible {
        var symbol: Symbol
        var description: String { "no candles for \(symbol)" }
    }
    let name = "test"
    let symbols: [Symbol]
    let faults: PipelinedWindowsTests.Faults
    let run: Int
    let interrupt: InterruptFlag
    let store: TestStore
    let gate = Gate()

    func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle] {
        if faults.failedCommitRun == run { store.failNextWrite() }
        if faults.unfetchable.contains(symbol) { throw Unavailable(symbol: symbol) }
        if let (interruptRun, index) = faults.interruptAt, interruptRun == run, let k = symbols.firstIndex(of: symbol) {
            if k == index {
                interrupt.raise(SIGTERM)
                gate.open()
            } else if k < index, k >= index - 3 {
                await gate.wait()
            }
        }
        var candles = SimulatedMarket.closedCandles(symbol: symbol, timeframe: timeframe, after: after, limit: limit, now: now)
        if after == nil {
            if faults.unstorable.contains(symbol), let last = candles.indices.last { candles[last].close = .nan }
            if let count = faults.short[symbol] { candles = Array(candles.suffix(count)) }
        }
        return candles
    }

    func currentPrice(symbol: Symbol, timeframe: Timeframe, now: Int64) async throws -> Double {
        SimulatedMarket.closedCandles(symbol: symbol, timeframe: timeframe, after: nil, limit: 1, now: now).last?.close ?? 1
    }
}

/// Suspends callers of `wait` until `open`.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resume = lock.withLock { () -> Bool in
                if isOpen { return true }
                waiting.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    func open() {
        let resumed = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            isOpen = true
            defer { waiting = [] }
            return waiting
        }
        for continuation in resumed { continuation.resume() }
    }
}

/// Models that answer by symbol, recording each call and whether a write's body was running then.
final class FakeConsultant: OpinionConsultant, @unchecked Sendable {
    let store: TestStore
    private let lock = NSLock()
    private var recorded: [String] = []
    private var writing = 0
    init(store: TestStore) { self.store = store }
    var calls: [String] { lock.withLock { recorded.sorted() } }
    var duringWrite: Int { lock.withLock { writing } }

    func opinion(runID: RunID, symbol: Symbol, candles: [Candle], snapshot: MarketSnapshot, technical: Signal, now: Int64) async -> ModelOpinion? {
        let busy = store.isWriting
        lock.withLock {
            recorded.append("\(runID) \(symbol) \(candles.count) \(technical.confidence)")
            if busy { writing += 1 }
        }
        let k = symbol.rawValue.utf8.reduce(0) { $0 + Int($1) }
        return ModelOpinion(action: k % 3 == 0 ? .buy : k % 3 == 1 ? .sell : .hold, confidence: Double(k % 10) / 10, agreement: 1)
    }
}

/// Log lines of failed symbols ("symbol failed; …"), in order, with the symbol and the error.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    var lines: [String] { lock.withLock { recorded } }
    func append(_ line: String) { lock.withLock { recorded.append(line) } }

    /// A handler writing into these lines (a value, as `Logger` expects: metadata set on a copy stays on it).
    struct Handler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.message.description.hasPrefix("symbol failed") else { return }
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append("\(event.message) \(all["symbol"].map { "\($0)" } ?? "") \(all["error"].map { "\($0)" } ?? "")")
        }
    }
}
