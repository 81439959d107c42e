import Foundation

/// The schema of one account's state on PostgreSQL: append-only migrations, applied in order, each once, recorded in
/// the account schema's `schema_migrations`. The tables and columns are the SQLite state's (same names, same meaning,
/// money as BIGINT counts of 1e-8 units, times as epoch milliseconds), without the SQLite-only candle block cache, and
/// with `state_files`: the state directory's small files (`next_run`, `safe_mode.lock`) as rows.
public enum PostgresSchema {
    /// (identifier, statements). Never edit or reorder an entry that shipped: add a new one.
    static let migrations: [(String, String)] = [
        ("v1-state", """
        CREATE TABLE runs (
            id BIGSERIAL PRIMARY KEY,
            started_at BIGINT NOT NULL,
            ended_at BIGINT,
            outcome TEXT NOT NULL DEFAULT 'running',
            config_hash TEXT NOT NULL,
            volatility DOUBLE PRECISION,
            interval_seconds BIGINT,
            interval_reason TEXT,
            next_run_at BIGINT,
            symbols_analysed BIGINT NOT NULL DEFAULT 0,
            symbols_failed TEXT NOT NULL DEFAULT '',
            summary TEXT
        );
        CREATE TABLE candles (
            symbol TEXT NOT NULL,
            timeframe TEXT NOT NULL,
            open_time BIGINT NOT NULL,
            open DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL, low DOUBLE PRECISION NOT NULL,
            close DOUBLE PRECISION NOT NULL, volume DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (symbol, timeframe, open_time)
        );
        CREATE TABLE signals (
            id BIGSERIAL PRIMARY KEY,
            run_id BIGINT NOT NULL REFERENCES runs(id),
            symbol TEXT NOT NULL,
            candle_time BIGINT NOT NULL,
            direction TEXT NOT NULL,
            confidence DOUBLE PRECISION NOT NULL,
            score DOUBLE PRECISION NOT NULL,
            components TEXT NOT NULL,
            indicators TEXT NOT NULL,
            patterns TEXT NOT NULL,
            opinion TEXT
        );
        CREATE INDEX signals_run ON signals(run_id, symbol);
        CREATE TABLE events (
            id BIGSERIAL PRIMARY KEY,
            run_id BIGINT,
            time BIGINT NOT NULL,
            kind TEXT NOT NULL,
            symbol TEXT,
            message TEXT NOT NULL,
            data TEXT
        );
        CREATE INDEX events_run ON events(run_id);
        CREATE INDEX events_kind ON events(kind, time);
        CREATE TABLE job_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value DOUBLE PRECISION NOT NULL);
        CREATE TABLE notifications (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            message TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            delivered_at BIGINT,
            attempts BIGINT NOT NULL DEFAULT 0,
            last_error TEXT,
            webhook_delivered_at BIGINT,
            telegram_delivered_at BIGINT
        );
        CREATE TABLE llm_opinions (
            run_id BIGINT NOT NULL,
            symbol TEXT NOT NULL,
            time BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            action TEXT,
            confidence DOUBLE PRECISION,
            agreement DOUBLE PRECISION,
            technical_confidence DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (run_id, symbol)
        );
        CREATE TABLE llm_breakers (
            provider TEXT PRIMARY KEY,
            consecutive_failures BIGINT NOT NULL DEFAULT 0,
            open_until BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE llm_calls (
            id BIGSERIAL PRIMARY KEY,
            run_id BIGINT NOT NULL,
            symbol TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            cache_key TEXT NOT NULL,
            time BIGINT NOT NULL,
            prompt TEXT NOT NULL,
            raw_reply TEXT,
            status TEXT NOT NULL,
            problem TEXT,
            action TEXT,
            confidence DOUBLE PRECISION,
            horizon TEXT,
            rationale TEXT,
            latency_ms BIGINT NOT NULL DEFAULT 0,
            prompt_tokens BIGINT NOT NULL DEFAULT 0,
            completion_tokens BIGINT NOT NULL DEFAULT 0,
            cost BIGINT NOT NULL DEFAULT 0,
            from_cache BOOLEAN NOT NULL DEFAULT FALSE,
            cached_from BIGINT,
            base_url TEXT,
            usage_implausible BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE INDEX llm_calls_run ON llm_calls(run_id, symbol);
        CREATE INDEX llm_calls_cache ON llm_calls(cache_key, time);
        CREATE INDEX llm_calls_time ON llm_calls(time);
        CREATE TABLE venue_state (
            venue TEXT PRIMARY KEY,
            time_offset_ms BIGINT,
            time_synced_at BIGINT,
            used_weight BIGINT NOT NULL DEFAULT 0,
            used_weight_minute BIGINT NOT NULL DEFAULT 0,
            weight_limit BIGINT,
            backoff_until BIGINT NOT NULL DEFAULT 0,
            banned_until BIGINT NOT NULL DEFAULT 0,
            ban_reason TEXT,
            breaker_state TEXT NOT NULL DEFAULT 'closed',
            breaker_failures BIGINT NOT NULL DEFAULT 0,
            breaker_open_until BIGINT NOT NULL DEFAULT 0,
            breaker_trial_started_at BIGINT NOT NULL DEFAULT 0,
            breaker_openings BIGINT NOT NULL DEFAULT 0,
            updated_at BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE venue_symbol_filters (
            venue TEXT NOT NULL,
            symbol TEXT NOT NULL,
            base_asset TEXT NOT NULL,
            quote_asset TEXT NOT NULL,
            tick_size BIGINT NOT NULL,
            step_size BIGINT NOT NULL,
            min_qty BIGINT NOT NULL,
            min_notional BIGINT NOT NULL,
            fetched_at BIGINT NOT NULL,
            PRIMARY KEY (venue, symbol)
        );
        CREATE TABLE positions (
            id BIGSERIAL PRIMARY KEY,
            symbol TEXT NOT NULL,
            state TEXT NOT NULL,
            quantity BIGINT NOT NULL,
            entry_price BIGINT NOT NULL,
            initial_entry_price BIGINT NOT NULL,
            cost BIGINT NOT NULL,
            stop_price BIGINT,
            take_profit_price BIGINT,
            highest_price BIGINT,
            atr_at_entry DOUBLE PRECISION NOT NULL,
            adjustments BIGINT NOT NULL DEFAULT 0,
            partial_take_profit_done BOOLEAN NOT NULL DEFAULT FALSE,
            opened_at BIGINT NOT NULL,
            last_checked_candle BIGINT NOT NULL,
            closed_at BIGINT,
            exit_price BIGINT,
            exit_reason TEXT,
            realized_pnl BIGINT NOT NULL DEFAULT 0,
            fees BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX positions_active ON positions(state, symbol);
        CREATE TABLE orders (
            id BIGSERIAL PRIMARY KEY,
            client_order_id TEXT NOT NULL UNIQUE,
            run_id BIGINT NOT NULL,
            position_id BIGINT REFERENCES positions(id),
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            type TEXT NOT NULL,
            purpose TEXT NOT NULL,
            leg BIGINT NOT NULL,
            attempt BIGINT NOT NULL,
            quantity BIGINT NOT NULL,
            price BIGINT,
            status TEXT NOT NULL,
            venue_order_id TEXT,
            filled_quantity BIGINT NOT NULL DEFAULT 0,
            average_price BIGINT,
            reason TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX orders_status ON orders(status);
        CREATE TABLE fills (
            id BIGSERIAL PRIMARY KEY,
            client_order_id TEXT NOT NULL,
            trade_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            quantity BIGINT NOT NULL,
            price BIGINT NOT NULL,
            fee BIGINT NOT NULL,
            fee_asset TEXT NOT NULL,
            time BIGINT NOT NULL,
            run_id BIGINT NOT NULL,
            UNIQUE (symbol, trade_id)
        );
        CREATE TABLE wallet (asset TEXT PRIMARY KEY, free BIGINT NOT NULL, locked BIGINT NOT NULL DEFAULT 0);
        CREATE TABLE equity (
            time BIGINT NOT NULL,
            run_id BIGINT NOT NULL,
            equity BIGINT NOT NULL,
            cash BIGINT NOT NULL,
            safe_mode BOOLEAN NOT NULL DEFAULT FALSE,
            PRIMARY KEY (time, run_id)
        );
        CREATE TABLE paper_orders (
            client_order_id TEXT PRIMARY KEY,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            status TEXT NOT NULL,
            quantity BIGINT NOT NULL,
            price BIGINT,
            fee BIGINT,
            fee_asset TEXT,
            trade_id TEXT,
            time BIGINT NOT NULL,
            reason TEXT
        );
        CREATE TABLE state_files (name TEXT PRIMARY KEY, content TEXT NOT NULL, updated_at BIGINT NOT NULL);
        """),
        // The largest market order (NULL: no limit); rows cached before know none until they are fetched again.
        ("v2-venue-maximums", """
        ALTER TABLE venue_symbol_filters ADD COLUMN max_qty BIGINT;
        ALTER TABLE venue_symbol_filters ADD COLUMN max_notional BIGINT;
        """),
    ]

