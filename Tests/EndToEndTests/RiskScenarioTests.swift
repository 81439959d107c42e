import Foundation
import Testing

/// Scripted 15-minute candles written as CSV files for `market.source: "csv"`.
struct Script {
    static let t0: Int64 = 1_704_067_200_000  // 2024-01-01T00:00:00Z
    static let bar: Int64 = 900_000
    var bars: [(open: Double, high: Double, low: Double, close: Double)] = []

    /// A noisy up-trend of `count` bars from `start` (deterministic).
    mutating func uptrend(_ count: Int, from start: Double, step: Double = 0.002) {
        var price = bars.last?.close ?? start
        for i in 0..<count {
            let wiggle = (i % 3 == 2) ? -0.6 : 1.0
            let next = price * (1 + step * wiggle)
            bars.append((price, max(price, next) * 1.0008, min(price, next) * 0.9992, next))
            price = next
        }
    }

    /// One bar that opens at the previous close and closes `change` lower/higher with the given extremes.
    mutating func bar(closeChange change: Double, lowChange: Double? = nil, highChange: Double? = nil) {
        let open = bars.last?.close ?? 100
        let close = open * (1 + change)
        let low = open * (1 + (lowChange ?? min(0, change))) * 0.999
        let high = open * (1 + (highChange ?? max(0, change))) * 1.001
        bars.append((open, max(high, open, close), min(low, open, close), close))
    }

    mutating func flat(_ count: Int) {
        for _ in 0..<count {
            let p = bars.last?.close ?? 100
            bars.append((p, p * 1.0005, p * 0.9995, p))
        }
    }

    func write(symbol: String, into dir: String) throws {
        var text = "time,open,high,low,close,volume\n"
        for (i, b) in bars.enumerated() {
            text += "\(Script.t0 + Int64(i) * Script.bar),\(b.open),\(b.high),\(b.low),\(b.close),1000\n"
        }
        try text.write(toFile: dir + "/\(symbol).csv", atomically: true, encoding: .utf8)
    }

