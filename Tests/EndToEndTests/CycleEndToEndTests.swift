import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("tradejob run, end to end", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct CycleEndToEndTests {
    static let start = "2024-03-01T00:00:15Z"

    func files(_ dir: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            result[name] = FileManager.default.contents(atPath: dir + "/" + name) ?? Data()
        }
        return result
    }

    @Test(.enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote)) func firstRunCreatesTheDatabaseAndNextRun() throws {
        let h = try Harness()
        defer { h.remove() }
        let r = try h.run(["run", "--now", Self.start])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: h.databasePath))
        let next = try String(contentsOfFile: h.stateDir + "/next_run", encoding: .utf8)
        #expect(next.hasSuffix("Z\n"))
        #expect(r.stdout.contains("next run"))
        #expect(try h.sqlite("SELECT COUNT(*) FROM runs") == "1")
        #expect(try h.sqlite("SELECT COUNT(DISTINCT symbol) FROM candles") == "8")
        #expect(try h.sqlite("SELECT COUNT(*) FROM candles WHERE symbol = 'BTCUSDT'") == "500")
        let status = try h.json(try h.run(["status", "--json"]).stdout)
        for key in ["state", "last_run", "next_run_at", "interval_seconds", "positions", "cash", "equity", "safe_mode"] {
            #expect(status[key] != nil, "status --json lacks \(key)")
        }
    }

    // On PostgreSQL the run lock is an advisory lock (tested in PostgresEndToEndTests), not this file.
    @Test(.enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote)) func aSecondRunWhileTheLockIsHeldExits75NamingTheHolder() throws {
        let h = try Harness()
        defer { h.remove() }
        try FileManager.default.createDirectory(atPath: h.stateDir, withIntermediateDirectories: true)
        let path = h.stateDir + "/tradejob.lock"
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let text = "pid \(getpid()) started 2024-03-01T00:00:00Z\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        let r = try h.run(["run", "--now", Self.start])
        #expect(r.code == 75)
        #expect(r.stderr.contains("pid \(getpid())"))
        #expect(!FileManager.default.fileExists(atPath: h.databasePath))
    }

    @Test func aBadConfigExits78AndLeavesTheStateByteForByte() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        let before = try files(h.stateDir)
        let good = try String(contentsOfFile: h.configPath, encoding: .utf8)
        try h.writeConfig(#"{"risk": {"max_open_positions": 0, "unknown": true}}"#)
        let bad = try h.run(["run", "--now", "2024-03-01T06:00:15Z"])
        #expect(bad.code == 78)
        #expect(bad.stderr.contains("risk.max_open_positions"))
        #expect(bad.stderr.contains("risk.unknown"))
        #expect(try files(h.stateDir) == before)

        try h.writeConfig(good)
        let badEnv = try h.run(["run", "--now", "2024-03-01T06:00:15Z"], environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "lots"])
        #expect(badEnv.code == 78)
        #expect(badEnv.stderr.contains("TRADEJOB__RISK__MAX_OPEN_POSITIONS"))
        #expect(try files(h.stateDir) == before)
    }

    @Test func ifDueBeforeTheDueTimeWritesNothing() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        let before = try files(h.stateDir)
        let r = try h.run(["run", "--if-due", "--now", "2024-03-01T00:01:00Z"])
        #expect(r.code == 0)
        #expect(r.stdout.contains("not due"))
        #expect(try files(h.stateDir) == before)
        #expect(try h.sqlite("SELECT COUNT(*) FROM runs") == "1")
    }

    @Test(.enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote)) func aCorruptDatabaseIsAClearErrorAndIsNotTouched() throws {
        let h = try Harness()
        defer { h.remove() }
        try FileManager.default.createDirectory(atPath: h.stateDir, withIntermediateDirectories: true)
        let garbage = Data(repeating: 0x42, count: 8192)
        try garbage.write(to: URL(fileURLWithPath: h.databasePath))
        let r = try h.run(["run", "--now", Self.start])
        #expect(r.code == 70)
        #expect(r.stderr.contains("tradejob.sqlite"))
        #expect(r.stderr.contains("not an SQLite database") || r.stderr.contains("corrupt"))
        #expect(FileManager.default.contents(atPath: h.databasePath) == garbage)
    }

    @Test func usageErrorsExit64() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "yesterday"]).code == 64)
        #expect(try h.run(["frobnicate"], addPaths: false).code == 64)
        #expect(try h.run(["run", "--help"], addPaths: false).code == 0)
    }

    @Test func sigtermStopsTheCycleBetweenStepsAndRecordsTheRunAsInterrupted() throws {
        let h = try Harness()
        defer { h.remove() }
        let r = try h.run(["run", "--now", Self.start], environment: ["TRADEJOB_FAILPOINT": "sigterm-after-analysis"])
        #expect(r.code == 143, "\(r.stderr)")
        #expect(try h.sqlite("SELECT outcome FROM runs") == "interrupted")
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders") == "0")
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders WHERE status = 'PENDING_SUBMIT'") == "0")
        let status = try h.json(try h.run(["status", "--json"]).stdout)
        #expect(status["state"] as? String == "STOPPING")
        // The next run proceeds normally.
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        // SIGINT (Ctrl-C) exits 130.
        let interrupted = try h.run(["run", "--now", "2024-03-01T00:30:15Z"], environment: ["TRADEJOB_FAILPOINT": "sigint-after-analysis"])
        #expect(interrupted.code == 130)
    }

    /// Runs stepping through two simulated days, each at the time the previous run chose.
    @Test func twoSimulatedDaysOpenAdjustAndClosePositionsAndUseSeveralIntervals() throws {
        let h = try Harness()
        defer { h.remove() }
        var now = Self.start
        let end = "2024-03-03T00:00:00Z"
        var runs = 0
        while now < end && runs < 300 {
            let r = try h.run(["run", "--now", now])
            #expect(r.code == 0, "run at \(now): \(r.stderr)")
            if r.code != 0 { break }
            now = try h.nextRun()
            runs += 1
        }
        let intervals = try h.sqlite("SELECT COUNT(DISTINCT interval_seconds) FROM runs")
        let used = try h.sqlite("SELECT DISTINCT interval_seconds FROM runs WHERE interval_seconds IS NOT NULL ORDER BY interval_seconds").split(separator: "\n").joined(separator: ",")
        #expect((Int(intervals) ?? 0) >= 2, "intervals used: \(used)")
        #expect((Int(try h.sqlite("SELECT COUNT(*) FROM positions WHERE state = 'CLOSED' AND exit_reason != 'entry_failed'")) ?? 0) >= 1)
        #expect((Int(try h.sqlite("SELECT COUNT(*) FROM positions WHERE adjustments > 0")) ?? 0) >= 1)
        #expect((Int(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'transition' AND message LIKE '%MONITORING%'")) ?? 0) >= 1)
        // The wallet carried over: cash + positions is the equity recorded.
        #expect(try h.sqlite("SELECT COUNT(*) FROM fills") != "0")
    }
}
