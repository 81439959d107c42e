import Foundation
import GRDB

/// The transactions other modules run on the state database. Storage is the only module that talks SQL: a caller gets
/// a `SQLiteLedger` (the typed operations of `Ledger` and of the other files in this folder) for the length of one
/// transaction, never a connection.
extension StateDatabase {
    /// One read transaction.
    public func read<T>(_ body: (SQLiteLedger) throws -> T) throws -> T {
        try writer.readTransaction { db in try body(SQLiteLedger(db)) }
    }

    /// One write transaction: everything `body` does commits together, or nothing does.
    @discardableResult
    public func write<T>(_ body: (SQLiteLedger) throws -> T) throws -> T {
        try writer.write { db in try body(SQLiteLedger(db)) }
    }

    /// One read transaction, off the caller's thread.
    public func read<T: Sendable>(_ body: @Sendable (SQLiteLedger) throws -> T) async throws -> T {
        try await writer.readTransaction { db in try body(SQLiteLedger(db)) }
    }

    /// One write transaction, off the caller's thread.
    @discardableResult
    public func write<T: Sendable>(_ body: @Sendable (SQLiteLedger) throws -> T) async throws -> T {
        try await writer.write { db in try body(SQLiteLedger(db)) }
    }

    /// Closes the connection: the `-wal` is checkpointed and removed when it was the last one, and the main file, now
    /// holding every change, is recorded for the next open's damage checks (`CleanCloseRecord`).
    public func close() throws {
        try writer.close()
        var wal = stat()
        if recordsCleanClose, !OpenDatabases.shared.isOpenElsewhere(key: openKey, than: registration),
           stat(path + "-wal", &wal) != 0 {  // as `FileManager.fileExists`: nothing there, even through a link
            CleanCloseRecord.write(database: path)
        }
    }

    /// The cycle's `StateStore` on this database.
    public var store: SQLiteStateStore { SQLiteStateStore(writer) }
}

extension SQLiteStateStore {
    /// The store on the job's state database.
    public init(_ database: StateDatabase) {
        self.init(database.writer)
    }
}

extension DatabaseQueue {
    /// One deferred (read) transaction on the connection, as `read` opens it, but without `read`'s switch to
    /// `PRAGMA query_only = 1` and back: a flag pragma makes SQLite expire every prepared statement, so each `read`
    /// made every cached statement compile again at its next use (a fifth of the SQL compiled by a cycle). The job's
    /// reads never write (their ledger calls are reads), and the run lock keeps other writers out. The transaction is
    /// rolled back at its end, and a read that changed a row by mistake fails loudly (as the pragma made it fail), so
    /// nothing it wrote reaches the state and nothing after it goes on as if it had.
    func readTransaction<T>(_ body: (Database) throws -> T) throws -> T {
        try unsafeRead { db in try Self.inReadTransaction(db, body) }
    }

    /// As above, off the caller's thread.
    func readTransaction<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await unsafeRead { db in try Self.inReadTransaction(db, body) }
    }

    static func inReadTransaction<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T {
        var value: T?
        try db.inTransaction(.deferred) {
            let changesBefore = db.totalChangesCount
            value = try body(db)
            guard db.totalChangesCount == changesBefore else {
                throw DatabaseError(resultCode: .SQLITE_READONLY, message: "a read changed the state database; its changes were rolled back")
            }
            return .rollback
        }
        guard let value else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "read transaction without a result") }
        return value
    }
}
