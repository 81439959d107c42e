import GRDB

/// The venue-side state of the Binance REST layer, shared by every process that uses the same database:
/// the measured server-time offset, the request weight used in the current minute, a back-off after a 429,
/// an IP ban after a 418, the circuit breaker (with a count of its openings), and the cached exchange filters.
/// Rows are keyed by a venue key (`binance`, or `binance@host` for another base URL such as the testnet).
enum BinanceMigrations {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-binance") { db in
            try db.execute(sql: """
            CREATE TABLE venue_state (
                venue TEXT PRIMARY KEY,
                time_offset_ms INTEGER,
                time_synced_at INTEGER,
                used_weight INTEGER NOT NULL DEFAULT 0,
                used_weight_minute INTEGER NOT NULL DEFAULT 0,
                weight_limit INTEGER,
                backoff_until INTEGER NOT NULL DEFAULT 0,
                banned_until INTEGER NOT NULL DEFAULT 0,
                ban_reason TEXT,
                breaker_state TEXT NOT NULL DEFAULT 'closed',
                breaker_failures INTEGER NOT NULL DEFAULT 0,
                breaker_open_until INTEGER NOT NULL DEFAULT 0,
                breaker_trial_started_at INTEGER NOT NULL DEFAULT 0,
                breaker_openings INTEGER NOT NULL DEFAULT 0,
                updated_at INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE venue_symbol_filters (
                venue TEXT NOT NULL,
                symbol TEXT NOT NULL,
                base_asset TEXT NOT NULL,
                quote_asset TEXT NOT NULL,
                tick_size TEXT NOT NULL,
                step_size TEXT NOT NULL,
                min_qty TEXT NOT NULL,
                min_notional TEXT NOT NULL,
                fetched_at INTEGER NOT NULL,
                PRIMARY KEY (venue, symbol)
            ) WITHOUT ROWID;
            """)
        }
    }

    /// v9: the largest market order (LOT_SIZE/MARKET_LOT_SIZE `maxQty`, NOTIONAL `maxNotional`), NULL for no limit.
    /// Rows cached before keep their values and know no maximum until they are fetched again (after
    /// `exchange_info_ttl_seconds`, or at once after the venue refuses an order on a filter).
    static func registerMaximums(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9-venue-maximums") { db in
            try db.execute(sql: """
            ALTER TABLE venue_symbol_filters ADD COLUMN max_qty INTEGER;
            ALTER TABLE venue_symbol_filters ADD COLUMN max_notional INTEGER;
            """)
        }
    }
}
