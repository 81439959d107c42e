import Foundation
import GRDB
import TradingDomain

/// One venue's persisted request-limit, ban, breaker and clock state (a row of `venue_state`).
/// Times are milliseconds since 1970 UTC on the local clock, except `usedWeightMinute`, which is the
/// venue's (server-time) minute number the weight was counted in.
public struct VenueStateRow: Sendable, Equatable {
    public var venue: String
    /// Server time minus local time, as last measured.
    public var timeOffsetMs: Int64?
    /// When the offset was measured (local clock).
    public var timeSyncedAt: Int64?
    /// Request weight used in `usedWeightMinute` (from `X-MBX-USED-WEIGHT-1M`, plus reservations).
    public var usedWeight: Int
    /// Server-time minute number (`serverMs / 60_000`) of `usedWeight`.
    public var usedWeightMinute: Int64
    /// The REQUEST_WEIGHT limit per minute from exchangeInfo, when known.
    public var weightLimit: Int?
    /// No request before this time (after a 429's Retry-After).
    public var backoffUntil: Int64
    /// The venue banned this IP until this time (418 / -1003): no request at all before it.
    public var bannedUntil: Int64
    /// The venue's message with the ban.
    public var banReason: String?
    /// `closed`, `open` or `half_open`.
    public var breakerState: String
    /// Consecutive failures counted by the breaker.
    public var breakerFailures: Int
    /// While `open`, requests are refused until this time.
    public var breakerOpenUntil: Int64
    /// While `half_open`, when the trial request started.
    public var breakerTrialStartedAt: Int64
    /// How many times the breaker has opened, ever.
    public var breakerOpenings: Int
    public var updatedAt: Int64

    public init(venue: String, timeOffsetMs: Int64? = nil, timeSyncedAt: Int64? = nil, usedWeight: Int = 0, usedWeightMinute: Int64 = 0,
                weightLimit: Int? = nil, backoffUntil: Int64 = 0, bannedUntil: Int64 = 0, banReason: String? = nil,
                breakerState: String = "closed", breakerFailures: Int = 0, breakerOpenUntil: Int64 = 0, breakerTrialStartedAt: Int64 = 0,
                breakerOpenings: Int = 0, updatedAt: Int64 = 0) {
        self.venue = venue
        self.timeOffsetMs = timeOffsetMs
        self.timeSyncedAt = timeSyncedAt
        self.usedWeight = usedWeight
        self.usedWeightMinute = usedWeightMinute
        self.weightLimit = weightLimit
        self.backoffUntil = backoffUntil
        self.bannedUntil = bannedUntil
        self.banReason = banReason
        self.breakerState = breakerState
        self.breakerFailures = breakerFailures
        self.breakerOpenUntil = breakerOpenUntil
        self.breakerTrialStartedAt = breakerTrialStartedAt
        self.breakerOpenings = breakerOpenings
        self.updatedAt = updatedAt
    }
}

/// The `venue_state` table: one row per venue key.
public enum VenueStates {
    /// The venue's state; a fresh default row (not yet stored) when there is none.
    public static func get(_ db: Database, venue: String) throws -> VenueStateRow {
        guard let r = try Row.fetchOne(db, sql: "SELECT * FROM venue_state WHERE venue = ?", arguments: [venue]) else {
            return VenueStateRow(venue: venue)
        }
        return VenueStateRow(venue: (try r.decoded("venue", table: "venue_state")), timeOffsetMs: (try r.decoded("time_offset_ms", table: "venue_state")), timeSyncedAt: (try r.decoded("time_synced_at", table: "venue_state")),
                             usedWeight: (try r.decoded("used_weight", table: "venue_state")), usedWeightMinute: (try r.decoded("used_weight_minute", table: "venue_state")), weightLimit: (try r.decoded("weight_limit", table: "venue_state")),
                             backoffUntil: (try r.decoded("backoff_until", table: "venue_state")), bannedUntil: (try r.decoded("banned_until", table: "venue_state")), banReason: (try r.decoded("ban_reason", table: "venue_state")),
                             breakerState: (try r.decoded("breaker_state", table: "venue_state")), breakerFailures: (try r.decoded("breaker_failures", table: "venue_state")), breakerOpenUntil: (try r.decoded("breaker_open_until", table: "venue_state")),
                             breakerTrialStartedAt: (try r.decoded("breaker_trial_started_at", table: "venue_state")), breakerOpenings: (try r.decoded("breaker_openings", table: "venue_state")),
                             updatedAt: (try r.decoded("updated_at", table: "venue_state")))
    }

    /// Inserts or replaces the venue's row.
    public static func save(_ db: Database, _ s: VenueStateRow) throws {
        try db.execute(sql: """
            INSERT INTO venue_state (venue, time_offset_ms, time_synced_at, used_weight, used_weight_minute, weight_limit, backoff_until,
            banned_until, ban_reason, breaker_state, breaker_failures, breaker_open_until, breaker_trial_started_at, breaker_openings, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(venue) DO UPDATE SET time_offset_ms = excluded.time_offset_ms, time_synced_at = excluded.time_synced_at,
            used_weight = excluded.used_weight, used_weight_minute = excluded.used_weight_minute, weight_limit = excluded.weight_limit,
            backoff_until = excluded.backoff_until, banned_until = excluded.banned_until, ban_reason = excluded.ban_reason,
            breaker_state = excluded.breaker_state, breaker_failures = excluded.breaker_failures,
            breaker_open_until = excluded.breaker_open_until, breaker_trial_started_at = excluded.breaker_trial_started_at,
            breaker_openings = excluded.breaker_openings, updated_at = excluded.updated_at
            """, arguments: [s.venue, s.timeOffsetMs, s.timeSyncedAt, s.usedWeight, s.usedWeightMinute, s.weightLimit, s.backoffUntil,
                             s.bannedUntil, s.banReason, s.breakerState, s.breakerFailures, s.breakerOpenUntil, s.breakerTrialStartedAt,
                             s.breakerOpenings, s.updatedAt])
    }

