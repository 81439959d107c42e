import Foundation
import Settings
import Storage
import TradingDomain

/// One account's state on PostgreSQL, opened for one cycle or command: a single connection whose `search_path` is
/// the account's schema, migrated on open. It is the `StateStore` the cycle runs on (one transaction per `read` or
/// `write`, one at a time), holds the run lock (a session advisory lock) and keeps the state directory's small files
/// (`next_run`, `safe_mode.lock`) as rows of `state_files`.
public final class PostgresState: StateStore, @unchecked Sendable {
    public let address: PostgresAddress
    let session: PostgresSession
    let lock = NSLock()
    /// Migrations applied by this open (empty when the schema was current).
    public let appliedMigrations: [String]

    /// Connects, creates or migrates the account's schema and sets the session's `search_path` to it. `upgrades`
    /// false: an existing schema that lacks migrations is refused, not upgraded (`PostgresSchema.migrate`).
    public init(address: PostgresAddress, password: String?, now: Int64, connectTimeoutSeconds: Int64 = 10, upgrades: Bool = true) throws {
        self.address = address
        session = try PostgresSession.connect(address, password: password, timeoutSeconds: connectTimeoutSeconds,
                                              applicationName: "tradejob:" + address.account)
        do {
            appliedMigrations = try PostgresSchema.migrate(session, schema: address.schema, account: address.account, now: now, upgrades: upgrades)
            try session.execute("SET search_path TO \(PostgresSchema.quoteIdentifier(address.schema))")
        } catch {
            session.close()
            throw error
        }
    }

    /// Closes the connection: the run lock, if held, goes with it.
    public func close() { lock.withLock { session.close() } }

    // MARK: StateStore

    public var keepsAudit: Bool { true }

    public func read<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        try transaction(readOnly: true) { try body($0) }
    }

    public func write<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        try transaction(readOnly: false) { try body($0) }
    }

    public func writeNow<T>(_ body: (any Ledger) throws -> T) throws -> T {
        try transaction(readOnly: false, body)
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws). Statements wait for
    /// their answers on the calling thread, one transaction at a time.
    public func transaction<T>(readOnly: Bool, _ body: (PostgresLedger) throws -> T) throws -> T {
        try lock.withLock {
            // A read sees one snapshot of the state, as SQLite's read transactions do (a cycle's commit between two
            // of its statements would otherwise show a position sold and its proceeds both).
            try session.execute(readOnly ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN")
            let value: T
            do {
                value = try body(PostgresLedger(session))
            } catch {
                try? session.execute("ROLLBACK")
                throw error
            }
            try session.execute("COMMIT")
            if !readOnly { CommitFailpoint.countCommit() }
            return value
        }
    }

    // MARK: Run lock

    /// The advisory-lock key of this account: 64 bits of FNV-1a over `tradejob:<schema>` (the same for every process
    /// and version).
    public var runLockKey: Int64 { Self.lockKey("tradejob:" + address.schema) }

    static func lockKey(_ text: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: hash)
    }

    /// Takes the account's run lock for this connection's life (`pg_try_advisory_lock`); false when another session
    /// holds it. The server releases it when the connection ends, however the process ends.
    public func tryRunLock() throws -> Bool {
        try lock.withLock {
            try session.query("SELECT pg_try_advisory_lock($1) AS taken", [.int(runLockKey)]).first?.bool("taken", table: "pg_try_advisory_lock") ?? false
        }
    }

    /// How `pg_locks` shows a bigint advisory key: its high and low 32 bits as `classid` and `objid`, `objsubid` 1.
    var runLockKeyParts: (classid: Int64, objid: Int64) {
        (Int64(UInt64(bitPattern: runLockKey) >> 32), Int64(UInt64(bitPattern: runLockKey) & 0xffff_ffff))
    }

    /// Whether some session holds this account's run lock now (for `status`).
    public func runLockHeld() throws -> Bool {
        try lock.withLock {
            let (classid, objid) = runLockKeyParts
            return try session.query("""
                SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::BIGINT::OID AND objid = $2::BIGINT::OID AND objsubid = 1 AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, [.int(classid), .int(objid)]).first?.int("n", table: "pg_locks") ?? 0 > 0
        }
    }

    // MARK: State files

    /// The row `name` of `state_files` (nil when there is none).
    public func file(_ name: String) throws -> String? {
        try lock.withLock {
            try session.query("SELECT content FROM state_files WHERE name = $1", [.text(name)]).first?.text("content", table: "state_files", key: name)
        }
    }

    /// Writes the row `name` (its own transaction).
    public func setFile(_ name: String, _ content: String, now: Int64) throws {
        try transaction(readOnly: false) { ledger in
            try ledger.run("""
                INSERT INTO state_files (name, content, updated_at) VALUES ($1, $2, $3)
                ON CONFLICT (name) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at
                """, [.text(name), .text(content), .int(now)])
        }
    }

    public func removeFile(_ name: String) throws {
        try transaction(readOnly: false) { ledger in try ledger.run("DELETE FROM state_files WHERE name = $1", [.text(name)]) }
    }

    // MARK: Counters and job state for commands

    public func addToCounters(_ amounts: [(String, Double)]) throws -> [String: Double] {
        try transaction(readOnly: false) { ledger in
            for (name, amount) in amounts {
                try ledger.session.query("INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
                                         [.text(name), .double(amount)])
            }
            var all: [String: Double] = [:]
            for r in try ledger.session.query("SELECT name, value FROM counters") { all[try r.text("name", table: "counters")] = try r.double("value", table: "counters") }
            return all
        }
    }

    /// The accounts registered in this database (`public.tradejob_accounts`), by name.
    public func accounts() throws -> [String] {
        try lock.withLock {
            try session.query("SELECT account FROM public.tradejob_accounts ORDER BY account").map { try $0.text("account", table: "tradejob_accounts") }
        }
    }
}

extension PostgresState {
    /// Drops another account's schema and registration (tests, and `tradejob` never on its own account's run).
    public func dropAccount(_ account: String) throws {
        guard PostgresAddress.isValidAccount(account) else { throw PostgresStateError(message: "not an account name: \(account)") }
        try lock.withLock {
            try session.execute("DROP SCHEMA IF EXISTS \(PostgresSchema.quoteIdentifier("tradejob_" + account)) CASCADE")
            try session.query("DELETE FROM public.tradejob_accounts WHERE account = $1", [.text(account)])
        }
    }
}

extension PostgresState {
    /// The fee assets of the recorded fills (the state compatibility check).
    public func feeAssets() throws -> [String] {
        try lock.withLock { try session.query("SELECT DISTINCT fee_asset FROM fills ORDER BY fee_asset").map { try $0.text("fee_asset", table: "fills") } }
    }

    /// When the newest run that chose one said the next run is due (the schedule `--if-due` reads), nil before any.
    public func nextRunAt() throws -> Int64? {
        try lock.withLock {
            try session.query("SELECT next_run_at FROM runs WHERE next_run_at IS NOT NULL ORDER BY id DESC LIMIT 1").first?.optionalInt64("next_run_at", table: "runs")
        }
    }

    /// Who holds this account's run lock: the server process, its application name, client address and since when.
    public func runLockHolder() -> String {
        let (classid, objid) = runLockKeyParts
        let found = try? lock.withLock {
            try session.query("""
                SELECT a.pid::BIGINT AS pid, COALESCE(a.application_name, '') AS app, COALESCE(host(a.client_addr), 'local') AS client,
                (EXTRACT(EPOCH FROM a.backend_start) * 1000)::BIGINT AS since
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.classid = $1::BIGINT::OID AND l.objid = $2::BIGINT::OID AND l.objsubid = 1 AND l.granted
                AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, [.int(classid), .int(objid)]).first
        }
        guard let row = found ?? nil, let pid = try? row.int64("pid", table: "pg_stat_activity") else { return "holder unknown" }
        let app = (try? row.text("app", table: "pg_stat_activity")) ?? "", client = (try? row.text("client", table: "pg_stat_activity")) ?? ""
        let since = (try? row.int64("since", table: "pg_stat_activity")).map { " since \(Timestamp.rfc3339($0))" } ?? ""
        return "server process \(pid), \(app.isEmpty ? "no application name" : app), client \(client)\(since)"
    }
}

