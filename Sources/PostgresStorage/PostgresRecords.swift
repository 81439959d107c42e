import Foundation
import Storage
import TradingDomain

/// The notifications outbox, venue records and language-model records on PostgreSQL: `SQLiteLedger`'s statements
/// of `NotificationOutbox.swift`, `VenueRecords.swift` and `LLMRecords.swift` in PostgreSQL's dialect.
extension PostgresLedger: StateRecords {
    // MARK: Notifications

    public func events(after id: Int64) throws -> [EventRow] {
        try rows("SELECT * FROM events WHERE id > $1 ORDER BY id", [.int(id)]).map(Self.event)
    }

    public func queueNotification(key: String, kind: String, message: String, createdAt: Int64) throws {
        try run("INSERT INTO notifications (key, kind, message, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
                 [.text(key), .text(kind), .text(message), .int(createdAt)])
    }

    public func undeliveredNotifications(maxAttempts: Int) throws -> [PendingNotification] {
        try rows("""
            SELECT key, kind, message, webhook_delivered_at IS NOT NULL AS webhook_done, telegram_delivered_at IS NOT NULL AS telegram_done
            FROM notifications WHERE delivered_at IS NULL AND attempts < $1 ORDER BY created_at, key
            """, [.int(Int64(maxAttempts))]).map { r in
            let t = "notifications"
            return PendingNotification(key: try r.text("key", table: t), kind: try r.text("kind", table: t), message: try r.text("message", table: t),
                                       webhookDone: try r.bool("webhook_done", table: t), telegramDone: try r.bool("telegram_done", table: t))
        }
    }

    public func recordNotificationAttempt(key: String, webhookSent: Bool, telegramSent: Bool, failure: String?, now: Int64) throws {
        if webhookSent { try run("UPDATE notifications SET webhook_delivered_at = $1 WHERE key = $2", [.int(now), .text(key)]) }
        if telegramSent { try run("UPDATE notifications SET telegram_delivered_at = $1 WHERE key = $2", [.int(now), .text(key)]) }
        if let failure {
            try run("UPDATE notifications SET attempts = attempts + 1, last_error = $1 WHERE key = $2", [.text(failure), .text(key)])
        } else {
            try run("UPDATE notifications SET attempts = attempts + 1, delivered_at = $1 WHERE key = $2", [.int(now), .text(key)])
        }
    }

    // MARK: Venue

    public func venueState(venue: String) throws -> VenueStateRow {
        guard let r = try row("SELECT * FROM venue_state WHERE venue = $1", [.text(venue)]) else { return VenueStateRow(venue: venue) }
        let t = "venue_state"
        return VenueStateRow(venue: try r.text("venue", table: t, key: venue), timeOffsetMs: try r.optionalInt64("time_offset_ms", table: t, key: venue),
                             timeSyncedAt: try r.optionalInt64("time_synced_at", table: t, key: venue), usedWeight: try r.int("used_weight", table: t, key: venue),
                             usedWeightMinute: try r.int64("used_weight_minute", table: t, key: venue),
                             weightLimit: try r.optionalInt64("weight_limit", table: t, key: venue).map(Int.init),
                             backoffUntil: try r.int64("backoff_until", table: t, key: venue), bannedUntil: try r.int64("banned_until", table: t, key: venue),
                             banReason: try r.optionalText("ban_reason", table: t, key: venue), breakerState: try r.text("breaker_state", table: t, key: venue),
                             breakerFailures: try r.int("breaker_failures", table: t, key: venue), breakerOpenUntil: try r.int64("breaker_open_until", table: t, key: venue),
                             breakerTrialStartedAt: try r.int64("breaker_trial_started_at", table: t, key: venue),
                             breakerOpenings: try r.int("breaker_openings", table: t, key: venue), updatedAt: try r.int64("updated_at", table: t, key: venue))
    }

    public func updateVenueState<T>(venue: String, _ body: (inout VenueStateRow) throws -> T) throws -> T {
        var state = try venueState(venue: venue)
        let before = state
        let result = try body(&state)
        if state != before {
            let s = state
            try run("""
                INSERT INTO venue_state (venue, time_offset_ms, time_synced_at, used_weight, used_weight_minute, weight_limit, backoff_until,
                banned_until, ban_reason, breaker_state, breaker_failures, breaker_open_until, breaker_trial_started_at, breaker_openings, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                ON CONFLICT (venue) DO UPDATE SET time_offset_ms = excluded.time_offset_ms, time_synced_at = excluded.time_synced_at,
                used_weight = excluded.used_weight, used_weight_minute = excluded.used_weight_minute, weight_limit = excluded.weight_limit,
                backoff_until = excluded.backoff_until, banned_until = excluded.banned_until, ban_reason = excluded.ban_reason,
                breaker_state = excluded.breaker_state, breaker_failures = excluded.breaker_failures,
                breaker_open_until = excluded.breaker_open_until, breaker_trial_started_at = excluded.breaker_trial_started_at,
                breaker_openings = excluded.breaker_openings, updated_at = excluded.updated_at
                """, [.text(s.venue), .optional(s.timeOffsetMs), .optional(s.timeSyncedAt), .int(Int64(s.usedWeight)), .int(s.usedWeightMinute),
                      .optional(s.weightLimit.map(Int64.init)), .int(s.backoffUntil), .int(s.bannedUntil), .optional(s.banReason), .text(s.breakerState),
                      .int(Int64(s.breakerFailures)), .int(s.breakerOpenUntil), .int(s.breakerTrialStartedAt), .int(Int64(s.breakerOpenings)), .int(s.updatedAt)])
        }
        return result
    }