    /// Reads, changes and saves the venue's row in the caller's transaction; returns what `body` returns.
    public static func update<T>(_ db: Database, venue: String, _ body: (inout VenueStateRow) throws -> T) throws -> T {
        var state = try get(db, venue: venue)
        let before = state
        let result = try body(&state)
        if state != before { try save(db, state) }
        return result
    }

    /// Breaker openings summed over every venue (for the cycle's error-rate protection).
    public static func totalBreakerOpenings(_ db: Database) throws -> Int {
        try firstValue(db.cachedStatement(sql: "SELECT COALESCE(SUM(breaker_openings), 0) FROM venue_state"), table: "venue_state", column: "breaker_openings") ?? 0
    }
}

/// A venue's exchange filters for one symbol as cached in `venue_symbol_filters` (money as decimal text).
public struct VenueSymbolFiltersRow: Sendable, Equatable {
    public var venue: String
    public var symbol: Symbol
    public var baseAsset: String
    public var quoteAsset: String
    public var tickSize: Price
    public var stepSize: Quantity
    public var minQty: Quantity
    public var minNotional: Money
    /// The largest quantity and notional of one market order (nil: no limit).
    public var maxQty: Quantity?
    public var maxNotional: Money?
    /// When they were fetched (local clock, ms).
    public var fetchedAt: Int64

    public init(venue: String, symbol: Symbol, baseAsset: String, quoteAsset: String, tickSize: Price, stepSize: Quantity,
                minQty: Quantity, minNotional: Money, maxQty: Quantity? = nil, maxNotional: Money? = nil, fetchedAt: Int64) {
        self.venue = venue
        self.symbol = symbol
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQty = minQty
        self.minNotional = minNotional
        self.maxQty = maxQty
        self.maxNotional = maxNotional
        self.fetchedAt = fetchedAt
    }
}

/// The `venue_symbol_filters` cache of exchange filters.
public enum VenueSymbolFilters {
    /// The cached filters of `symbol`, or nil. A row with a missing number is treated as absent.
    public static func get(_ db: Database, venue: String, symbol: Symbol) throws -> VenueSymbolFiltersRow? {
        guard let r = try Row.fetchOne(db, sql: "SELECT * FROM venue_symbol_filters WHERE venue = ? AND symbol = ?",
                                       arguments: [venue, symbol]) else { return nil }
        // A cache: a value that is not an integer count is as good as absent (the filters are fetched again).
        func cached<T: FixedPointValue>(_ column: String) -> T? { (try? optionalFixed(r, column)) ?? nil }
        // A maximum: NULL is no limit (.some(nil)); an unreadable one is absent (nil).
        func limit<T: FixedPointValue>(_ column: String) -> T?? {
            do { return .some(try optionalFixed(r, column)) } catch { return .none }
        }
        guard let tick: Price = cached("tick_size"), let step: Quantity = cached("step_size"),
              let minQty: Quantity = cached("min_qty"), let minNotional: Money = cached("min_notional"),
              let maxQty: Quantity? = limit("max_qty"), let maxNotional: Money? = limit("max_notional") else { return nil }
        return VenueSymbolFiltersRow(venue: (try r.decoded("venue", table: "venue_symbol_filters")), symbol: (try r.decoded("symbol", table: "venue_symbol_filters")), baseAsset: (try r.decoded("base_asset", table: "venue_symbol_filters")), quoteAsset: (try r.decoded("quote_asset", table: "venue_symbol_filters")),
                                     tickSize: tick, stepSize: step, minQty: minQty, minNotional: minNotional, maxQty: maxQty, maxNotional: maxNotional,
                                     fetchedAt: (try r.decoded("fetched_at", table: "venue_symbol_filters")))
    }

    /// Drops the cached filters of `symbol` (the venue refused an order on a filter: they changed).
    public static func remove(_ db: Database, venue: String, symbol: Symbol) throws {
        try db.execute(sql: "DELETE FROM venue_symbol_filters WHERE venue = ? AND symbol = ?", arguments: [venue, symbol])
    }

    public static func upsert(_ db: Database, _ f: VenueSymbolFiltersRow) throws {
        try db.execute(sql: """
            INSERT INTO venue_symbol_filters (venue, symbol, base_asset, quote_asset, tick_size, step_size, min_qty, min_notional,
                                              max_qty, max_notional, fetched_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(venue, symbol) DO UPDATE SET base_asset = excluded.base_asset, quote_asset = excluded.quote_asset,
            tick_size = excluded.tick_size, step_size = excluded.step_size, min_qty = excluded.min_qty,
            min_notional = excluded.min_notional, max_qty = excluded.max_qty, max_notional = excluded.max_notional,
            fetched_at = excluded.fetched_at
            """, arguments: [f.venue, f.symbol, f.baseAsset, f.quoteAsset, f.tickSize.raw, f.stepSize.raw,
                             f.minQty.raw, f.minNotional.raw, f.maxQty?.raw, f.maxNotional?.raw, f.fetchedAt])
    }
}