/// Another session holds the account's run lock (exit 75).
public struct PostgresRunLockHeld: Error, CustomStringConvertible {
    public let account: String
    public let target: String
    public let holder: String
    public init(account: String, target: String, holder: String) {
        self.account = account
        self.target = target
        self.holder = holder
    }
    public var description: String { "another tradejob cycle holds the run lock of account \(account) on \(target) (\(holder)); exiting" }
}

extension PostgresState {
    static func run(_ r: SQLRow) throws -> RunRow {
        let t = "runs", id = try r.int64("id", table: t), key = "\(id)"
        return RunRow(id: id, startedAt: try r.int64("started_at", table: t, key: key), endedAt: try r.optionalInt64("ended_at", table: t, key: key),
                      outcome: try r.enumValue("outcome", table: t, key: key), configHash: try r.text("config_hash", table: t, key: key),
                      volatility: try r.optionalDouble("volatility", table: t, key: key), intervalSeconds: try r.optionalInt64("interval_seconds", table: t, key: key),
                      intervalReason: try r.optionalText("interval_reason", table: t, key: key), nextRunAt: try r.optionalInt64("next_run_at", table: t, key: key),
                      symbolsAnalysed: try r.int("symbols_analysed", table: t, key: key), symbolsFailed: try r.text("symbols_failed", table: t, key: key),
                      summary: try r.optionalText("summary", table: t, key: key))
    }

    /// The newest run.
    public func lastRun() throws -> RunRow? {
        try lock.withLock { try session.query("SELECT * FROM runs ORDER BY id DESC LIMIT 1").first.map(Self.run) }
    }

    /// The newest run that chose a next run.
    public func lastScheduledRun() throws -> RunRow? {
        try lock.withLock { try session.query("SELECT * FROM runs WHERE next_run_at IS NOT NULL ORDER BY id DESC LIMIT 1").first.map(Self.run) }
    }

    /// Opens another account of the same database on its own connection (`status --all`).
    public func openAccount(_ account: String, password: String?, now: Int64, upgrades: Bool = true) throws -> PostgresState {
        var other = address
        other.account = account
        return try PostgresState(address: other, password: password, now: now, upgrades: upgrades)
    }
}
