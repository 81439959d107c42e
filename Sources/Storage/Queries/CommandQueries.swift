import Foundation
import GRDB
import TradingDomain

/// What the commands outside the cycle read and write (`status`, `schedule`, `history`, `report`, `explain`,
/// `analyze`, `backtest --from-state`, `safe-mode`, the metrics file and the compatibility check before a run).
extension SQLiteLedger {
    /// The job's state (`job.state`), nil before the first run.
    public func jobStatus() throws -> JobStatus? { try JobState.status(db) }
    /// The events of `kind` at or after `since`, oldest first.
    public func events(ofKind kind: EventKind, since: Int64 = 0) throws -> [EventRow] { try Events.ofKind(db, kind, since: since) }
    /// The newest run.
    public func lastRun() throws -> RunRow? { try Runs.last(db) }
    /// The newest run that chose a next run.
    public func lastScheduledRun() throws -> RunRow? { try Runs.lastScheduled(db) }
    /// The newest run's id.
    public func newestRunID() throws -> Int64? { try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(id) FROM runs")) }
    /// The events of run `runID`, oldest first.
    public func events(runID: Int64) throws -> [EventRow] { try Events.forRun(db, runID: runID) }
    /// The whole equity curve, oldest first.
    public func equityHistory() throws -> [EquityPoint] { try EquityHistory.all(db) }
    /// The newest `limit` candles of `symbol`, oldest first.
    public func newestCandles(symbol: Symbol, timeframe: Timeframe, limit: Int) throws -> [Candle] {
        try Candles.window(db, symbol: symbol, timeframe: timeframe, limit: limit)
    }
    /// The candles of `symbol` with open times in `from...to`, oldest first.
    public func candles(symbol: Symbol, timeframe: Timeframe, from: Int64, to: Int64) throws -> [Candle] {
        try Candles.range(db, symbol: symbol, timeframe: timeframe, from: from, to: to)
    }
    /// The symbols with candles of `timeframe`.
    public func candleSymbols(timeframe: Timeframe) throws -> [Symbol] { try Candles.symbols(db, timeframe: timeframe) }

    /// Adds `amount` to the monotonic counter `name` (the `counters` table).
    public func addToCounter(_ name: String, _ amount: Double) throws { try Counters.add(db, name, amount) }
    /// Every counter by name.
    public func counters() throws -> [String: Double] { try Counters.all(db) }

    /// Whether the table exists (a state whose first run died before its tables were made has none): GRDB's
    /// `tableExists` (a table of that name in any case, temporary or main), asked of `sqlite_master` straight; GRDB's
    /// loads and caches its whole picture of the schema first, a noticeable share of a cycle's start.
    public func tableExists(_ name: String) throws -> Bool {
        (try firstValue(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM sqlite_temp_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE)
                OR EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE)
            """), arguments: [name], table: "sqlite_master", column: "name") as Int?) == 1
    }
    /// Every asset a fee was paid in.
    public func feeAssets() throws -> [String] {
        try firstColumn(db.cachedStatement(sql: "SELECT DISTINCT fee_asset FROM fills"), table: "fills", column: "fee_asset")
    }

    // MARK: explain

    /// The signal stored for `symbol` in run `runID`.
    public func storedSignal(runID: Int64, symbol: Symbol) throws -> StoredSignal? {
        guard let s = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM signals WHERE run_id = ? AND symbol = ?"), arguments: [runID, symbol]) else { return nil }
        return StoredSignal(direction: (try s.decoded("direction", table: "signals")), confidence: (try s.decoded("confidence", table: "signals")), score: (try s.decoded("score", table: "signals")), candleTime: (try s.decoded("candle_time", table: "signals")),
                            components: (try s.decoded("components", table: "signals")), patterns: (try s.decoded("patterns", table: "signals")), opinion: (try s.decoded("opinion", table: "signals")))
    }

    /// The models' aggregated opinion stored for `symbol` in run `runID`.
    public func storedLLMOpinion(runID: Int64, symbol: Symbol) throws -> StoredLLMOpinion? {
        guard let o = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM llm_opinions WHERE run_id = ? AND symbol = ?"), arguments: [runID, symbol]) else { return nil }
        return StoredLLMOpinion(outcome: (try o.decoded("outcome", table: "llm_opinions")), action: (try o.decoded("action", table: "llm_opinions")), confidence: (try o.decoded("confidence", table: "llm_opinions")), agreement: (try o.decoded("agreement", table: "llm_opinions")))
    }

    /// The model calls made for `symbol` in run `runID`, in the order they were recorded.
    public func storedLLMCalls(runID: Int64, symbol: Symbol) throws -> [StoredLLMCall] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM llm_calls WHERE run_id = ? AND symbol = ? ORDER BY id"), arguments: [runID, symbol]).map { c in
            StoredLLMCall(provider: (try c.decoded("provider", table: "llm_calls")), model: (try c.decoded("model", table: "llm_calls")), status: (try c.decoded("status", table: "llm_calls")), cachedFrom: (try c.decoded("cached_from", table: "llm_calls")), fromCache: (try c.decoded("from_cache", table: "llm_calls")),
                          action: (try c.decoded("action", table: "llm_calls")), confidence: (try c.decoded("confidence", table: "llm_calls")), problem: (try c.decoded("problem", table: "llm_calls")), latencyMs: (try c.decoded("latency_ms", table: "llm_calls")),
                          promptTokens: (try c.decoded("prompt_tokens", table: "llm_calls")), completionTokens: (try c.decoded("completion_tokens", table: "llm_calls")), usageImplausible: (try c.decoded("usage_implausible", table: "llm_calls")),
                          cost: (try c.decoded("cost", table: "llm_calls") as Int64?).map(Money.init(raw:)), rationale: (try c.decoded("rationale", table: "llm_calls")))
        }
    }

    /// When model call `id` was made.
    public func llmCallTime(id: Int64) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT time FROM llm_calls WHERE id = ?"), arguments: [id])
    }
}

/// A row of `signals` as `explain` shows it.
public struct StoredSignal: Sendable, Equatable {
    public var direction: String
    public var confidence: Double
    public var score: Double
    public var candleTime: Int64
    public var components: String?
    public var patterns: String?
    public var opinion: String?
    public init(direction: String, confidence: Double, score: Double, candleTime: Int64, components: String?, patterns: String?, opinion: String?) {
        self.direction = direction
        self.confidence = confidence
        self.score = score
        self.candleTime = candleTime
        self.components = components
        self.patterns = patterns
        self.opinion = opinion
    }
}

/// A row of `llm_opinions` as `explain` shows it.
public struct StoredLLMOpinion: Sendable, Equatable {
    public var outcome: String
    public var action: String?
    public var confidence: Double?
    public var agreement: Double?
    public init(outcome: String, action: String?, confidence: Double?, agreement: Double?) {
        self.outcome = outcome
        self.action = action
        self.confidence = confidence
        self.agreement = agreement
    }
}

/// A row of `llm_calls` as `explain` shows it.
public struct StoredLLMCall: Sendable, Equatable {
    public var provider: String
    public var model: String?
    public var status: String
    public var cachedFrom: Int64?
    public var fromCache: Bool?
    public var action: String?
    public var confidence: Double?
    public var problem: String?
    public var latencyMs: Int64?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var usageImplausible: Bool?
    public var cost: Money?
    public var rationale: String?
    public init(provider: String, model: String?, status: String, cachedFrom: Int64?, fromCache: Bool?, action: String?, confidence: Double?,
                problem: String?, latencyMs: Int64?, promptTokens: Int?, completionTokens: Int?, usageImplausible: Bool?, cost: Money?, rationale: String?) {
        self.provider = provider
        self.model = model
        self.status = status
        self.cachedFrom = cachedFrom
        self.fromCache = fromCache
        self.action = action
        self.confidence = confidence
        self.problem = problem
        self.latencyMs = latencyMs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.usageImplausible = usageImplausible
        self.cost = cost
        self.rationale = rationale
    }
}