    /// RFC 3339 of the moment bar `i` has just closed (plus 15 s, like the scheduler's offset).
    static func after(bar i: Int) -> String {
        let ms = t0 + Int64(i + 1) * bar + 15_000
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}

/// A config for scripted scenarios: CSV market, easy entries, everything else off unless a test turns it on.
func scenarioConfig(dataDir: String, symbols: [String], extra: [String: Any] = [:]) -> String {
    var protections: [String: Any] = [
        "max_drawdown": ["enabled": false], "daily_loss": ["enabled": false], "losing_streak": ["enabled": false],
        "symbol_cooldown": ["enabled": false], "error_rate": ["enabled": false],
    ]
    if let p = extra["protections"] as? [String: Any] { for (k, v) in p { protections[k] = v } }
    var risk: [String: Any] = ["risk_per_trade": 0.2, "max_position_fraction": 0.45, "max_total_exposure": 0.95, "stop_loss_atr": 3.0,
                               "take_profit_atr": 100.0, "trailing_stop": false, "partial_take_profit_atr": 0.0, "add_trigger_atr": 50.0]
    if let r = extra["risk"] as? [String: Any] { for (k, v) in r { risk[k] = v } }
    var root: [String: Any] = [
        "market": ["source": "csv", "csv_dir": dataDir, "symbols": symbols, "timeframe": "15m", "lookback": 120],
        "strategy": ["min_confidence": 0.01, "exit_confidence": 1.0],
        "analysis": ["ema_fast": 5, "ema_slow": 12],
        "risk": risk,
        "protections": protections,
    ]
    if let s = extra["safe_mode"] { root["safe_mode"] = s }
    let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}

@Suite("Risk scenarios over many invocations", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct RiskScenarioTests {
    func harness(symbols: [String], scripts: [Script], extra: [String: Any] = [:]) throws -> Harness {
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-csv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        for (symbol, script) in zip(symbols, scripts) { try script.write(symbol: symbol, into: dataDir) }
        return try Harness(config: scenarioConfig(dataDir: dataDir, symbols: symbols, extra: extra))
    }

    func activePositions(_ h: Harness) throws -> Int { Int(try h.sqlite("SELECT COUNT(*) FROM positions WHERE state != 'CLOSED'")) ?? -1 }

    @Test func aCrashTripsTheDrawdownThenSafeModeHoldsThroughTheCooldownAndResumes() throws {
        var s = Script()
        s.uptrend(140, from: 100)
        s.bar(closeChange: -0.03, lowChange: -0.03)
        s.uptrend(100, from: 0)
        let h = try harness(symbols: ["AAAUSDT"], scripts: [s], extra: [
            "protections": ["max_drawdown": ["enabled": true, "fraction": 0.005, "action": "safe_mode"]],
            "risk": ["stop_loss_atr": 50.0],
            "safe_mode": ["cooldown_minutes": 240, "auto_resume": true],
        ])
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Script.after(bar: 130)]).code == 0)
        #expect(try activePositions(h) == 1, "an entry in the up-trend")
        // The crash bar closes: drawdown → safe mode → emergency closure.
        let crash = try h.run(["run", "--now", Script.after(bar: 140)])
        #expect(crash.code == 0, "\(crash.stderr)")
        #expect(try h.safeModeLock() != nil)
        let lock = try h.json(try h.safeModeLock() ?? "")
        #expect(lock["trigger"] as? String == "max_drawdown")
        #expect((lock["positions_closed"] as? [String]) == ["AAAUSDT"])
        #expect(try activePositions(h) == 0)
        #expect(try h.sqlite("SELECT exit_reason FROM positions") == "safe_mode")
        let status = try h.json(try h.run(["status", "--json"]).stdout)
        #expect(status["safe_mode"] as? Bool == true)
        #expect(status["state"] as? String == "SAFE_MODE")
        // The next run time is no later than the lock's until.
        let next = try h.nextRun()
        #expect(next <= (lock["until"] as? String ?? ""))
        // Within the cooldown: no entries even on long signals.
        for i in [146, 150, 154] {
            #expect(try h.run(["run", "--now", Script.after(bar: i)]).code == 0)
            #expect(try activePositions(h) == 0, "bar \(i)")
        }
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'decision' AND message LIKE '%safe mode%'") != "0")
        // After the cooldown: resumes by itself and may enter again.
        #expect(try h.run(["run", "--now", Script.after(bar: 158)]).code == 0)
        #expect(try h.safeModeLock() == nil)
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'safe_mode_exited'") == "1")
        #expect(try h.json(try h.run(["status", "--json"]).stdout)["safe_mode"] as? Bool == false)
    }

    @Test func aGapThroughTheStopBetweenRunsIsNotSkipped() throws {
        var s = Script()
        s.uptrend(140, from: 100)
        s.bar(closeChange: 0.0, lowChange: -0.2)   // bar 140 dives through the stop and recovers
        s.uptrend(20, from: 0)
        let h = try harness(symbols: ["AAAUSDT"], scripts: [s])
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Script.after(bar: 130)]).code == 0)
        #expect(try activePositions(h) == 1)
        // The next run comes long after the dip (bars 131…150 unseen by any run).
        #expect(try h.run(["run", "--now", Script.after(bar: 150)]).code == 0)
        #expect(try h.sqlite("SELECT exit_reason FROM positions ORDER BY id LIMIT 1") == "stop_loss")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'decision' AND message LIKE 'exit: stop_loss%2024-01-02T11:00:00Z%'") == "1")
    }

    @Test func aLosingStreakBlocksEntries() throws {
        var a = Script(), b = Script()
        a.uptrend(140, from: 100)
        b.uptrend(140, from: 50)
        a.bar(closeChange: 0.0, lowChange: -0.03)
        b.bar(closeChange: 0.0, lowChange: -0.03)
        a.uptrend(40, from: 0)
        b.uptrend(40, from: 0)
        let h = try harness(symbols: ["AAAUSDT", "BBBUSDT"], scripts: [a, b], extra: [
            "protections": ["losing_streak": ["enabled": true, "count": 2, "lookback_minutes": 600, "action": "block_entries", "block_minutes": 240]],
        ])
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Script.after(bar: 130)]).code == 0)
        #expect(try activePositions(h) == 2)
        #expect(try h.run(["run", "--now", Script.after(bar: 140)]).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM positions WHERE exit_reason = 'stop_loss'") == "2")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'protection_triggered' AND message LIKE 'losing_streak%'") == "1")
        #expect(try h.run(["run", "--now", Script.after(bar: 150)]).code == 0)
        #expect(try activePositions(h) == 0)
        let status = try h.json(try h.run(["status", "--json"]).stdout)
        let decisions = status["decisions"] as? [String: String] ?? [:]
        #expect(decisions["AAAUSDT"]?.contains("losing_streak") == true, "\(decisions)")
        // After the block: entries again.
        #expect(try h.run(["run", "--now", Script.after(bar: 170)]).code == 0)
        #expect(try activePositions(h) >= 1)
    }

    @Test func theDailyLossLimitResetsAtMidnightUTC() throws {
        // Bars 0…95 are 2024-01-01; 96 starts 2024-01-02.
        var s = Script()
        s.uptrend(80, from: 100)
        s.bar(closeChange: -0.05)  // bar 80: stop-loss exit, a loss of the day
        s.uptrend(60, from: 0)
        let h = try harness(symbols: ["AAAUSDT"], scripts: [s], extra: [
            "protections": ["daily_loss": ["enabled": true, "fraction": 0.01, "action": "block_entries"]],
        ])
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Script.after(bar: 70)]).code == 0)
        #expect(try activePositions(h) == 1)
        #expect(try h.run(["run", "--now", Script.after(bar: 80)]).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'protection_triggered' AND message LIKE 'daily_loss%'") == "1")
        #expect(try h.run(["run", "--now", Script.after(bar: 94)]).code == 0)  // 23:45 UTC: still blocked
        #expect(try activePositions(h) == 0)
        #expect(try h.sqlite("SELECT message FROM events WHERE kind = 'decision' ORDER BY id DESC LIMIT 1").contains("daily_loss"))
        #expect(try h.run(["run", "--now", Script.after(bar: 97)]).code == 0)  // the next UTC day
        #expect(try activePositions(h) == 1)
    }

    @Test func aCorruptLockfileKeepsSafeModeUntilCleared() throws {
        var s = Script()
        s.uptrend(160, from: 100)
        let h = try harness(symbols: ["AAAUSDT"], scripts: [s])
        defer { h.remove() }
        try FileManager.default.createDirectory(atPath: h.stateDir, withIntermediateDirectories: true)
        try h.setSafeModeLock("{ this is not json")
        #expect(try h.run(["run", "--now", Script.after(bar: 130)]).code == 0)
        #expect(try activePositions(h) == 0)
        let status = try h.run(["safe-mode", "status"])
        #expect(status.stdout.contains("fail closed"))
        #expect(status.stdout.contains("tradejob safe-mode clear"))
        #expect(try h.json(try h.run(["status", "--json"]).stdout)["safe_mode"] as? Bool == true)
        #expect(try h.run(["safe-mode", "clear", "--now", Script.after(bar: 131)]).code == 0)
        #expect(try h.run(["run", "--now", Script.after(bar: 132)]).code == 0)
        #expect(try activePositions(h) == 1)
    }

    @Test func aRunKilledDuringTheEmergencyClosureIsFinishedByTheNext() throws {
        var a = Script(), b = Script()
        a.uptrend(160, from: 100)
        b.uptrend(160, from: 50)
        let h = try harness(symbols: ["AAAUSDT", "BBBUSDT"], scripts: [a, b])
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Script.after(bar: 130)]).code == 0)
        #expect(try activePositions(h) == 2)
        #expect(try h.run(["safe-mode", "enter", "--reason", "operator test", "--for", "2h", "--now", Script.after(bar: 131)]).code == 0)
        let killed = try h.run(["run", "--now", Script.after(bar: 132)], environment: ["TRADEJOB_FAILPOINT": "after-emergency-order"])
        #expect(killed.code == 137)
        #expect(try activePositions(h) == 1, "one position closed before the process died")
        #expect(try h.run(["run", "--now", Script.after(bar: 133)]).code == 0)
        #expect(try activePositions(h) == 0)
        let lock = try h.json(try h.safeModeLock() ?? "")
        #expect(Set(lock["positions_closed"] as? [String] ?? []) == ["AAAUSDT", "BBBUSDT"])
        #expect(try h.sqlite("SELECT COUNT(*) FROM runs WHERE outcome = 'crashed'") == "1")
        // Exactly one closing order filled per position.
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders WHERE purpose = 'EMERGENCY_CLOSE' AND status = 'FILLED'") == "2")
    }

    @Test func withoutAutoResumeSafeModeHoldsUntilCleared() throws {
        var s = Script()
        s.uptrend(200, from: 100)
        let h = try harness(symbols: ["AAAUSDT"], scripts: [s], extra: ["safe_mode": ["cooldown_minutes": 60, "auto_resume": false]])
        defer { h.remove() }
        #expect(try h.run(["safe-mode", "enter", "--reason", "hold", "--for", "30m", "--now", Script.after(bar: 129)]).code == 0)
        #expect(try h.run(["run", "--now", Script.after(bar: 130)]).code == 0)
        // Long after `until`: still in safe mode, nothing opened.
        #expect(try h.run(["run", "--now", Script.after(bar: 160)]).code == 0)
        #expect(try h.safeModeLock() != nil)
        #expect(try activePositions(h) == 0)
        #expect(try h.json(try h.run(["safe-mode", "status", "--json"]).stdout)["cooldown_over"] as? Bool == true)
        #expect(try h.run(["safe-mode", "clear", "--now", Script.after(bar: 161)]).code == 0)
        #expect(try h.run(["run", "--now", Script.after(bar: 162)]).code == 0)
        #expect(try activePositions(h) == 1)
    }
}
