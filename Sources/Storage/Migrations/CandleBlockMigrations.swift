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
            CREATE TRIGGER candle_blocks_on_insert AFTER INSERT ON candles BEGIN
                DELETE FROM candle_blocks WHERE symbol = NEW.symbol AND timeframe = NEW.timeframe
                    AND cover_from <= NEW.open_time AND cover_to >= NEW.open_time;
            END;
            CREATE TRIGGER candle_blocks_on_update AFTER UPDATE ON candles BEGIN
                DELETE FROM candle_blocks WHERE symbol = OLD.symbol AND timeframe = OLD.timeframe
                    AND cover_from <= OLD.open_time AND cover_to >= OLD.open_time;
                DELETE FROM candle_blocks WHERE symbol = NEW.symbol AND timeframe = NEW.timeframe
                    AND cover_from <= NEW.open_time AND cover_to >= NEW.open_time;
            END;
            CREATE TRIGGER candle_blocks_on_delete AFTER DELETE ON candles BEGIN
                DELETE FROM candle_blocks WHERE symbol = OLD.symbol AND timeframe = OLD.timeframe
                    AND cover_from <= OLD.open_time AND cover_to >= OLD.open_time;
            END;
            """)
        }
    }
}