    /// How many migrations this version applies to an account's schema (each recorded once in `schema_migrations`).
    public static var count: Int { migrations.count }

    /// The key of the transaction-level advisory lock that serialises schema changes of every account (a fresh
    /// database met by 50 runs at once creates each schema once).
    static let migrationLockKey: Int64 = 0x7472_6164_656A_6F62  // "tradejob"

    /// Creates the account's schema and applies the migrations it lacks, in one transaction; registers the account in
    /// `public.tradejob_accounts`. Refuses a state that lists a migration this version does not know (a newer
    /// tradejob wrote it).
    /// `upgrades` false (the commands that only read): a new account's schema is still created, but one that exists
    /// and lacks migrations is refused untouched — upgrading is `run`'s and `migrate`'s (so that a newer binary's
    /// `status` never upgrades a schema the scheduled older version still runs on).
    static func migrate(_ session: PostgresSession, schema: String, account: String, now: Int64, upgrades: Bool = true) throws -> [String] {
        let quoted = quoteIdentifier(schema)
        if let applied = try? appliedMigrations(session, schema: schema), Set(migrations.map(\.0)).isSubset(of: applied) {
            try refuseUnknown(applied, schema: schema)
            return []
        }
        try session.execute("BEGIN")
        do {
            try session.query("SELECT pg_advisory_xact_lock($1)", [.int(migrationLockKey)])
            try session.execute("""
                CREATE TABLE IF NOT EXISTS public.tradejob_accounts (account TEXT PRIMARY KEY, schema_name TEXT NOT NULL, created_at BIGINT NOT NULL);
                CREATE SCHEMA IF NOT EXISTS \(quoted);
                CREATE TABLE IF NOT EXISTS \(quoted).schema_migrations (identifier TEXT PRIMARY KEY, applied_at BIGINT NOT NULL);
                """)
            let applied = try appliedMigrations(session, schema: schema)
            try refuseUnknown(applied, schema: schema)
            if let missing = refusedUpgrade(applied: applied, known: migrations.map(\.0), upgrades: upgrades) {
                throw PostgresStateError(message: "schema \(schema) lacks migrations \(missing.joined(separator: ", ")) of this version; this command only reads and changes nothing: run `tradejob migrate` (or let `tradejob run` do it) first")
            }
            var done: [String] = []
            for (identifier, statements) in migrations where !applied.contains(identifier) {
                try session.execute("SET LOCAL search_path TO \(quoted);\n" + statements)
                try session.query("INSERT INTO \(quoted).schema_migrations (identifier, applied_at) VALUES ($1, $2)", [.text(identifier), .int(now)])
                done.append(identifier)
            }
            try session.query("INSERT INTO public.tradejob_accounts (account, schema_name, created_at) VALUES ($1, $2, $3) ON CONFLICT (account) DO NOTHING",
                              [.text(account), .text(schema), .int(now)])
            try session.execute("COMMIT")
            return done
        } catch {
            try? session.execute("ROLLBACK")
            throw error
        }
    }

    /// The migrations an open that does not upgrade refuses to apply: nil when there is nothing to refuse (every
    /// migration applied, a new schema, or an open that upgrades).
    static func refusedUpgrade(applied: Set<String>, known: [String], upgrades: Bool) -> [String]? {
        let missing = known.filter { !applied.contains($0) }
        return upgrades || applied.isEmpty || missing.isEmpty ? nil : missing
    }

    static func appliedMigrations(_ session: PostgresSession, schema: String) throws -> Set<String> {
        Set(try session.query("SELECT identifier FROM \(quoteIdentifier(schema)).schema_migrations").map { try $0.text("identifier", table: "schema_migrations") })
    }

    static func refuseUnknown(_ applied: Set<String>, schema: String) throws {
        let known = Set(migrations.map(\.0))
        let unknown = applied.subtracting(known).sorted()
        if !unknown.isEmpty {
            throw PostgresStateError(message: "schema \(schema) was migrated by a newer tradejob (migrations \(unknown.joined(separator: ", ")) are unknown to this version); nothing was changed")
        }
    }

    /// A double-quoted identifier (the account's schema name is checked to be `[a-z][a-z0-9_]*`; quoting is belt and braces).
    static func quoteIdentifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
