import Foundation
import GRDB
import GRDBSQLite
import Testing
@testable import Storage

/// `readTransaction`, the state database's reads: one deferred transaction, as GRDB's `read` opens it, without its
/// `PRAGMA query_only` switch (a flag pragma expires every prepared statement, so each read made every cached
/// statement compile again).
@Suite struct ReadTransactionTests {
    struct Refused: Error {}

    func temporaryPath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("tradejob.sqlite").path
    }

    static func reprepared(_ statement: Statement) -> Int32 {
        sqlite3_stmt_status(statement.sqliteStatement, Int32(SQLITE_STMTSTATUS_REPREPARE), 0)
    }

    @Test func readsAreTransactionsThatKeepStatementsPrepared() throws {
        let database = try StateDatabase(path: try temporaryPath())
        let sql = "SELECT COUNT(*) FROM runs"
        var seen: [Statement] = []
        for _ in 0..<3 {
            let (count, statement) = try database.writer.readTransaction { db in
                #expect(db.isInsideTransaction)
                let statement = try db.cachedStatement(sql: sql)
                return (try Int.fetchOne(statement) ?? -1, statement)
            }
            #expect(count == 0)
            seen.append(statement)
            #expect(try database.read { ledger in try ledger.lastConfigHash() } == nil)
            try database.write { ledger in try ledger.setJobState("probe", "1") }
        }
        #expect(seen.allSatisfy { $0 === seen[0] })
        #expect(Self.reprepared(seen[0]) == 0)
        // GRDB's `read` switches `PRAGMA query_only` on and off: the cached statement is prepared again at its next use.
        for _ in 0..<2 { _ = try database.writer.read { db in try Int.fetchOne(db.cachedStatement(sql: sql)) } }
        #expect(Self.reprepared(seen[0]) > 0)
        // An error ends the transaction and comes out as thrown; the connection is usable again.
        #expect(throws: Refused.self) { try database.read { _ -> Int in throw Refused() } }
        #expect(try database.writer.readTransaction { $0.isInsideTransaction })
        database.writer.unsafeRead { db in #expect(!db.isInsideTransaction) }
        // A write made inside a read by mistake fails the read, and is rolled back with it.
        #expect { try database.writer.readTransaction { db in try db.execute(sql: "INSERT INTO job_state (key, value) VALUES ('stray', 'x')") } } throws: { error in
            (error as? DatabaseError)?.resultCode == .SQLITE_READONLY
        }
        #expect(try database.read { ledger in try ledger.jobState("stray") } == nil)
        #expect(try database.read { ledger in try ledger.jobState("probe") } == "1")
    }

    /// The cycle's reads (`SQLiteStateStore.read`, off the caller's thread) see what the writes committed.
    @Test func asyncReadsSeeTheCommittedState() async throws {
        let database = try StateDatabase(path: try temporaryPath())
        let store = database.store
        for k in 1...3 {
            try await store.write { ledger in try ledger.setJobState("probe", "\(k)") }
            let value = try await store.read { ledger in try ledger.jobState("probe") }
            #expect(value == "\(k)")
        }
        await #expect(throws: Refused.self) { try await store.read { _ -> Int in throw Refused() } }
    }

    /// `SQLiteLedger.tableExists` (straight from `sqlite_master`) answers as GRDB's `Database.tableExists`.
    @Test func tableExistsAnswersAsGRDBDoes() throws {
        let database = try StateDatabase(path: try temporaryPath())
        try database.writer.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TEMP TABLE scratch (x)")
            try db.execute(sql: "CREATE VIEW open_positions AS SELECT * FROM positions")
            try db.execute(sql: "CREATE TABLE \"Mixed Case\" (x)")
        }
        let names = ["wallet", "fills", "positions", "WALLET", "Positions", "scratch", "SCRATCH", "open_positions", "mixed case",
                     "Mixed Case", "missing", "", "sqlite_master", "positions_active", "candle_blocks_on_insert", "wallet'"]
        for name in names {
            let expected = try database.writer.read { db in try db.tableExists(name) }
            #expect(try database.read { ledger in try ledger.tableExists(name) } == expected, "\(name)")
        }
    }

    /// The migrations are skipped only when `grdb_migrations` lists exactly the registered ones, as GRDB's
    /// `hasCompletedMigrations` and the absence of unknown ones say.
    @Test func migrationsAreSkippedOnlyWhenExactlyApplied() throws {
        let database = try StateDatabase(path: try temporaryPath())
        let migrator = StateMigrations.migrator
        let identifiers = migrator.migrations
        func agrees(_ db: Database) throws -> Bool {
            let applied = Set(try migrator.appliedIdentifiers(db))
            let expected = try migrator.hasCompletedMigrations(db) && applied.isSubset(of: Set(identifiers))
            return try StateMigrations.isComplete(db, identifiers: identifiers) == expected
        }
        try database.writer.writeWithoutTransaction { db in
            #expect(try StateMigrations.isComplete(db, identifiers: identifiers))
            #expect(try agrees(db))
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('from-a-newer-version')")
            #expect(try !StateMigrations.isComplete(db, identifiers: identifiers))
            #expect(try agrees(db))
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier IN ('from-a-newer-version', ?)", arguments: [identifiers.last ?? ""])
            #expect(try !StateMigrations.isComplete(db, identifiers: identifiers))
            #expect(try agrees(db))
            try db.execute(sql: "DROP TABLE grdb_migrations")
            #expect(try !StateMigrations.isComplete(db, identifiers: identifiers))
        }
    }

    /// `firstValue` and `firstColumn` (single columns read through `Row`) give what GRDB's typed fetches give; a value
    /// that does not convert is a `CorruptRow`.
    @Test func singleColumnReadsAnswerAsTypedFetches() throws {
        let database = try StateDatabase(path: try temporaryPath())
        try database.writer.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TEMP TABLE t (i INTEGER, s TEXT, r REAL)")
            try db.execute(sql: "INSERT INTO t VALUES (1, 'a', 1.0), (NULL, NULL, NULL), (-9223372036854775808, 'é', 2.0), (7, '', 3.0)")
            for sql in ["SELECT i FROM t WHERE i IS NOT NULL", "SELECT MAX(i) FROM t", "SELECT MIN(i) FROM t WHERE i > 100", "SELECT COUNT(*) FROM t",
                        "SELECT i FROM t WHERE rowid = 2", "SELECT i FROM t WHERE 0", "SELECT CAST(r AS INTEGER) FROM t WHERE r IS NOT NULL"] {
                #expect(try firstValue(db.makeStatement(sql: sql), table: "t", column: "i") == Int64.fetchOne(db, sql: sql), "\(sql)")
                #expect(try firstValue(db.makeStatement(sql: sql), table: "t", column: "i") == Int.fetchOne(db, sql: sql), "\(sql)")
            }
            for sql in ["SELECT s FROM t", "SELECT s FROM t WHERE s IS NULL", "SELECT s FROM t WHERE rowid = 3", "SELECT s FROM t WHERE 0"] {
                #expect(try firstValue(db.makeStatement(sql: sql), table: "t", column: "s") == String.fetchOne(db, sql: sql), "\(sql)")
            }
            #expect(try firstColumn(db.makeStatement(sql: "SELECT i FROM t WHERE i IS NOT NULL ORDER BY i"), table: "t", column: "i")
                    == Int64.fetchAll(db, sql: "SELECT i FROM t WHERE i IS NOT NULL ORDER BY i"))
            #expect(try firstColumn(db.makeStatement(sql: "SELECT s FROM t WHERE s IS NOT NULL ORDER BY s"), table: "t", column: "s")
                    == String.fetchAll(db, sql: "SELECT s FROM t WHERE s IS NOT NULL ORDER BY s"))
            #expect(throws: CorruptRow.self) { let _: [Int64] = try firstColumn(db.makeStatement(sql: "SELECT i FROM t"), table: "t", column: "i") }
            #expect(throws: CorruptRow.self) { let _: Int64? = try firstValue(db.makeStatement(sql: "SELECT s FROM t WHERE rowid = 1"), table: "t", column: "s") }
            // A value that does not convert (text, or a number out of range, in an INTEGER column, as a hand-edited file
            // may hold) is a `CorruptRow` naming it, never a stop of the process. (A fraction converts toward zero, as
            // GRDB's typed fetches convert it.)
            try db.execute(sql: "CREATE TEMP TABLE bad (i INTEGER)")
            try db.execute(sql: "INSERT INTO bad VALUES (1), ('abc'), (1e300)")
            for (rowid, shown) in [(2, "\"abc\""), (3, "1e+300")] {
                let sql = "SELECT i FROM bad WHERE rowid IN (1, \(rowid))"
                #expect { let _: [Int64] = try firstColumn(db.makeStatement(sql: sql), table: "bad", column: "i") } throws: { error in
                    (error as? CorruptRow).map { $0.table == "bad" && $0.column == "i" && $0.value == shown } ?? false
                }
                #expect(throws: CorruptRow.self) { let _: Int64? = try firstValue(db.makeStatement(sql: "SELECT i FROM bad WHERE rowid = \(rowid)"), table: "bad", column: "i") }
            }
        }
    }
}
