import GRDB

/// The notification ledger: one row per notification key, so a notification is sent once even when the job re-runs.
enum NotificationMigrations {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2-notifications") { db in
            try db.execute(sql: """
            CREATE TABLE notifications (
                key TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                message TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                delivered_at INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            );
            """)
        }
    }

    /// Per-channel delivery (registered last, after every earlier migration): a webhook that fails no longer holds
    /// back Telegram, and a channel that delivered is not sent again when the other one is retried.
    static func registerChannels(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5-notification-channels") { db in
            try db.execute(sql: """
            ALTER TABLE notifications ADD COLUMN webhook_delivered_at INTEGER;
            ALTER TABLE notifications ADD COLUMN telegram_delivered_at INTEGER;
            """)
        }
    }
}
