import GRDB

/// The language-model audit trail, answer cache and per-provider circuit breakers.
enum LLMMigrations {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-llm") { db in
            try db.execute(sql: """
            CREATE TABLE llm_calls (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id INTEGER NOT NULL,
                symbol TEXT NOT NULL,
                provider TEXT NOT NULL,
                model TEXT NOT NULL,
                cache_key TEXT NOT NULL,
                time INTEGER NOT NULL,
                prompt TEXT NOT NULL,
                raw_reply TEXT,
                status TEXT NOT NULL,
                problem TEXT,
                action TEXT,
                confidence REAL,
                horizon TEXT,
                rationale TEXT,
                latency_ms INTEGER NOT NULL DEFAULT 0,
                prompt_tokens INTEGER NOT NULL DEFAULT 0,
                completion_tokens INTEGER NOT NULL DEFAULT 0,
                cost TEXT NOT NULL DEFAULT '0',
                from_cache INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX llm_calls_run ON llm_calls(run_id, symbol);
            CREATE INDEX llm_calls_cache ON llm_calls(cache_key, time);
            CREATE INDEX llm_calls_time ON llm_calls(time);
            CREATE TABLE llm_opinions (
                run_id INTEGER NOT NULL,
                symbol TEXT NOT NULL,
                time INTEGER NOT NULL,
                outcome TEXT NOT NULL,
                action TEXT,
                confidence REAL,
                agreement REAL,
                technical_confidence REAL NOT NULL,
                PRIMARY KEY (run_id, symbol)
            );
            CREATE TABLE llm_breakers (
                provider TEXT PRIMARY KEY,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                open_until INTEGER NOT NULL DEFAULT 0
            );
            """)
        }
        // Cache hits name the call they replay; the base URL and whether the reported usage was implausible are kept.
        migrator.registerMigration("v3.1-llm-cache-origin") { db in
            try db.execute(sql: """
            ALTER TABLE llm_calls ADD COLUMN cached_from INTEGER;
            ALTER TABLE llm_calls ADD COLUMN base_url TEXT;
            ALTER TABLE llm_calls ADD COLUMN usage_implausible INTEGER NOT NULL DEFAULT 0;
            """)
        }
    }

    /// `llm_calls.cost` from decimal TEXT to INTEGER fixed point, like the trading tables in `v6-fixed-point-money`
    /// (a migration of its own after that one, since migrations are append-only).
    static func registerFixedPointCost(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7-llm-cost-fixed-point") { db in
            try MoneyMigrations.convert(db, callsRebuild)
        }
    }

    static let callsRebuild = MoneyMigrations.Rebuild(table: "llm_calls", schema: """
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        cache_key TEXT NOT NULL,
        time INTEGER NOT NULL,
        prompt TEXT NOT NULL,
        raw_reply TEXT,
        status TEXT NOT NULL,
        problem TEXT,
        action TEXT,
        confidence REAL,
        horizon TEXT,
        rationale TEXT,
        latency_ms INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        cost INTEGER NOT NULL DEFAULT 0,
        from_cache INTEGER NOT NULL DEFAULT 0,
        cached_from INTEGER,
        base_url TEXT,
        usage_implausible INTEGER NOT NULL DEFAULT 0
        """, money: ["cost"], indexes: [
            "CREATE INDEX llm_calls_run ON llm_calls(run_id, symbol)",
            "CREATE INDEX llm_calls_cache ON llm_calls(cache_key, time)",
            "CREATE INDEX llm_calls_time ON llm_calls(time)",
        ])
}