    public func venueSymbolFilters(venue: String, symbol: Symbol) throws -> VenueSymbolFiltersRow? {
        guard let r = try row("SELECT * FROM venue_symbol_filters WHERE venue = $1 AND symbol = $2", [.text(venue), .text(symbol.rawValue)]) else { return nil }
        let t = "venue_symbol_filters", key = symbol.rawValue
        // A cache: a missing number is as good as absent (the filters are fetched again). A maximum: NULL is no
        // limit (.some(nil)), an unreadable one is absent (nil).
        func limit<T: FixedPointValue>(_ column: String) -> T?? {
            do { return .some(try r.optionalFixed(column, table: t, key: key)) } catch { return .none }
        }
        guard let tick: Price = (try? r.optionalFixed("tick_size", table: t, key: key)) ?? nil,
              let step: Quantity = (try? r.optionalFixed("step_size", table: t, key: key)) ?? nil,
              let minQty: Quantity = (try? r.optionalFixed("min_qty", table: t, key: key)) ?? nil,
              let minNotional: Money = (try? r.optionalFixed("min_notional", table: t, key: key)) ?? nil,
              let maxQty: Quantity? = limit("max_qty"), let maxNotional: Money? = limit("max_notional") else { return nil }
        return VenueSymbolFiltersRow(venue: try r.text("venue", table: t, key: key), symbol: symbol, baseAsset: try r.text("base_asset", table: t, key: key),
                                     quoteAsset: try r.text("quote_asset", table: t, key: key), tickSize: tick, stepSize: step, minQty: minQty,
                                     minNotional: minNotional, maxQty: maxQty, maxNotional: maxNotional, fetchedAt: try r.int64("fetched_at", table: t, key: key))
    }

    public func removeVenueSymbolFilters(venue: String, symbol: Symbol) throws {
        try run("DELETE FROM venue_symbol_filters WHERE venue = $1 AND symbol = $2", [.text(venue), .text(symbol.rawValue)])
    }

    public func saveVenueSymbolFilters(_ f: VenueSymbolFiltersRow) throws {
        try run("""
            INSERT INTO venue_symbol_filters (venue, symbol, base_asset, quote_asset, tick_size, step_size, min_qty, min_notional,
                                              max_qty, max_notional, fetched_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (venue, symbol) DO UPDATE SET base_asset = excluded.base_asset, quote_asset = excluded.quote_asset,
            tick_size = excluded.tick_size, step_size = excluded.step_size, min_qty = excluded.min_qty,
            min_notional = excluded.min_notional, max_qty = excluded.max_qty, max_notional = excluded.max_notional,
            fetched_at = excluded.fetched_at
            """, [.text(f.venue), .text(f.symbol.rawValue), .text(f.baseAsset), .text(f.quoteAsset), .int(f.tickSize.raw), .int(f.stepSize.raw),
                  .int(f.minQty.raw), .int(f.minNotional.raw), f.maxQty.map { .int($0.raw) } ?? .null, f.maxNotional.map { .int($0.raw) } ?? .null,
                  .int(f.fetchedAt)])
    }

    // MARK: Language models

    public func llmBreakerOpenUntil(provider: String) throws -> Int64? {
        try row("SELECT open_until FROM llm_breakers WHERE provider = $1", [.text(provider)])?.int64("open_until", table: "llm_breakers", key: provider)
    }

    public func resetLLMBreakerFailures(provider: String) throws {
        try run("INSERT INTO llm_breakers (provider, consecutive_failures) VALUES ($1, 0) ON CONFLICT (provider) DO UPDATE SET consecutive_failures = 0",
                 [.text(provider)])
    }

