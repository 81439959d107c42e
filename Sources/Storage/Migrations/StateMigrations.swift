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
        return migrator
    }
}
