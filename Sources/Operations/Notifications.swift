import Foundation
import HTTPTransport
import Logging
import Storage
import TradingDomain

/// Where notifications go (`notifications.*`).
public struct NotificationSettings: Sendable {
    public var webhookURL: String
    /// The bot token (read from the environment variable the config names), nil when Telegram is off.
    public var telegramToken: String?
    public var telegramChatID: String
    public var telegramAPIBase: String
    public var timeoutSeconds: Double
    public var maxAttempts: Int

    public init(webhookURL: String, telegramToken: String?, telegramChatID: String, telegramAPIBase: String, timeoutSeconds: Double, maxAttempts: Int) {
        self.webhookURL = webhookURL
        self.telegramToken = telegramToken
        self.telegramChatID = telegramChatID
        self.telegramAPIBase = telegramAPIBase
        self.timeoutSeconds = timeoutSeconds
        self.maxAttempts = maxAttempts
    }

    public var enabled: Bool { !webhookURL.isEmpty || (telegramToken != nil && !telegramChatID.isEmpty) }
}

/// Sends notifications for the events that matter to an operator — entry fill, exit (with P&L), safe mode entered
/// and left, protection triggered, cycle failed — through a JSON webhook and/or Telegram's `sendMessage`.
///
/// Exactly once across re-runs: each event becomes a ledger row keyed `event-<id>`; only undelivered rows are sent,
/// each with at most `maxAttempts` tries per run (short timeout) and retried on later runs up to 5 runs in all.
/// A failure is logged, never thrown: notifications never fail the cycle. Tokens never appear in logs or errors.
public struct Notifier: Sendable {
    public static let kinds = ["entry_fill", "exit", "safe_mode_entered", "safe_mode_exited", "protection_triggered", "cycle_failed"]
    static let maxRuns = 5
    let settings: NotificationSettings
    let http: any HTTPClient
    let database: any RecordStore

    public init(settings: NotificationSettings, http: any HTTPClient, database: any RecordStore) {
        self.settings = settings
        self.http = http
        self.database = database
        if let token = settings.telegramToken { SecretRedactor.shared.register(token) }
        // The webhook URL is a secret (`config show` masks it): its path and query carry the credential.
        Self.registerWebhookSecrets(settings.webhookURL)
    }

    /// Records new notable events in the ledger and delivers every undelivered notification. Returns the number delivered.
    @discardableResult
    public func deliver(now: Int64, logger: Logger) async -> Int {
        guard settings.enabled else { return 0 }
        let pending: [Pending]
        do {
            pending = try await database.writeRecords { ledger in
                let last = Int64(try ledger.jobState("notifications.last_event_id") ?? "0") ?? 0
                var newest = last
                for event in try ledger.events(after: last) {
                    newest = max(newest, event.id)
                    guard let kind = try Self.kind(of: event) else { continue }
                    let text = (event.symbol.map { "\($0): " } ?? "") + event.message
                    try ledger.queueNotification(key: "event-\(event.id)", kind: kind, message: text, createdAt: event.time)
                }
                try ledger.setJobState("notifications.last_event_id", "\(newest)")
                return try ledger.undeliveredNotifications(maxAttempts: Self.maxRuns)
                    .map { Pending(key: $0.key, kind: $0.kind, message: $0.message, webhookDone: $0.webhookDone, telegramDone: $0.telegramDone) }
            }
        } catch {
            logger.error("notifications: ledger unavailable", metadata: ["error": "\(error)"])
            return 0
        }
        var delivered = 0
        for item in pending {
            // Each channel on its own: one failing never stops the other, and one that delivered is not sent again.
            var failures: [String] = []
            var sentWebhook = false, sentTelegram = false
            if !settings.webhookURL.isEmpty && !item.webhookDone {
                if let error = await send(webhook: item) { failures.append("webhook: \(error)") } else { sentWebhook = true }
            }
            if let token = settings.telegramToken, !settings.telegramChatID.isEmpty, !item.telegramDone {
                if let error = await send(telegram: item, token: token) { failures.append("telegram: \(error)") } else { sentTelegram = true }
            }
            let failure = failures.isEmpty ? nil : SecretRedactor.shared.redact(failures.joined(separator: "; "))
            let (webhookSent, telegramSent) = (sentWebhook, sentTelegram)
            do {
                try await database.writeRecords { ledger in
                    try ledger.recordNotificationAttempt(key: item.key, webhookSent: webhookSent, telegramSent: telegramSent, failure: failure, now: now)
                }
            } catch {
                logger.error("notifications: cannot record delivery", metadata: ["error": "\(error)"])
            }
            if let failure {
                logger.warning("notification not delivered; retried next run", metadata: ["key": "\(item.key)", "error": "\(failure)"])
            } else {
                delivered += 1
            }
        }
        return delivered
    }

