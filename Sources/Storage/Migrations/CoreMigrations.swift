import GRDB

/// The core schema: runs, candles, signals, orders, fills, positions, wallet, equity, events, job state,
/// metric counters, and the paper broker's own order book (`paper_orders`, the venue side of paper trading).
/// Money columns were TEXT holding a decimal (INTEGER fixed point since MoneyMigrations); times are INTEGER milliseconds since 1970 UTC.
enum CoreMigrations {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1-core") { db in
            try db.execute(sql: """
            CREATE TABLE runs (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                started_at INTEGER NOT NULL,
                ended_at INTEGER,
                outcome TEXT NOT NULL DEFAULT 'running',
                config_hash TEXT NOT NULL,
                volatility REAL,
                interval_seconds INTEGER,
                interval_reason TEXT,
                next_run_at INTEGER,
                symbols_analysed INTEGER NOT NULL DEFAULT 0,
                symbols_failed TEXT NOT NULL DEFAULT '',
                summary TEXT
            );
            CREATE TABLE candles (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                open_time INTEGER NOT NULL,
                open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL,
                PRIMARY KEY (symbol, timeframe, open_time)
            ) WITHOUT ROWID;
            CREATE TABLE signals (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL REFERENCES runs(id),
                symbol TEXT NOT NULL,
                candle_time INTEGER NOT NULL,
                direction TEXT NOT NULL,
                confidence REAL NOT NULL,
                score REAL NOT NULL,
                components TEXT NOT NULL,
                indicators TEXT NOT NULL,
                patterns TEXT NOT NULL,
                opinion TEXT
            );
            CREATE INDEX signals_run ON signals(run_id, symbol);
            CREATE TABLE positions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                symbol TEXT NOT NULL,
                state TEXT NOT NULL,
                quantity TEXT NOT NULL,
                entry_price TEXT NOT NULL,
                initial_entry_price TEXT NOT NULL,
                cost TEXT NOT NULL,
                stop_price TEXT,
                take_profit_price TEXT,
                highest_price TEXT,
                atr_at_entry REAL NOT NULL,
                adjustments INTEGER NOT NULL DEFAULT 0,
                partial_take_profit_done INTEGER NOT NULL DEFAULT 0,
                opened_at INTEGER NOT NULL,
                last_checked_candle INTEGER NOT NULL,
                closed_at INTEGER,
                exit_price TEXT,
                exit_reason TEXT,
                realized_pnl TEXT NOT NULL DEFAULT '0',
                fees TEXT NOT NULL DEFAULT '0'
            );
            CREATE INDEX positions_active ON positions(state, symbol);
            CREATE TABLE orders (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                client_order_id TEXT NOT NULL UNIQUE,
                run_id INTEGER NOT NULL,
                position_id INTEGER REFERENCES positions(id),
                symbol TEXT NOT NULL,
                side TEXT NOT NULL,
                type TEXT NOT NULL,
                purpose TEXT NOT NULL,
                leg INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                quantity TEXT NOT NULL,
                price TEXT,
                status TEXT NOT NULL,
                venue_order_id TEXT,
                filled_quantity TEXT NOT NULL DEFAULT '0',
                average_price TEXT,
                reason TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE INDEX orders_status ON orders(status);
            CREATE TABLE fills (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                client_order_id TEXT NOT NULL,
                trade_id TEXT NOT NULL,
                symbol TEXT NOT NULL,
                side TEXT NOT NULL,
                quantity TEXT NOT NULL,
                price TEXT NOT NULL,
                fee TEXT NOT NULL,
                fee_asset TEXT NOT NULL,
                time INTEGER NOT NULL,
                run_id INTEGER NOT NULL,
                UNIQUE (symbol, trade_id)
            );
            CREATE TABLE wallet (
                asset TEXT PRIMARY KEY,
                free TEXT NOT NULL,
                locked TEXT NOT NULL DEFAULT '0'
            );
            CREATE TABLE equity (
                time INTEGER NOT NULL,
                run_id INTEGER NOT NULL,
                equity TEXT NOT NULL,
                cash TEXT NOT NULL,
                safe_mode INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (time, run_id)
            );
            CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER,
                time INTEGER NOT NULL,
                kind TEXT NOT NULL,
                symbol TEXT,
                message TEXT NOT NULL,
                data TEXT
            );
            CREATE INDEX events_run ON events(run_id);
            CREATE INDEX events_kind ON events(kind, time);
            CREATE TABLE job_state (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            CREATE TABLE paper_orders (
                client_order_id TEXT PRIMARY KEY,
                symbol TEXT NOT NULL,
                side TEXT NOT NULL,
                status TEXT NOT NULL,
                quantity TEXT NOT NULL,
                price TEXT,
                fee TEXT,
                fee_asset TEXT,
                trade_id TEXT,
                time INTEGER NOT NULL,
                reason TEXT
            );
            CREATE TABLE counters (
                name TEXT PRIMARY KEY,
                value REAL NOT NULL
            );
            """)
        }
    }
}
