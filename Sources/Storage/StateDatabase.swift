import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// Why the state database could not be used. Nothing is created, truncated or overwritten on error: the database and
/// its `-wal`/`-shm` files are left exactly as they were found.
public struct StateDatabaseError: Error, CustomStringConvertible {
    /// `damaged`: corrupt, truncated, empty or with a `-wal` that is not its own (exit 70); `notWritable`: a file or
    /// the directory cannot be written (exit 73).
    public enum Kind: Sendable { case damaged, notWritable }
    public let path: String
    public let message: String
    public let kind: Kind
    public init(path: String, message: String, kind: Kind = .damaged) {
        self.path = path
        self.message = message
        self.kind = kind
    }
    public var description: String { "state database \(path): \(message)" }
}

/// The job's SQLite state (`<state>/tradejob.sqlite`) through GRDB: WAL journal, a busy timeout,
/// foreign keys on, and the versioned migrations of `StateMigrations` applied on open.
/// Every state change the job makes is one `write` transaction.
///
/// Before anything is opened for writing, `StateFileCheck` inspects the files read-only (header, size, modes, the
/// `-wal`'s identity) and `PRAGMA quick_check` runs on a read-only connection; a damaged database is refused with its
/// files untouched. A main file the job closed cleanly and that is byte for byte as it left it (`CleanCloseRecord`,
/// no `-wal`) skips `quick_check` and its connection. The identity: a random `application_id` stamped into a new database, and a generation in
/// `user_version` raised by one as the first write of every open, so the first page-1 frame of a `-wal` this database
/// wrote carries its id and the main file's generation + 1. Automatic checkpoints are off for the job's database (the
/// `-wal` is checkpointed and removed when the last connection closes), so a `-wal` never restarts mid-run.
public final class StateDatabase: Sendable {
    public let path: String
    /// The connection: only Storage talks SQL (other modules use `read`/`write`, see `StateTransactions.swift`).
    let writer: DatabaseQueue
    /// Milliseconds the damage checks took on this open (read-only inspection and `quick_check`, or the checksum of a
    /// cleanly closed file, see `CleanCloseRecord`).
    public let checkMilliseconds: Double
    /// Whether `close` records the closed file in `<db>-checksum` (the job's durable database).
    let recordsCleanClose: Bool
    let registration = OpenDatabases.Registration()
    /// The path as `OpenDatabases` counts it (standardized once: each standardizing resolves symbolic links).
    let openKey: String