    /// An undelivered notification and the channels that already have it.
    struct Pending: Sendable {
        var key: String, kind: String, message: String
        var webhookDone: Bool, telegramDone: Bool
    }

    /// The notification an event calls for, chosen by its kind and the facts recorded in its data (never by its
    /// message text): the fill of an entry order; a transition to CLOSED of a position that held something (not a
    /// failed entry); safe mode entered and left; a protection triggered; a failed cycle.
    static func kind(of event: EventRow) throws -> String? {
        switch event.kind {
        case .fill:
            return try event.fields()["purpose"].flatMap(OrderPurpose.init(rawValue:)) == .entry ? "entry_fill" : nil
        case .transition:
            let data = try event.fields()
            guard data["to"].flatMap(PositionState.init(rawValue:)) == .closed else { return nil }
            return data["exit_reason"].flatMap(ExitReason.init(rawValue:)) == .entryFailed ? nil : "exit"
        case .safeModeEntered, .safeModeExited, .protectionTriggered, .cycleFailed:
            return event.kind.rawValue
        default:
            return nil
        }
    }

    func post(_ url: URL, json: [String: String]) async -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let body = try? encoder.encode(json) else { return "cannot encode" }
        var last = "not sent"
        for _ in 0..<max(1, settings.maxAttempts) {
            do {
                let response = try await http.send(HTTPRequest(method: "POST", url: url, headers: ["Content-Type": "application/json"], body: body,
                                                               timeout: settings.timeoutSeconds))
                if (200..<300).contains(response.status) { return nil }
                last = "HTTP \(response.status)"
                if (400..<500).contains(response.status) && response.status != 429 { break }  // will not succeed on retry
            } catch {
                last = "\(error)"
            }
        }
        return last
    }

    func send(webhook item: Pending) async -> String? {
        guard let url = URL(string: settings.webhookURL) else { return "notifications.webhook_url is not a URL" }
        let error = await post(url, json: ["key": item.key, "kind": item.kind, "message": item.message, "source": "tradejob"])
        return error.map { SecretRedactor.shared.redact($0) }
    }

    /// Registers the whole webhook URL, and its path and query (and their percent-decoded forms) when they are long enough
    /// to carry a credential (16 characters: a short path such as `/api` would mask unrelated text), with the redactor.
    static func registerWebhookSecrets(_ text: String) {
        guard !text.isEmpty else { return }
        SecretRedactor.shared.register(text)
        guard let components = URLComponents(string: text) else { return }
        // A password in the URL (`https://user:password@host/…`), as written and decoded.
        for part in [components.percentEncodedPassword ?? "", components.password ?? ""] { SecretRedactor.shared.register(part) }
        for part in [components.percentEncodedPath, components.path, components.percentEncodedQuery ?? "", components.query ?? ""] where part.count >= 16 {
            SecretRedactor.shared.register(part)
        }
        if let url = URL(string: text) { SecretRedactor.shared.register(url.absoluteString) }
    }

    func send(telegram item: Pending, token: String) async -> String? {
        guard let url = URL(string: "\(settings.telegramAPIBase)/bot\(token)/sendMessage") else { return "the Telegram API base is not a URL" }
        return await post(url, json: ["chat_id": settings.telegramChatID, "text": "tradejob \(item.kind): \(item.message)"]).map(SecretRedactor.shared.redact)
    }
}

/// Pushes the metrics text to a Prometheus Pushgateway (`PUT {url}/metrics/job/tradejob`). Returns an error message or nil.
public enum Pushgateway {
    /// PUTs `text` to the group `job=tradejob` (and `account=<account>` when given: each account of a PostgreSQL
    /// database is its own group, so one account's push never replaces another's).
    public static func push(_ text: String, to base: String, http: any HTTPClient, timeout: Double = 5, account: String? = nil) async -> String? {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let url = URL(string: trimmed + "/metrics/job/tradejob" + (account.map { "/account/" + $0 } ?? "")) else { return "metrics.pushgateway_url is not a URL" }
        do {
            let response = try await http.send(HTTPRequest(method: "PUT", url: url, headers: ["Content-Type": "text/plain; version=0.0.4"],
                                                           body: Data(text.utf8), timeout: timeout))
            return (200..<300).contains(response.status) ? nil : "HTTP \(response.status)"
        } catch {
            return "\(error)"
        }
    }
}
