import Foundation
import TradingDomain

/// What the operations around the cycle keep beside the ledger, in the same transaction: the notifications outbox,
/// a venue's request-limit, ban and breaker state and its cached symbol filters (Binance), the language models' calls,
/// opinions and breakers. `SQLiteLedger` and the PostgreSQL ledger implement it; the notifier, the Binance client and
/// the LLM step are written against it only.
public protocol StateRecords: Ledger {
    // MARK: Notifications
    /// The events after event `id`, oldest first.
    func events(after id: Int64) throws -> [EventRow]
    /// Queues a notification unless one with `key` exists already.
    func queueNotification(key: String, kind: String, message: String, createdAt: Int64) throws
    /// The notifications not yet delivered that were tried fewer than `maxAttempts` runs, oldest first.
    func undeliveredNotifications(maxAttempts: Int) throws -> [PendingNotification]
    /// Records one delivery attempt: the channels that delivered at `now`, and either the failure or the delivery.
    func recordNotificationAttempt(key: String, webhookSent: Bool, telegramSent: Bool, failure: String?, now: Int64) throws

    // MARK: Venue
    /// `venue`'s state (a fresh one when none is stored).
    func venueState(venue: String) throws -> VenueStateRow
    /// Reads `venue`'s state, lets `body` change it, and saves it when it changed (in the caller's transaction).
    func updateVenueState<T>(venue: String, _ body: (inout VenueStateRow) throws -> T) throws -> T
    /// The cached filters of `symbol` on `venue` (a row missing a number counts as absent).
    func venueSymbolFilters(venue: String, symbol: Symbol) throws -> VenueSymbolFiltersRow?
    func removeVenueSymbolFilters(venue: String, symbol: Symbol) throws
    func saveVenueSymbolFilters(_ f: VenueSymbolFiltersRow) throws

    // MARK: Language models
    func llmBreakerOpenUntil(provider: String) throws -> Int64?
    func resetLLMBreakerFailures(provider: String) throws
    /// Counts a failed call and returns `provider`'s consecutive failures.
    func countLLMBreakerFailure(provider: String) throws -> Int
    func openLLMBreaker(provider: String, until: Int64) throws
    /// The newest valid answer the model itself gave for `key` (never a replay) made in `(after, upTo]`.
    func newestLLMAnswer(cacheKey key: String, upTo: Int64, after: Int64) throws -> CachedLLMAnswer?
    func freshLLMCallCount(runID: Int64) throws -> Int
    /// Tokens charged for the calls made in `[from, to)` (negative counts as nothing).
    func llmTokens(from: Int64, to: Int64) throws -> Double
    func llmCosts(from: Int64, to: Int64) throws -> [Money]
    func insertLLMCall(_ c: LLMCallRecord) throws
    func saveLLMOpinion(runID: Int64, symbol: Symbol, time: Int64, outcome: String, action: String?, confidence: Double?,
                        agreement: Double?, technicalConfidence: Double?) throws

    // MARK: What the commands read (`history`, `report`, `explain`, `analyze --symbol`)
    /// The whole equity curve, oldest first.
    func equityHistory() throws -> [EquityPoint]
    /// The candles of `symbol` with open times in `from...to`, oldest first.
    func candles(symbol: Symbol, timeframe: Timeframe, from: Int64, to: Int64) throws -> [Candle]
    func newestRunID() throws -> Int64?
    /// The events of run `runID`, oldest first.
    func events(runID: Int64) throws -> [EventRow]
    func storedSignal(runID: Int64, symbol: Symbol) throws -> StoredSignal?
    func storedLLMOpinion(runID: Int64, symbol: Symbol) throws -> StoredLLMOpinion?
    /// The model calls made for `symbol` in run `runID`, in the order they were recorded.
    func storedLLMCalls(runID: Int64, symbol: Symbol) throws -> [StoredLLMCall]
    func llmCallTime(id: Int64) throws -> Int64?
}

/// A state whose `StateRecords` other modules use, one transaction per call (SQLite's `StateDatabase`, the
/// PostgreSQL state).
public protocol RecordStore: Sendable {
    func readRecords<T: Sendable>(_ body: @Sendable (any StateRecords) throws -> T) async throws -> T
    func writeRecords<T: Sendable>(_ body: @Sendable (any StateRecords) throws -> T) async throws -> T
    func readRecordsNow<T>(_ body: (any StateRecords) throws -> T) throws -> T
    func writeRecordsNow<T>(_ body: (any StateRecords) throws -> T) throws -> T
}

extension SQLiteLedger: StateRecords {}

extension StateDatabase: RecordStore {
    public func readRecords<T: Sendable>(_ body: @Sendable (any StateRecords) throws -> T) async throws -> T {
        try await read { (ledger: SQLiteLedger) in try body(ledger) }
    }
    public func writeRecords<T: Sendable>(_ body: @Sendable (any StateRecords) throws -> T) async throws -> T {
        try await write { (ledger: SQLiteLedger) in try body(ledger) }
    }
    public func readRecordsNow<T>(_ body: (any StateRecords) throws -> T) throws -> T { try read { (ledger: SQLiteLedger) in try body(ledger) } }
    public func writeRecordsNow<T>(_ body: (any StateRecords) throws -> T) throws -> T { try write { (ledger: SQLiteLedger) in try body(ledger) } }
}
