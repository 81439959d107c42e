import Foundation
import GRDB

/// The transactions other modules run on the state database. Storage is the only module that talks SQL: a caller gets
/// a `SQLiteLedger` (the typed operations of `Ledger` and of the other files in this folder) for the length of one
/// transaction, never a connection.
extension StateDatabase {
    /// One read transaction.
    public func read<T>(_ body: (SQLiteLedger) throws -> T) throws -> T {
        try writer.read { db in try body(SQLiteLedger(db)) }
    }

    /// One write transaction: everything `body` does commits together, or nothing does.
    @discardableResult
    public func write<T>(_ body: (SQLiteLedger) throws -> T) throws -> T {
        try writer.write { db in try body(SQLiteLedger(db)) }
    }

    /// One read transaction, off the caller's thread.
    public func read<T: Sendable>(_ body: @Sendable (SQLiteLedger) throws -> T) async throws -> T {
        try await writer.read { db in try body(SQLiteLedger(db)) }
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
