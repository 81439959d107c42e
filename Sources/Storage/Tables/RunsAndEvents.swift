import Foundation
import GRDB
import TradingDomain

/// A row of the `runs` table: one invocation of the cycle.
public struct RunRow: Sendable, Equatable, Codable {
    public var id: Int64
    public var startedAt: Int64
    public var endedAt: Int64?
    public var outcome: RunOutcome
    public var configHash: String
    public var volatility: Double?
    public var intervalSeconds: Int64?
    public var intervalReason: String?
    public var nextRunAt: Int64?
    public var symbolsAnalysed: Int
    public var symbolsFailed: String
    public var summary: String?

    public init(id: Int64, startedAt: Int64, endedAt: Int64?, outcome: RunOutcome, configHash: String, volatility: Double?, intervalSeconds: Int64?,
                intervalReason: String?, nextRunAt: Int64?, symbolsAnalysed: Int, symbolsFailed: String, summary: String?) {
        self.id = id
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.configHash = configHash
        self.volatility = volatility
        self.intervalSeconds = intervalSeconds
        self.intervalReason = intervalReason
        self.nextRunAt = nextRunAt
        self.symbolsAnalysed = symbolsAnalysed
        self.symbolsFailed = symbolsFailed
        self.summary = summary
    }
}

/// The `runs` table.
public enum Runs {
    public static func start(_ db: Database, startedAt: Int64, configHash: String) throws -> Int64 {
        try db.cachedStatement(sql: "INSERT INTO runs (started_at, config_hash, outcome) VALUES (?, ?, ?)").execute(arguments: [startedAt, configHash, RunOutcome.running.rawValue])
        return db.lastInsertedRowID
    }

    public static func finish(_ db: Database, id: Int64, endedAt: Int64, outcome: RunOutcome, volatility: Double?, next: (seconds: Int64, reason: String, at: Int64)?,
                              symbolsAnalysed: Int, symbolsFailed: [Symbol], summary: String) throws {
        try db.cachedStatement(sql: """
            UPDATE runs SET ended_at = ?, outcome = ?, volatility = ?, interval_seconds = ?, interval_reason = ?, next_run_at = ?,
            symbols_analysed = ?, symbols_failed = ?, summary = ? WHERE id = ?
            """).execute(arguments: [endedAt, outcome.rawValue, volatility, next?.seconds, next?.reason, next?.at, symbolsAnalysed,
                             symbolsFailed.map(\.rawValue).joined(separator: ","), summary, id])
    }

    /// Marks runs that never finished (their process died) as `crashed`; returns their ids.
    public static func markAbandoned(_ db: Database, endedAt: Int64) throws -> [Int64] {
        let ids: [Int64] = try firstColumn(db.cachedStatement(sql: "SELECT id FROM runs WHERE ended_at IS NULL"), table: "runs", column: "id")
        try db.cachedStatement(sql: "UPDATE runs SET ended_at = ?, outcome = ? WHERE ended_at IS NULL").execute(arguments: [endedAt, RunOutcome.crashed.rawValue])
        return ids
    }

    static func row(_ r: Row) throws -> RunRow {
        let id: Int64 = (try r.decoded("id", table: "runs"))
        return RunRow(id: id, startedAt: (try r.decoded("started_at", table: "runs")), endedAt: (try r.decoded("ended_at", table: "runs")), outcome: try decodeEnum(r, "outcome", table: "runs", key: "\(id)"), configHash: (try r.decoded("config_hash", table: "runs")),
               volatility: (try r.decoded("volatility", table: "runs")), intervalSeconds: (try r.decoded("interval_seconds", table: "runs")), intervalReason: (try r.decoded("interval_reason", table: "runs")),
               nextRunAt: (try r.decoded("next_run_at", table: "runs")), symbolsAnalysed: (try r.decoded("symbols_analysed", table: "runs")), symbolsFailed: (try r.decoded("symbols_failed", table: "runs")), summary: (try r.decoded("summary", table: "runs")))
    }

    /// The newest run, finished or not (excluding `except`).
    public static func last(_ db: Database, except: Int64? = nil) throws -> RunRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM runs WHERE id != ? ORDER BY id DESC LIMIT 1"), arguments: [except ?? -1]).map(row)
    }

    /// The newest finished run that chose a next run time.
    public static func lastScheduled(_ db: Database) throws -> RunRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM runs WHERE next_run_at IS NOT NULL ORDER BY id DESC LIMIT 1")).map(row)
    }

    /// Consecutive failed runs counted back from the newest finished one: a run that failed or crashed, or
    /// one whose market source failed for every symbol. Interrupted runs are skipped; any other run ends the streak.
    public static func consecutiveFailures(_ db: Database) throws -> Int {
        let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT outcome, symbols_analysed FROM runs WHERE ended_at IS NOT NULL ORDER BY id DESC LIMIT 100"))
        var count = 0
        for row in rows {
            let outcome: RunOutcome = try decodeEnum(row, "outcome", table: "runs", key: nil)
            let analysed: Int = (try row.decoded("symbols_analysed", table: "runs"))
            if outcome == .failed || outcome == .crashed || (outcome == .partial && analysed == 0) { count += 1 }
            else if outcome == .interrupted { continue }
            else { break }
        }
        return count
    }

    /// Runs per chosen interval (for reports).
    public static func countByInterval(_ db: Database) throws -> [Int64: Int] {
        var result: [Int64: Int] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT interval_seconds, COUNT(*) AS n FROM runs WHERE interval_seconds IS NOT NULL GROUP BY interval_seconds")) {
            result[(try row.decoded("interval_seconds", table: "runs"))] = (try row.decoded("n", table: "runs"))
        }
        return result
    }
}