    public func countLLMBreakerFailure(provider: String) throws -> Int {
        try row("""
            INSERT INTO llm_breakers (provider, consecutive_failures) VALUES ($1, 1)
            ON CONFLICT (provider) DO UPDATE SET consecutive_failures = llm_breakers.consecutive_failures + 1 RETURNING consecutive_failures
            """, [.text(provider)])?.int("consecutive_failures", table: "llm_breakers", key: provider) ?? 0
    }

    public func openLLMBreaker(provider: String, until: Int64) throws {
        try run("UPDATE llm_breakers SET open_until = $1, consecutive_failures = 0 WHERE provider = $2", [.int(until), .text(provider)])
    }

    public func newestLLMAnswer(cacheKey key: String, upTo: Int64, after: Int64) throws -> CachedLLMAnswer? {
        guard let r = try row("""
            SELECT id, action, confidence, horizon, rationale FROM llm_calls
            WHERE cache_key = $1 AND status = 'valid' AND NOT from_cache AND time <= $2 AND time > $3
            ORDER BY time DESC, id DESC LIMIT 1
            """, [.text(key), .int(upTo), .int(after)]) else { return nil }
        let t = "llm_calls"
        return CachedLLMAnswer(id: try r.int64("id", table: t), action: try r.optionalText("action", table: t), confidence: try r.optionalDouble("confidence", table: t),
                               horizon: try r.optionalText("horizon", table: t), rationale: try r.optionalText("rationale", table: t))
    }

    public func freshLLMCallCount(runID: Int64) throws -> Int {
        try row("SELECT COUNT(*) AS n FROM llm_calls WHERE run_id = $1 AND NOT from_cache", [.int(runID)])?.int("n", table: "llm_calls") ?? 0
    }

    public func llmTokens(from: Int64, to: Int64) throws -> Double {
        try row("""
            SELECT COALESCE(SUM(GREATEST(prompt_tokens, 0) + GREATEST(completion_tokens, 0)), 0)::DOUBLE PRECISION AS n FROM llm_calls WHERE time >= $1 AND time < $2
            """, [.int(from), .int(to)])?.double("n", table: "llm_calls") ?? 0
    }

    public func llmCosts(from: Int64, to: Int64) throws -> [Money] {
        try rows("SELECT cost FROM llm_calls WHERE time >= $1 AND time < $2", [.int(from), .int(to)]).map { Money(raw: try $0.int64("cost", table: "llm_calls")) }
    }

    public func insertLLMCall(_ c: LLMCallRecord) throws {
        try run("""
            INSERT INTO llm_calls (run_id, symbol, provider, model, cache_key, time, prompt, raw_reply, status, problem, action, confidence, horizon,
            rationale, latency_ms, prompt_tokens, completion_tokens, cost, from_cache, cached_from, base_url, usage_implausible)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
            """, [.int(c.runID), .text(c.symbol.rawValue), .text(c.provider), .text(c.model), .text(c.cacheKey), .int(c.time), .text(c.prompt),
                  .optional(c.rawReply), .text(c.status), .optional(c.problem), .optional(c.action), .optional(c.confidence), .optional(c.horizon),
                  .optional(c.rationale), .int(c.latencyMs), .int(Int64(c.promptTokens)), .int(Int64(c.completionTokens)), .int(c.cost.raw),
                  .bool(c.fromCache), .optional(c.cachedFrom), .text(c.baseURL), .bool(c.usageImplausible)])
    }

    public func saveLLMOpinion(runID: Int64, symbol: Symbol, time: Int64, outcome: String, action: String?, confidence: Double?,
                               agreement: Double?, technicalConfidence: Double?) throws {
        try run("""
            INSERT INTO llm_opinions (run_id, symbol, time, outcome, action, confidence, agreement, technical_confidence)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (run_id, symbol) DO UPDATE SET time = excluded.time, outcome = excluded.outcome, action = excluded.action,
            confidence = excluded.confidence, agreement = excluded.agreement, technical_confidence = excluded.technical_confidence
            """, [.int(runID), .text(symbol.rawValue), .int(time), .text(outcome), .optional(action), .optional(confidence), .optional(agreement),
                  .optional(technicalConfidence)])
    }
}

extension PostgresState: RecordStore {
    public func readRecords<T: Sendable>(_ body: @Sendable (any StateRecords) throws -> T) async throws -> T {
        try transaction(readOnly: true) { try body($0) }
    }
    public func writeRecords<T: Sendable>(_ body: @Sendable (any StateRecords) throws -> T) async throws -> T {
        try transaction(readOnly: false) { try body($0) }
    }
    public func readRecordsNow<T>(_ body: (any StateRecords) throws -> T) throws -> T { try transaction(readOnly: true) { try body($0) } }
    public func writeRecordsNow<T>(_ body: (any StateRecords) throws -> T) throws -> T { try transaction(readOnly: false) { try body($0) } }
}

