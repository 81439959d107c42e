import GRDB

/// The candle window cache (`candle_blocks`, see `CandleBlocks`): each symbol's newest candles packed in blocks of a
/// few candles, so that a cycle reads a 500-candle window as a few dozen rows instead of 500. Triggers on `candles`
/// delete every block whose time range a stored candle enters, changes or leaves, whoever writes it, so a block
/// always holds exactly the candles the table holds in its range.
enum CandleBlockMigrations {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v8-candle-blocks") { db in
            try db.execute(sql: """
            CREATE TABLE candle_blocks (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                cover_from INTEGER NOT NULL,
                cover_to INTEGER NOT NULL,
                data BLOB NOT NULL,
                PRIMARY KEY (symbol, timeframe, cover_from)
            ) WITHOUT ROWID;
            """)
            try db.execute(sql: triggers)
        }
    }

    /// The triggers that keep `candle_blocks` exact. A block covers the whole numbers `cover_from...cover_to`; the
    /// conditions take it as the half-open range `[cover_from, cover_to + 1)` so that an open time that is not a
    /// whole number (only hand-written SQL stores one) still clears the block it falls in.
    static let triggers = """
        CREATE TRIGGER candle_blocks_on_insert AFTER INSERT ON candles BEGIN
            DELETE FROM candle_blocks WHERE symbol = NEW.symbol AND timeframe = NEW.timeframe
                AND cover_from <= NEW.open_time AND cover_to + 1 > NEW.open_time;
        END;
        CREATE TRIGGER candle_blocks_on_update AFTER UPDATE ON candles BEGIN
            DELETE FROM candle_blocks WHERE symbol = OLD.symbol AND timeframe = OLD.timeframe
                AND cover_from <= OLD.open_time AND cover_to + 1 > OLD.open_time;
            DELETE FROM candle_blocks WHERE symbol = NEW.symbol AND timeframe = NEW.timeframe
                AND cover_from <= NEW.open_time AND cover_to + 1 > NEW.open_time;
        END;
        CREATE TRIGGER candle_blocks_on_delete AFTER DELETE ON candles BEGIN
            DELETE FROM candle_blocks WHERE symbol = OLD.symbol AND timeframe = OLD.timeframe
                AND cover_from <= OLD.open_time AND cover_to + 1 > OLD.open_time;
        END;
        """
    static let triggerNames = ["candle_blocks_on_insert", "candle_blocks_on_update", "candle_blocks_on_delete"]

    /// After the migrations: when any trigger is missing (SQLite drops a table's triggers with it, so a rebuilt or
    /// restored `candles` table comes back without them), the cache is emptied and the triggers made again. A migration
    /// that rebuilds `candles` must do the same itself.
    static func ensureTriggers(_ writer: DatabaseQueue) throws {
        let present = try writer.readTransaction { db in
            try firstValue(db.cachedStatement(sql: "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'candles' AND name IN (?, ?, ?)"),
                           arguments: StatementArguments(triggerNames), table: "sqlite_master", column: "count(*)") ?? 0
        }
        guard present != triggerNames.count else { return }
        try writer.write { db in
            for name in triggerNames { try db.execute(sql: "DROP TRIGGER IF EXISTS \(name)") }
            try db.execute(sql: "DELETE FROM candle_blocks")
            try db.execute(sql: triggers)
        }
    }
}