/// A row of the append-only `events` table.
public struct EventRow: Sendable, Equatable, Codable {
    public var id: Int64
    public var runID: Int64?
    public var time: Int64
    public var kind: EventKind
    public var symbol: Symbol?
    public var message: String
    /// The event's facts as a JSON object of strings (see `fields`).
    public var data: String?

    public init(id: Int64, runID: Int64?, time: Int64, kind: EventKind, symbol: Symbol?, message: String, data: String?) {
        self.id = id
        self.runID = runID
        self.time = time
        self.kind = kind
        self.symbol = symbol
        self.message = message
        self.data = data
    }

    /// The event's data decoded (empty without data); data that is not a JSON object of strings is a `CorruptRow`.
    public func fields() throws -> [String: String] {
        guard let data else { return [:] }
        guard let decoded = try? JSONDecoder().decode([String: String].self, from: Data(data.utf8)) else {
            throw CorruptRow(table: "events", column: "data", key: "\(id)", value: MessageText.shortened(data), expected: "a JSON object of strings")
        }
        return decoded
    }
}

/// The append-only `events` table: every decision, order, fill, lifecycle transition and error, with the run id.
public enum Events {
    public static func append(_ db: Database, runID: Int64?, time: Int64, kind: EventKind, symbol: Symbol? = nil, message: String, data: [String: String]? = nil) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO events (run_id, time, kind, symbol, message, data) VALUES (?, ?, ?, ?, ?, ?)")
        try statement.execute(arguments: [runID, time, kind.rawValue, symbol, message, data.map(CompactJSON.object)])
    }

    public static func forRun(_ db: Database, runID: Int64) throws -> [EventRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM events WHERE run_id = ? ORDER BY id"), arguments: [runID]).map(row)
    }

    public static func ofKind(_ db: Database, _ kind: EventKind, since: Int64 = 0) throws -> [EventRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM events WHERE kind = ? AND time >= ? ORDER BY id"), arguments: [kind.rawValue, since]).map(row)
    }

    public static func since(_ db: Database, id: Int64) throws -> [EventRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM events WHERE id > ? ORDER BY id"), arguments: [id]).map(row)
    }

    static func row(_ r: Row) throws -> EventRow {
        let id: Int64 = (try r.decoded("id", table: "events"))
        return EventRow(id: id, runID: (try r.decoded("run_id", table: "events")), time: (try r.decoded("time", table: "events")), kind: try decodeEnum(r, "kind", table: "events", key: "\(id)"), symbol: (try r.decoded("symbol", table: "events")), message: (try r.decoded("message", table: "events")), data: (try r.decoded("data", table: "events")))
    }
}

/// The `job_state` key–value table: persisted facts such as the equity peak, entry blocks and the job's state.
public enum JobState {
    public static func get(_ db: Database, _ key: String) throws -> String? {
        try firstValue(db.cachedStatement(sql: "SELECT value FROM job_state WHERE key = ?"), arguments: [key], table: "job_state", column: "value")
    }

    public static func set(_ db: Database, _ key: String, _ value: String) throws {
        try db.cachedStatement(sql: "INSERT INTO job_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").execute(arguments: [key, value])
    }

    /// The job's state (`job.state`); nil before the first run, a `CorruptRow` for a value no version writes.
    public static func status(_ db: Database) throws -> JobStatus? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT value FROM job_state WHERE key = ?"), arguments: [JobStatus.key])
            .map { try decodeEnum($0, "value", table: "job_state", key: JobStatus.key) }
    }

    public static func remove(_ db: Database, _ key: String) throws {
        try db.cachedStatement(sql: "DELETE FROM job_state WHERE key = ?").execute(arguments: [key])
    }

    public static func all(_ db: Database, prefix: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT key, value FROM job_state WHERE key LIKE ?"), arguments: [prefix + "%"]) {
            result[(try row.decoded("key", table: "job_state"))] = (try row.decoded("value", table: "job_state"))
        }
        return result
    }
}

/// The `counters` table: counters that must be monotonic across processes (metrics `_total`).
public enum Counters {
    public static func add(_ db: Database, _ name: String, _ amount: Double) throws {
        try db.cachedStatement(sql: "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value").execute(arguments: [name, amount])
    }

    public static func all(_ db: Database) throws -> [String: Double] {
        var result: [String: Double] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT name, value FROM counters")) { result[(try row.decoded("name", table: "counters"))] = (try row.decoded("value", table: "counters")) }
        return result
    }
}