/// What the commands read (`history`, `report`, `explain`, `analyze --symbol`), on PostgreSQL.
extension PostgresLedger {
    public func equityHistory() throws -> [EquityPoint] {
        try rows("SELECT time, equity, cash, safe_mode FROM equity ORDER BY time, run_id").map { r in
            EquityPoint(time: try r.int64("time", table: "equity"), equity: try r.fixed("equity", table: "equity", key: nil),
                        cash: try r.fixed("cash", table: "equity", key: nil), safeMode: try r.bool("safe_mode", table: "equity"))
        }
    }

    public func candles(symbol: Symbol, timeframe: Timeframe, from: Int64, to: Int64) throws -> [Candle] {
        try rows("""
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = $1 AND timeframe = $2 AND open_time >= $3 AND open_time <= $4
            ORDER BY open_time
            """, [.text(symbol.rawValue), .text(timeframe.name), .int(from), .int(to)]).map { r in
            Candle(openTime: try r.int64(at: 0, table: "candles"), open: try r.double(at: 1, table: "candles"), high: try r.double(at: 2, table: "candles"),
                   low: try r.double(at: 3, table: "candles"), close: try r.double(at: 4, table: "candles"), volume: try r.double(at: 5, table: "candles"))
        }
    }

    public func newestRunID() throws -> Int64? { try row("SELECT MAX(id) AS id FROM runs")?.optionalInt64("id", table: "runs") }

    public func events(runID: Int64) throws -> [EventRow] {
        try rows("SELECT * FROM events WHERE run_id = $1 ORDER BY id", [.int(runID)]).map(Self.event)
    }

    static func event(_ r: SQLRow) throws -> EventRow {
        let t = "events", id = try r.int64("id", table: t), key = "\(id)"
        return EventRow(id: id, runID: try r.optionalInt64("run_id", table: t, key: key), time: try r.int64("time", table: t, key: key),
                        kind: try r.enumValue("kind", table: t, key: key), symbol: try r.optionalText("symbol", table: t, key: key).map(Symbol.init(rawValue:)),
                        message: try r.text("message", table: t, key: key), data: try r.optionalText("data", table: t, key: key))
    }

    public func storedSignal(runID: Int64, symbol: Symbol) throws -> StoredSignal? {
        guard let s = try row("SELECT * FROM signals WHERE run_id = $1 AND symbol = $2", [.int(runID), .text(symbol.rawValue)]) else { return nil }
        let t = "signals"
        return StoredSignal(direction: try s.text("direction", table: t), confidence: try s.double("confidence", table: t), score: try s.double("score", table: t),
                            candleTime: try s.int64("candle_time", table: t), components: try s.optionalText("components", table: t),
                            patterns: try s.optionalText("patterns", table: t), opinion: try s.optionalText("opinion", table: t))
    }

    public func storedLLMOpinion(runID: Int64, symbol: Symbol) throws -> StoredLLMOpinion? {
        guard let o = try row("SELECT * FROM llm_opinions WHERE run_id = $1 AND symbol = $2", [.int(runID), .text(symbol.rawValue)]) else { return nil }
        let t = "llm_opinions"
        return StoredLLMOpinion(outcome: try o.text("outcome", table: t), action: try o.optionalText("action", table: t),
                                confidence: try o.optionalDouble("confidence", table: t), agreement: try o.optionalDouble("agreement", table: t))
    }

    public func storedLLMCalls(runID: Int64, symbol: Symbol) throws -> [StoredLLMCall] {
        try rows("SELECT * FROM llm_calls WHERE run_id = $1 AND symbol = $2 ORDER BY id", [.int(runID), .text(symbol.rawValue)]).map { c in
            let t = "llm_calls"
            return StoredLLMCall(provider: try c.text("provider", table: t), model: try c.optionalText("model", table: t), status: try c.text("status", table: t),
                                 cachedFrom: try c.optionalInt64("cached_from", table: t), fromCache: try c.bool("from_cache", table: t),
                                 action: try c.optionalText("action", table: t), confidence: try c.optionalDouble("confidence", table: t),
                                 problem: try c.optionalText("problem", table: t), latencyMs: try c.optionalInt64("latency_ms", table: t),
                                 promptTokens: try c.optionalInt64("prompt_tokens", table: t).map(Int.init),
                                 completionTokens: try c.optionalInt64("completion_tokens", table: t).map(Int.init),
                                 usageImplausible: try c.bool("usage_implausible", table: t), cost: try c.optionalFixed("cost", table: t, key: nil),
                                 rationale: try c.optionalText("rationale", table: t))
        }
    }

    public func llmCallTime(id: Int64) throws -> Int64? {
        try row("SELECT time FROM llm_calls WHERE id = $1", [.int(id)])?.int64("time", table: "llm_calls")
    }
}
