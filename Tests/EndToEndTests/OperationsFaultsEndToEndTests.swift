import Foundation
import Testing
import TestSupport

/// Operations faults through the real binary: the lock and `--if-due` under concurrency, a full disk under the metrics,
/// and a webhook secret on a connection error.
@Suite("operations faults", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct OperationsFaultsEndToEndTests {
    @Test func tenConcurrentDueRunsMakeExactlyOneCycleAndCountEveryContention() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let runsBefore = Int(try h.sqlite("SELECT COUNT(*) FROM runs")) ?? -1
        // Four hours later every run is due; all ten start at once.
        let processes = try (0..<10).map { _ in try h.start(["run", "--if-due", "--now", "2024-03-01T04:00:15Z"]) }
        let results = processes.map { $0.wait() }
        let locked = results.filter { $0.code == 75 }
        #expect(results.allSatisfy { $0.code == 0 || $0.code == 75 }, "\(results.map { "\($0.code) \($0.stderr)" })")
        #expect(Int(try h.sqlite("SELECT COUNT(*) FROM runs")) == runsBefore + 1, "exactly one cycle ran")
        #expect(results.filter { $0.stdout.hasPrefix("run ") }.count == 1)
        let counter: String? = "\(try h.lockContentionCount())"
        #expect(Int(counter ?? "0") == locked.count)
        for r in locked {
            // The lock file and the holder's pid; on PostgreSQL the account's advisory lock and the server process.
            #expect(r.stderr.contains(h.account == nil ? "tradejob.lock" : "holds the run lock of account"), "\(r.stderr)")
            #expect(!r.stderr.contains("holder unknown"), "\(r.stderr)")
            #expect(r.stderr.contains(h.account == nil ? "pid " : "server process "), "\(r.stderr)")
        }
    }

    @Test func aWebhookSecretNeverAppearsAndTelegramIsStillTried() throws {
        let (closedSocket, closedPort) = try Self.boundButClosedPort()
        defer { close(closedSocket) }
        let telegram = try TestHTTPServer { _ in TestHTTPReply() }
        defer { telegram.stop() }
        let secret = "S3CRET-hook-path-7d1f0c"
        let config = #"{"notifications": {"webhook_url": "http://127.0.0.1:\#(closedPort)/hooks/\#(secret)?token=\#(secret)q", "telegram_bot_token_env": "TJ_TEST_BOT_TOKEN", "telegram_chat_id": "42", "telegram_api_base": "\#(telegram.baseURL.absoluteString)", "timeout_seconds": 2, "max_attempts": 1}}"#
        let h = try Harness(config: config)
        defer { h.remove() }
        let env = ["TJ_TEST_BOT_TOKEN": "123456:another-bot-token", "TRADEJOB_LOG_LEVEL": "debug", "TRADEJOB_LOG_FORMAT": "json"]
        let r = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: env)
        #expect(r.code == 0, "\(r.stderr)")
        let fills = Int(try h.sqlite("SELECT COUNT(*) FROM fills")) ?? 0
        try #require(fills > 0, "the first run should enter a position")
        #expect(telegram.requests.filter { $0.path.hasSuffix("/sendMessage") }.count == fills, "Telegram is tried although the webhook failed")
        #expect(try h.sqlite("SELECT COUNT(*) FROM notifications WHERE last_error LIKE '%webhook%'") != "0")
        var outputs = [r.stdout, r.stderr, try h.sqlite("SELECT last_error FROM notifications")]
        for file in ["tradejob.sqlite", "tradejob.sqlite-wal", "metrics/tradejob.prom", "next_run"] {
            if let data = FileManager.default.contents(atPath: h.stateDir + "/" + file) { outputs.append(String(decoding: data, as: UTF8.self)) }
        }
        for text in outputs { #expect(!text.contains(secret), "the webhook secret leaked: \(text.prefix(2000))") }
        // A second run retries only the webhook: Telegram already has them.
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: env).code == 0)
        #expect(telegram.requests.filter { $0.path.hasSuffix("/sendMessage") }.count >= fills)
        #expect(try h.sqlite("SELECT COUNT(*) FROM notifications WHERE telegram_delivered_at IS NULL AND kind = 'entry_fill'") == "0")
    }

    @Test func aRefusedLiveAPIKeyIsAFailedRunWithAClearMessage() throws {
        let fake = BinanceLiveEndToEndTests.exchange()
        defer { fake.stop() }
        let h = try Harness(config: BinanceLiveEndToEndTests.config(baseURL: fake.baseURL))
        defer { h.remove() }
        let env = ["TRADEJOB_LIVE": "1", "TRADEJOB_BINANCE_API_KEY": "a-key-binance-refuses", "TRADEJOB_BINANCE_API_SECRET": BinanceLiveEndToEndTests.secret]
        let r = try h.run(["run", "--live"], environment: env)
        #expect(r.code == 78, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("the live API key was refused"), "\(r.stderr)")
        #expect(r.stderr.contains("-2015"), "\(r.stderr)")
        #expect(!r.stdout.contains(" ok:"), "\(r.stdout)")
        let prom = (try? String(contentsOfFile: h.stateDir + "/metrics/tradejob.prom", encoding: .utf8)) ?? ""
        #expect(prom.contains("tradejob_last_run_outcome{outcome=\"failed\"} 1"), "\(prom)")
        #expect(!prom.contains("tradejob_last_run_success_timestamp_seconds"))
    }

    /// A port on 127.0.0.1 that refuses connections: bound (so nobody else gets it) but not listening.
    static func boundButClosedPort() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw HarnessError(message: "cannot bind a socket on 127.0.0.1") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A small tmpfs for the metrics (needs root and mount permission).
    static let tmpfsAvailable: Bool = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-tmpfs-probe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil,
              Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]) == 0 else { return false }
        return Shell.run("/bin/umount", [dir]) == 0
    }()

    @Test(.enabled(if: tmpfsAvailable, "mounting a tmpfs is not permitted here (needs root and CAP_SYS_ADMIN)"))
    func aFullDiskUnderTheMetricsFailsTheRunAndRemovesTheStaleFile() throws {
        let h = try Harness()
        defer { h.remove() }
        let metrics = h.root.appendingPathComponent("metrics").path
        try FileManager.default.createDirectory(atPath: metrics, withIntermediateDirectories: true)
        try #require(Shell.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", metrics]) == 0)
        defer { _ = Shell.run("/bin/umount", [metrics]) }
        try h.writeConfig(#"{"metrics": {"directory": "\#(metrics)"}}"#)
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let prom = metrics + "/tradejob.prom"
        #expect(FileManager.default.fileExists(atPath: prom))
        // Fill the file system to the last byte.
        let filler = FileHandle(forWritingAtPath: { _ = FileManager.default.createFile(atPath: metrics + "/filler", contents: nil); return metrics + "/filler" }())
        let block = Data(repeating: 0x55, count: 1024)
        while (try? filler?.write(contentsOf: block)) != nil {}
        try? filler?.close()
        let r = try h.run(["run", "--now", "2024-03-01T04:00:15Z"])
        #expect(r.code == 73, "\(r.stderr)")
        #expect(r.stderr.contains(prom), "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: prom), "the stale metrics file must not stay looking fresh")
    }
}

/// Runs a program and returns its exit code (output discarded).
enum Shell {
    static func run(_ program: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