    /// Opens (creating if missing) and migrates the database at `path`. `durable: false` (backtests, whose state is
    /// thrown away) turns off syncing to disk. `beforeWriting` runs on the read-only connection of the damage checks,
    /// before anything is written (an existing database only): an error it throws refuses the database untouched.
    public init(path: String, busyTimeout: TimeInterval = 5, durable: Bool = true,
                beforeWriting: ((SQLiteLedger) throws -> Void)? = nil) throws {
        self.path = path
        let started = Date()
        openKey = OpenDatabases.key(path)
        // A database this process already has open is live (its -wal is its own); inspecting it through a second
        // file descriptor would also drop SQLite's POSIX locks on close. Only the first open in a process checks.
        let alreadyOpen = OpenDatabases.shared.isOpen(key: openKey)
        let found = alreadyOpen ? StateFileCheck.Found(exists: true, applicationID: 1) : try StateFileCheck.inspect(path: path)
        // The main file exactly as this job left it after a clean close (no -wal): `quick_check` and its read-only
        // connection are skipped, and `beforeWriting` runs on the writing connection before its first write.
        let cleanClose = durable && found.exists && !alreadyOpen && found.applicationID != 0
            && (StateFileCheck.size(of: path + "-wal") ?? 0) == 0
            && CleanCloseRecord.matches(database: path)
        if found.exists && !alreadyOpen && !cleanClose { try Self.quickCheck(path: path, then: beforeWriting) }
        checkMilliseconds = Date().timeIntervalSince(started) * 1000
        recordsCleanClose = durable
        do {
            if !found.exists || found.applicationID == 0 {
                try Self.stampIdentity(path: path, isNew: !found.exists)
            } else {
                Self.tightenModes(path: path)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
            configuration.foreignKeysEnabled = true
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: durable ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = OFF")
                if durable { try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
                // Pages read through a memory map instead of a copy per read (a cycle reads every symbol's window).
                try db.execute(sql: "PRAGMA mmap_size = 268435456")
            }
            writer = try DatabaseQueue(path: path, configuration: configuration)
            if cleanClose, let beforeWriting { try Self.validate(writer, path: path, with: beforeWriting) }
            // From the first write on, the file differs from the record until the next clean close writes it again.
            if found.exists { CleanCloseRecord.remove(database: path) }
            CommitFailpoint.install(on: writer)
            let migrator = StateMigrations.migrator
            let migrated = try writer.write { db in
                let generation: Int64 = try firstValue(db.cachedStatement(sql: "PRAGMA user_version"), table: "PRAGMA", column: "user_version") ?? 0
                try db.execute(sql: "PRAGMA user_version = \(generation &+ 1 > Int64(Int32.max) ? 1 : generation + 1)")
                return try StateMigrations.isComplete(db, identifiers: migrator.migrations)
            }
            if !migrated { try migrator.migrate(writer) }
            try CandleBlockMigrations.ensureTriggers(writer)
        } catch let error as DatabaseError {
            throw StateDatabaseError(path: path, message: Self.explain(error), kind: Self.kind(of: error))
        }
        registration.open = OpenDatabases.shared.enter(key: openKey)
    }

    deinit {
        if registration.open { OpenDatabases.shared.leave(key: openKey) }
    }

    /// An in-memory database with the same schema (tests and backtests).
    public init(inMemory: ()) throws {
        path = ":memory:"
        openKey = path
        checkMilliseconds = 0
        recordsCleanClose = false
        writer = try DatabaseQueue()
        try StateMigrations.migrator.migrate(writer)
    }

    /// `beforeWriting` on the writing connection, before anything is written (the main file was found as the job left
    /// it, with no `-wal`). Refused: the connection is closed (nothing to checkpoint; the `-wal` and `-shm` it created
    /// are removed with it) and the error thrown as `quickCheck` throws it.
    static func validate(_ writer: DatabaseQueue, path: String, with validate: (SQLiteLedger) throws -> Void) throws {
        do {
            try writer.readTransaction { try validate(SQLiteLedger($0)) }
        } catch {
            try? writer.close()
            guard let failure = error as? DatabaseError else { throw error }
            throw StateDatabaseError(path: path, message: "could not be checked before writing: \(explain(failure))")
        }
    }

    /// `PRAGMA quick_check` on a read-only connection (no checkpoint, nothing written). A `-wal`/`-shm` this check had
    /// to create (empty) is removed again when the database is refused.
    static func quickCheck(path: String, then validate: ((SQLiteLedger) throws -> Void)? = nil) throws {
        let created = [path + "-wal", path + "-shm"].filter { !FileManager.default.fileExists(atPath: $0) }
        var verdict: String
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = 268435456") }
            let reader = try DatabaseQueue(path: path, configuration: configuration)
            let lines = try reader.read { try String.fetchAll($0, sql: "PRAGMA quick_check(20)") }
            verdict = lines.joined(separator: "; ")
            if verdict == "ok", let validate {
                do {
                    try reader.read { try validate(SQLiteLedger($0)) }
                } catch {
                    // A refusal of the caller's (or a failure to ask): not damage, and nothing is written either way.
                    try? reader.close()
                    for file in created { unlink(file) }
                    guard let failure = error as? DatabaseError else { throw error }
                    throw StateDatabaseError(path: path, message: "could not be checked before writing: \(explain(failure))")
                }
            }
            try reader.close()
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
                throw StateDatabaseError(path: path, message: explain(error))
            }
            verdict = error.message ?? "\(error.resultCode)"
        }
        guard verdict == "ok" else {
            for file in created { unlink(file) }
            throw StateDatabaseError(path: path, message: "is corrupt: quick_check says \"\(verdict.prefix(300))\"; \(StateFileCheck.untouched)")
        }
    }

    /// Gives a new (or an older, unstamped) database its random identity, written straight into the main file, and
    /// mode 0600 before any `-wal`/`-shm` exists (SQLite gives them the database's mode). A new file holds only the
    /// empty schema header until then.
    static func stampIdentity(path: String, isNew: Bool) throws {
        let id = Int32.random(in: 1...Int32.max)
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "PRAGMA application_id = \(id)")
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        try queue.close()
        tightenModes(path: path)
    }

    /// The database and its `-wal`/`-shm` are 0600 (SQLite gives the `-wal`/`-shm` the database's mode).
    static func tightenModes(path: String) {
        for file in [path, path + "-wal", path + "-shm"] {
            var st = stat()
            if stat(file, &st) == 0, st.st_mode & 0o077 != 0 { chmod(file, 0o600) }
        }
    }

    static func kind(of error: DatabaseError) -> StateDatabaseError.Kind {
        switch error.resultCode {
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_FULL, .SQLITE_IOERR: return .notWritable
        default: return .damaged
        }
    }

    static func explain(_ error: DatabaseError) -> String {
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return "is corrupt (\(error.message ?? "\(error.resultCode)")); \(StateFileCheck.untouched)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "is busy: another process holds it (\(error.message ?? ""))"
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            return "cannot be opened for writing (\(error.message ?? "\(error.resultCode)"))"
        case .SQLITE_FULL:
            return "cannot be written: the disk is full (\(error.message ?? ""))"
        default:
            return "\(error.message ?? "\(error.resultCode)")"
        }
    }
}

/// The state databases this process has open (by path), so a second open of the same file skips the file inspection.
final class OpenDatabases: @unchecked Sendable {
    static let shared = OpenDatabases()
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    /// Whether one instance counted as open; set once its open succeeded.
    final class Registration: @unchecked Sendable {
        var open = false
    }

    /// The key a path is counted under: `NSString.standardizingPath` (the tilde expanded, symbolic links resolved).
    static func key(_ path: String) -> String { (path as NSString).standardizingPath }

    func isOpen(key: String) -> Bool {
        lock.withLock { counts[key] != nil }
    }

    /// Counts a successful open (returns true).
    func enter(key: String) -> Bool {
        lock.withLock { counts[key, default: 0] += 1 }
        return true
    }

    /// Whether an instance other than the one `registration` stands for has the database under `key` open.
    func isOpenElsewhere(key: String, than registration: Registration) -> Bool {
        lock.withLock { counts[key, default: 0] > (registration.open ? 1 : 0) }
    }

    func leave(key: String) {
        lock.withLock {
            let n = counts[key, default: 0] - 1
            counts[key] = n > 0 ? n : nil
        }
    }
}
