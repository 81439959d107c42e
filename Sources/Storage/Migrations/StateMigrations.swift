import GRDB

/// The one list of migrations. Append-only: a released migration is never edited; a schema change is a
/// new migration at the end. Feature areas keep their migrations in their own files and are listed here.
public enum StateMigrations {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        CoreMigrations.register(in: &migrator)
        NotificationMigrations.register(in: &migrator)
        LLMMigrations.register(in: &migrator)
        BinanceMigrations.register(in: &migrator)
        NotificationMigrations.registerChannels(in: &migrator)
        MoneyMigrations.register(in: &migrator)
        LLMMigrations.registerFixedPointCost(in: &migrator)
        CandleBlockMigrations.register(in: &migrator)
        BinanceMigrations.registerMaximums(in: &migrator)
        return migrator
    }
}

extension StateMigrations {
    /// Whether `grdb_migrations` lists exactly `identifiers` (the registered migrations), read straight: `migrate`
    /// would then change nothing, and skipping it skips its `CREATE TABLE IF NOT EXISTS` (which empties GRDB's statement
    /// cache) and its typed fetches (a cost at every cycle's start). Anything else — no table, a migration not applied
    /// yet, one this version does not know — is `migrate`'s to handle, as before.
    static func isComplete(_ db: Database, identifiers: [String]) throws -> Bool {
        let table = try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'"))
        guard table != nil else { return false }
        let applied: [String] = try firstColumn(db.cachedStatement(sql: "SELECT identifier FROM grdb_migrations"),
                                                table: "grdb_migrations", column: "identifier")
        return applied.count == identifiers.count && Set(applied) == Set(identifiers)
    }
}
