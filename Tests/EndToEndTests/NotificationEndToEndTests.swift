import Foundation
import Testing
import TestSupport

@Suite("notifications and Pushgateway", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct NotificationEndToEndTests {
    final class Switch: @unchecked Sendable {
        let lock = NSLock()
        var failing = false
        var delivered: [String] = []
        var value: Bool { lock.withLock { failing } }
        func set(_ v: Bool) { lock.withLock { failing = v } }
        /// Answers a request: 500 while failing, else 200 (recording the webhook key as delivered).
        func answer(_ request: TestHTTPRequest) -> TestHTTPReply {
            lock.withLock {
                if failing { return TestHTTPReply(status: 500, body: "{}") }
                if request.path == "/hook", let object = try? JSONSerialization.jsonObject(with: request.body) as? [String: String], let key = object["key"] {
                    delivered.append(key)
                }
                return TestHTTPReply()
            }
        }
    }

    func config(_ url: URL, extra: String = "") -> String {
        #"{"notifications": {"webhook_url": "\#(url.absoluteString)/hook", "telegram_bot_token_env": "TJ_TEST_BOT_TOKEN", "telegram_chat_id": "42", "telegram_api_base": "\#(url.absoluteString)", "timeout_seconds": 2, "max_attempts": 2}\#(extra)}"#
    }

    @Test func entryFillsAreNotifiedOnceAcrossRunsAndFailuresAreRetried() throws {
        let failing = Switch()
        let server = try TestHTTPServer { failing.answer($0) }
        defer { server.stop() }
        let h = try Harness(config: config(server.baseURL))
        defer { h.remove() }
        let env = ["TJ_TEST_BOT_TOKEN": "123456:secret-bot-token"]
        let first = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: env)
        #expect(first.code == 0)
        let entries = Int(try h.sqlite("SELECT COUNT(*) FROM fills")) ?? 0
        try #require(entries > 0, "the first run should enter a position")
        let hooks = server.requests.filter { $0.path == "/hook" }
        #expect(hooks.count == entries)
        #expect(hooks.allSatisfy { $0.method == "POST" && $0.bodyText.contains("\"kind\":\"entry_fill\"") })
        let telegram = server.requests.filter { $0.path == "/bot123456:secret-bot-token/sendMessage" }
        #expect(telegram.count == entries)
        #expect(telegram.first?.bodyText.contains("\"chat_id\":\"42\"") == true)
        #expect(!first.stderr.contains("secret-bot-token"))

        // The receiver fails: the run still succeeds, and the next run delivers what was missed — once.
        let before = server.requests.count
        failing.set(true)
        #expect(try h.run(["safe-mode", "enter", "--reason", "test", "--for", "1h", "--now", "2024-03-01T00:05:00Z"], environment: env).code == 0)
        let failed = try h.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: env)
        #expect(failed.code == 0)
        #expect(server.requests.count > before)
        #expect(try h.sqlite("SELECT COUNT(*) FROM notifications WHERE delivered_at IS NULL") != "0")
        failing.set(false)
        #expect(try h.run(["run", "--now", "2024-03-01T00:30:15Z"], environment: env).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM notifications WHERE delivered_at IS NULL") == "0")
        let delivered = failing.lock.withLock { failing.delivered }
        #expect(Set(delivered).count == delivered.count, "a notification was delivered twice: \(delivered)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM notifications") == String(delivered.count))
        #expect(try h.sqlite("SELECT COUNT(*) FROM notifications WHERE kind = 'safe_mode_entered'") == "1")
    }

    /// A webhook URL with a password in it (`https://user:password@host/…`): whatever fails, the password appears in no
    /// message, log line or stored error.
    @Test func aPasswordInTheWebhookURLNeverShows() throws {
        let failing = Switch()
        failing.set(true)
        let server = try TestHTTPServer { failing.answer($0) }
        defer { server.stop() }
        let port = server.baseURL.port ?? 0
        let withPassword = #"{"notifications": {"webhook_url": "http://hookuser:Hook-Pa55word@127.0.0.1:\#(port)/hook?sig=abc", "timeout_seconds": 2, "max_attempts": 2}}"#
        let h = try Harness(config: withPassword)
        defer { h.remove() }
        let first = try h.run(["run", "--now", "2024-03-01T00:00:15Z", "--log-level", "debug"])
        #expect(first.code == 0)
        #expect(!server.requests.filter { $0.path == "/hook" }.isEmpty, "the webhook was tried")
        let errors = try h.sqlite("SELECT COALESCE(last_error, '') FROM notifications")
        #expect(!errors.isEmpty)
        // A receiver that cannot be reached at all (its port closed): the transport's message names the URL.
        server.stop()
        let second = try h.run(["run", "--now", "2024-03-01T00:15:15Z", "--log-level", "debug"])
        let stored = try h.sqlite("SELECT COALESCE(last_error, '') FROM notifications")
        for text in [first.stdout, first.stderr, errors, second.stdout, second.stderr, stored] {
            #expect(!text.contains("Pa55word"), "\(text)")
        }
        #expect((first.stderr + second.stderr + stored).contains("hookuser:***@") || !(first.stderr + second.stderr + stored).contains("hookuser"),
                "\(second.stderr) \(stored)")
    }

    @Test func metricsArePushedAndAFailingGatewayDoesNotFailTheCycle() throws {
        let server = try TestHTTPServer { _ in TestHTTPReply(status: 200, body: "") }
        defer { server.stop() }
        let h = try Harness(config: #"{"metrics": {"pushgateway_url": "\#(server.baseURL.absoluteString)"}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let push = try #require(server.requests.first)
        #expect(push.method == "PUT")
        #expect(push.path == "/metrics/job/tradejob" + (h.account.map { "/account/" + $0 } ?? ""))
        #expect(push.bodyText.contains("tradejob_equity"))
        server.stop()
        let down = try h.run(["run", "--now", "2024-03-01T00:15:15Z"])
        #expect(down.code == 0)
        #expect(down.stderr.contains("Pushgateway"))
    }
}
