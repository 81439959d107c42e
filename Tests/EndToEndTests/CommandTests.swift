import Foundation
import Testing

@Suite("status, schedule, config and safe-mode commands", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct CommandTests {
    @Test func configTemplateIsCompleteAndValid() throws {
        let h = try Harness()
        defer { h.remove() }
        let template = try h.run(["config", "template", "--json"], addPaths: false)
        #expect(template.code == 0)
        try h.writeConfig(template.stdout)
        let validate = try h.run(["config", "validate"])
        #expect(validate.code == 0, "\(validate.stderr)")
        let commented = try h.run(["config", "template"], addPaths: false).stdout
        #expect(commented.contains("// "))
        #expect(commented.contains("\"min_confidence\": 0.6"))
    }

    @Test func configShowAppliesEnvironmentOverridesAndRedactsSecrets() throws {
        let h = try Harness(config: #"{"notifications": {"webhook_url": "https://hooks.example/very-secret"}}"#)
        defer { h.remove() }
        let show = try h.run(["config", "show"], environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "7"])
        #expect(show.code == 0)
        #expect(show.stdout.contains("\"max_open_positions\": 7"))
        #expect(!show.stdout.contains("very-secret"))
    }

    @Test func configValidateReportsEveryError() throws {
        let h = try Harness(config: #"{"mode": "yolo", "risk": {"max_open_positions": -1}, "extra": 1}"#)
        defer { h.remove() }
        let r = try h.run(["config", "validate"])
        #expect(r.code == 78)
        for fragment in ["mode", "risk.max_open_positions", "extra"] { #expect(r.stderr.contains(fragment), "\(fragment)") }
    }

    @Test func scheduleReportsTheStoredNextRun() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let next = try h.nextRun()
        let before = try h.json(try h.run(["schedule", "--json", "--now", "2024-03-01T00:01:00Z"]).stdout)
        #expect(before["next_run_at"] as? String == next)
        #expect(before["due"] as? Bool == false)
        #expect(before["interval_seconds"] as? Int != nil)
        #expect(before["reason"] as? String != nil)
        let after = try h.json(try h.run(["schedule", "--json", "--now", next]).stdout)
        #expect(after["due"] as? Bool == true)
    }

    @Test func safeModeCommandsRoundTrip() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let enter = try h.run(["safe-mode", "enter", "--reason", "maintenance", "--for", "1h", "--now", "2024-03-01T00:05:00Z"])
        #expect(enter.code == 0)
        let status = try h.json(try h.run(["safe-mode", "status", "--json"]).stdout)
        #expect(status["active"] as? Bool == true)
        #expect(status["reason"] as? String == "maintenance")
        #expect(status["until"] as? String == "2024-03-01T01:05:00Z")
        #expect(try h.run(["safe-mode", "enter", "--reason", "x", "--for", "soon"]).code == 64)
        // Durations whose milliseconds overflow, or that end after the year 9999: a usage error, never a trap.
        for huge in ["200000000000d", "9223372036854775s", "36501d"] {
            let refused = try h.run(["safe-mode", "enter", "--reason", "x", "--for", huge])
            #expect(refused.code == 64 && refused.stderr.contains("--for: got \"\(huge)\""), "\(huge): \(refused.code) \(refused.stderr)")
        }
        // The next run closes everything and opens nothing.
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM positions WHERE state != 'CLOSED'") == "0")
        #expect(try h.run(["safe-mode", "clear"]).code == 0)
        #expect(try h.json(try h.run(["safe-mode", "status", "--json"]).stdout)["active"] as? Bool == false)
    }

    /// A mistyped `migrate-state` is a usage error that never shows the password in the URL it was given.
    @Test func migrateStateUsageErrorsHideThePassword() throws {
        let h = try Harness()
        defer { h.remove() }
        for to in [["postgres://tradejob:S3cret@db/tradejob"], ["postgres", "postgres://tradejob:S3cret@db/tradejob", "extra"]] {
            let r = try h.run(["migrate-state", "--from", "sqlite", h.stateDir, "--to"] + to, addPaths: false)
            #expect(r.code == 64, "\(r.stderr)")
            #expect(r.stderr.contains("postgres://tradejob:***@db/tradejob") && !r.stderr.contains("S3cret"), "\(r.stderr)")
        }
    }

    @Test func liveModeNeedsTheFlagAndRefusesNow() throws {
        let h = try Harness(config: #"{"mode": "live"}"#)
        defer { h.remove() }
        let refused = try h.run(["run"])
        #expect(refused.code == 64)
        #expect(refused.stderr.contains("--live"))
        let withNow = try h.run(["run", "--live", "--now", "2024-03-01T00:00:15Z"])
        #expect(withNow.code == 64)
        #expect(withNow.stderr.contains("--now"))
    }
}
