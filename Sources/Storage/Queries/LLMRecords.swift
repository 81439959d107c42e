import Foundation
import GRDB
import TradingDomain

/// The LLM step's persisted state: per-provider circuit breakers (`llm_breakers`), the audit trail and cache of every
/// call (`llm_calls`), the opinions (`llm_opinions`) and the budgets' spending read back from the calls.
extension SQLiteLedger {
    /// Until when `provider`'s breaker is open (nil: it never opened).
    public func llmBreakerOpenUntil(provider: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT open_until FROM llm_breakers WHERE provider = ?", arguments: [provider])
    }

    /// A valid answer: `provider`'s consecutive failures start again from zero.
    public func resetLLMBreakerFailures(provider: String) throws {
        try db.execute(sql: "INSERT INTO llm_breakers (provider, consecutive_failures) VALUES (?, 0) ON CONFLICT(provider) DO UPDATE SET consecutive_failures = 0",
                       arguments: [provider])
    }

    /// A failed call: counts it and returns `provider`'s consecutive failures.
    public func countLLMBreakerFailure(provider: String) throws -> Int {
        try db.execute(sql: "INSERT INTO llm_breakers (provider, consecutive_failures) VALUES (?, 1) ON CONFLICT(provider) DO UPDATE SET consecutive_failures = consecutive_failures + 1",
                       arguments: [provider])
        return try Int.fetchOne(db, sql: "SELECT consecutive_failures FROM llm_breakers WHERE provider = ?", arguments: [provider]) ?? 0
    }

    /// Opens `provider`'s breaker until `until` (its failures start again from zero).
    public func openLLMBreaker(provider: String, until: Int64) throws {
        try db.execute(sql: "UPDATE llm_breakers SET open_until = ?, consecutive_failures = 0 WHERE provider = ?",
                       arguments: [until, provider])
    }

    /// The newest valid answer the model itself gave for `key` (never a replay) made in `(after, upTo]`.
    public func newestLLMAnswer(cacheKey key: String, upTo: Int64, after: Int64) throws -> CachedLLMAnswer? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, action, confidence, horizon, rationale FROM llm_calls
            WHERE cache_key = ? AND status = 'valid' AND from_cache = 0 AND time <= ? AND time > ?
            ORDER BY time DESC, id DESC LIMIT 1
            """, arguments: [key, upTo, after]) else { return nil }
        return CachedLLMAnswer(id: (try row.decoded("id", table: "llm_calls")), action: (try row.decoded("action", table: "llm_calls")), confidence: (try row.decoded("confidence", table: "llm_calls")), horizon: (try row.decoded("horizon", table: "llm_calls")), rationale: (try row.decoded("rationale", table: "llm_calls")))
    }

    /// The fresh calls of run `runID` (replays from the cache not counted).
    public func freshLLMCallCount(runID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM llm_calls WHERE run_id = ? AND from_cache = 0", arguments: [runID]) ?? 0
    }

    /// The tokens charged for the calls made in `[from, to)`; negative numbers (rows written before usage was
    /// validated) count as nothing, never as a credit.
    public func llmTokens(from: Int64, to: Int64) throws -> Double {
        try Double.fetchOne(db, sql: "SELECT TOTAL(MAX(prompt_tokens, 0) + MAX(completion_tokens, 0)) FROM llm_calls WHERE time >= ? AND time < ?",
                            arguments: [from, to]) ?? 0
    }

    /// The stored cost of every call made in `[from, to)`, as written.
    public func llmCosts(from: Int64, to: Int64) throws -> [Money] {
        try Int64.fetchAll(db, sql: "SELECT cost FROM llm_calls WHERE time >= ? AND time < ?", arguments: [from, to]).map(Money.init(raw:))
    }

    /// Audits one call.
    public func insertLLMCall(_ c: LLMCallRecord) throws {
        try db.execute(sql: """
            INSERT INTO llm_calls (run_id, symbol, provider, model, cache_key, time, prompt, raw_reply, status, problem, action, confidence, horizon,
            rationale, latency_ms, prompt_tokens, completion_tokens, cost, from_cache, cached_from, base_url, usage_implausible)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [c.runID, c.symbol, c.provider, c.model, c.cacheKey, c.time, c.prompt, c.rawReply, c.status, c.problem,
                             c.action, c.confidence, c.horizon, c.rationale, c.latencyMs,
                             c.promptTokens, c.completionTokens, c.cost.raw, c.fromCache, c.cachedFrom,
                             c.baseURL, c.usageImplausible])
    }

    /// Stores (or replaces) the consultation's outcome for `symbol` in run `runID`.
    public func saveLLMOpinion(runID: Int64, symbol: Symbol, time: Int64, outcome: String, action: String?, confidence: Double?,
                               agreement: Double?, technicalConfidence: Double?) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO llm_opinions (run_id, symbol, time, outcome, action, confidence, agreement, technical_confidence)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [runID, symbol, time, outcome, action, confidence, agreement, technicalConfidence])
    }
}

/// A stored valid answer a cache hit replays (`llm_calls`).
public struct CachedLLMAnswer: Sendable, Equatable {
    public var id: Int64
    public var action: String?
    public var confidence: Double?
    public var horizon: String?
    public var rationale: String?
    public init(id: Int64, action: String?, confidence: Double?, horizon: String?, rationale: String?) {
        self.id = id
        self.action = action
        self.confidence = confidence
        self.horizon = horizon
        self.rationale = rationale
    }
}

/// One model call for the audit trail (`llm_calls`).
public struct LLMCallRecord: Sendable, Equatable {
    public var runID: Int64
    public var symbol: Symbol
    public var provider: String
    public var model: String
    public var cacheKey: String
    public var time: Int64
    public var prompt: String
    public var rawReply: String?
    public var status: String
    public var problem: String?
    public var action: String?
    public var confidence: Double?
    public var horizon: String?
    public var rationale: String?
    public var latencyMs: Int64
    public var promptTokens: Int
    public var completionTokens: Int
    public var cost: Money
    public var fromCache: Bool
    public var cachedFrom: Int64?
    public var baseURL: String
    public var usageImplausible: Bool
    public init(runID: Int64, symbol: Symbol, provider: String, model: String, cacheKey: String, time: Int64, prompt: String, rawReply: String?,
                status: String, problem: String?, action: String?, confidence: Double?, horizon: String?, rationale: String?, latencyMs: Int64,
                promptTokens: Int, completionTokens: Int, cost: Money, fromCache: Bool, cachedFrom: Int64?, baseURL: String, usageImplausible: Bool) {
        self.runID = runID
        self.symbol = symbol
        self.provider = provider
        self.model = model
        self.cacheKey = cacheKey
        self.time = time
        self.prompt = prompt
        self.rawReply = rawReply
        self.status = status
        self.problem = problem
        self.action = action
        self.confidence = confidence
        self.horizon = horizon
        self.rationale = rationale
        self.latencyMs = latencyMs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.fromCache = fromCache
        self.cachedFrom = cachedFrom
        self.baseURL = baseURL
        self.usageImplausible = usageImplausible
    }
}
