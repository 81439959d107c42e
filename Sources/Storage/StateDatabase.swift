import Foundation
import GRDB

/// Why the state database could not be used. The file is never truncated or overwritten on error.
public struct StateDatabaseError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public var description: String { "state database \(path): \(message)" }
}

/// The job's SQLite state (`<state>/tradejob.sqlite`) through GRDB: WAL journal, a busy timeout,
/// foreign keys on, and the versioned migrations of `StateMigrations` applied on open.
/// Every state change the job makes is one `write` transaction.
public final class StateDatabase: Sendable {
    public let path: String
    public let writer: DatabaseQueue

    /// Opens (creating if missing) and migrates the database at `path`. `durable: false` (backtests, whose state is
    /// thrown away) turns off syncing to disk.
    public init(path: String, busyTimeout: TimeInterval = 5, durable: Bool = true) throws {
        self.path = path
        if FileManager.default.fileExists(atPath: path) {
            try Self.checkHeader(path: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: durable ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = OFF")
        }
        do {
            writer = try DatabaseQueue(path: path, configuration: configuration)
            CommitFailpoint.install(on: writer)
            try StateMigrations.migrator.migrate(writer)
        } catch let error as DatabaseError {
            throw StateDatabaseError(path: path, message: Self.explain(error))
        }
    }

    /// An in-memory database with the same schema (tests and backtests).
    public init(inMemory: ()) throws {
        path = ":memory:"
        writer = try DatabaseQueue()
        try StateMigrations.migrator.migrate(writer)
    }

    /// Refuses a file that is not an SQLite database, without touching it.
    static func checkHeader(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StateDatabaseError(path: path, message: "cannot be opened for reading (check its permissions)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { return }  // an empty file is a new database
        let magic = Data("SQLite format 3\u{0}".utf8)
        guard header == magic else {
            throw StateDatabaseError(path: path, message: "is not an SQLite database (corrupt or foreign file); it was left untouched — move it aside to start with a fresh state, or restore a backup")
        }
    }

    static func explain(_ error: DatabaseError) -> String {
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return "is corrupt (\(error.message ?? "\(error.resultCode)")); it was left untouched — move it aside to start with a fresh state, or restore a backup"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "is busy: another process holds it (\(error.message ?? ""))"
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
            return "cannot be opened for writing (\(error.message ?? "\(error.resultCode)"))"
        default:
            return "\(error.message ?? "\(error.resultCode)")"
        }
    }
}
