import Foundation
import GRDB

/// The notifications ledger (`notifications`): one row per notable event, keyed so that it is sent exactly once.
extension SQLiteLedger {
    /// The events after event `id`, oldest first.
    public func events(after id: Int64) throws -> [EventRow] { try Events.since(db, id: id) }

    /// Queues a notification unless one with `key` exists already.
    public func queueNotification(key: String, kind: String, message: String, createdAt: Int64) throws {
        try db.execute(sql: "INSERT OR IGNORE INTO notifications (key, kind, message, created_at) VALUES (?, ?, ?, ?)",
                       arguments: [key, kind, message, createdAt])
    }

    /// The notifications not yet delivered that were tried fewer than `maxAttempts` runs, oldest first.
    public func undeliveredNotifications(maxAttempts: Int) throws -> [PendingNotification] {
        try Row.fetchAll(db, sql: """
            SELECT key, kind, message, webhook_delivered_at IS NOT NULL AS webhook_done, telegram_delivered_at IS NOT NULL AS telegram_done
            FROM notifications WHERE delivered_at IS NULL AND attempts < ? ORDER BY created_at, key
            """, arguments: [maxAttempts]).map { PendingNotification(key: $0["key"], kind: $0["kind"], message: $0["message"], webhookDone: $0["webhook_done"], telegramDone: $0["telegram_done"]) }
    }

    /// Records one delivery attempt: the channels that delivered at `now`, and either the failure or the delivery.
    public func recordNotificationAttempt(key: String, webhookSent: Bool, telegramSent: Bool, failure: String?, now: Int64) throws {
        if webhookSent { try db.execute(sql: "UPDATE notifications SET webhook_delivered_at = ? WHERE key = ?", arguments: [now, key]) }
        if telegramSent { try db.execute(sql: "UPDATE notifications SET telegram_delivered_at = ? WHERE key = ?", arguments: [now, key]) }
        if let failure {
            try db.execute(sql: "UPDATE notifications SET attempts = attempts + 1, last_error = ? WHERE key = ?", arguments: [failure, key])
        } else {
            try db.execute(sql: "UPDATE notifications SET attempts = attempts + 1, delivered_at = ? WHERE key = ?", arguments: [now, key])
        }
    }
}

/// A notification still to deliver, with the channels that already delivered it.
public struct PendingNotification: Sendable, Equatable {
    public var key: String
    public var kind: String
    public var message: String
    public var webhookDone: Bool
    public var telegramDone: Bool
    public init(key: String, kind: String, message: String, webhookDone: Bool, telegramDone: Bool) {
        self.key = key
        self.kind = kind
        self.message = message
        self.webhookDone = webhookDone
        self.telegramDone = telegramDone
    }
}
