import Foundation
import Testing
import TestSupport
@testable import TradejobCLI

/// The not-due tick skips validating the configuration only when `<state>/config_checked` checks exactly its input
/// (config path and bytes, the `TRADEJOB__…` overrides, executable); any change, a missing or a malformed record
/// means full validation, so a broken configuration is still reported at the next tick.
@Suite(.enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote)) struct ConfigCheckTests {
    static let start = "2024-03-01T00:00:15Z"
    static let notDueNow = "2024-03-01T00:01:00Z"
    /// A configuration that parses but does not validate (the tick must report it unless a matching record vouches).
    static let broken = #"{"risk": {"max_open_positions": 0}}"#
    /// Stands for the running executable in the in-process tests.
    static let executable = "test-executable"

    func files(_ dir: String) -> [String: Data] {
        var result: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            result[name] = FileManager.default.contents(atPath: dir + "/" + name) ?? Data()
        }
        return result
    }

    func tick(_ h: Harness, environment: [String: String] = [:], executable: String? = Self.executable) -> String? {
        IfDueFastPath.notDueMessage(arguments: ["tradejob", "run", "--if-due", "--now", Self.notDueNow, "--config", h.configPath, "--state-dir", h.stateDir],
                                    environment: TickEnvironment(environment), executable: executable)
    }

    /// A state after one cycle, its config replaced by `broken` and a record (for `executable`) that vouches for it.
    func brokenButRecorded(environment: [String: String] = [:]) throws -> Harness {
        let h = try Harness()
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        try Self.broken.write(toFile: h.configPath, atomically: true, encoding: .utf8)
        ConfigCheck.record(configPath: h.configPath, configBytes: Array(Self.broken.utf8), environment: environment, mode: "paper", graceSeconds: 60,
                           stateDirectory: h.stateDir, executable: Self.executable)
        return h
    }

    @Test func aCycleRecordsItsConfigAndTheNotDueTickWritesNothing() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        let record = try #require(ConfigCheck.stored(stateDirectory: h.stateDir))
        #expect(record.mode == "paper")
        let before = files(h.stateDir)
        let r = try h.run(["run", "--if-due", "--now", Self.notDueNow])
        #expect(r.code == 0)
        #expect(r.stdout.hasPrefix("not due: next run at "))
        #expect(files(h.stateDir) == before)
        // The next cycle with the same input leaves the record as it is.
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(ConfigCheck.stored(stateDirectory: h.stateDir) == record)
    }

    /// Through the real binary: a config file or an override changed after the cycle that recorded it is validated
    /// at the next not-due tick and reported with exit 78, the state untouched.
    @Test func aChangeAfterTheRecordingCycleIsReportedAtTheNextTick() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        let good = try String(contentsOfFile: h.configPath, encoding: .utf8)
        let before = files(h.stateDir)

        try #"{"risk": {"max_open_positions": 0, "unknown": true}}"#.write(toFile: h.configPath, atomically: true, encoding: .utf8)
        let bad = try h.run(["run", "--if-due", "--now", Self.notDueNow])
        #expect(bad.code == 78)
        #expect(bad.stderr.contains("risk.max_open_positions"))
        #expect(bad.stderr.contains("risk.unknown"))

        try good.write(toFile: h.configPath, atomically: true, encoding: .utf8)
        #expect(try h.run(["run", "--if-due", "--now", Self.notDueNow]).code == 0)
        let badEnv = try h.run(["run", "--if-due", "--now", Self.notDueNow], environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "lots"])
        #expect(badEnv.code == 78)
        #expect(badEnv.stderr.contains("TRADEJOB__RISK__MAX_OPEN_POSITIONS"))

        // A valid change that makes the config live: the live rule is applied to the new mode (usage error, exit 64).
        let live = try #require(good.range(of: #""mode": "paper""#))
        try good.replacingCharacters(in: live, with: #""mode": "live""#).write(toFile: h.configPath, atomically: true, encoding: .utf8)
        let refused = try h.run(["run", "--if-due", "--now", Self.notDueNow])
        #expect(refused.code == 64)
        #expect(refused.stderr.contains("--live"))
        #expect(files(h.stateDir) == before)
    }

    @Test func aMatchingRecordSkipsValidation() throws {
        let h = try brokenButRecorded()
        defer { h.remove() }
        #expect(tick(h)?.hasPrefix("not due: next run at ") == true)
        // Variables that are not tradejob's are not part of the input.
        #expect(tick(h, environment: ["HOME": "/elsewhere", "PATH": "/bin"])?.hasPrefix("not due") == true)
    }

    @Test func changedBytesMeanFullValidation() throws {
        let h = try brokenButRecorded()
        defer { h.remove() }
        try (Self.broken + " ").write(toFile: h.configPath, atomically: true, encoding: .utf8)
        #expect(tick(h) == nil)
        // The same bytes under another path are another input too.
        let other = h.root.path + "/other.json"
        try Self.broken.write(toFile: other, atomically: true, encoding: .utf8)
        #expect(IfDueFastPath.notDueMessage(arguments: ["tradejob", "run", "--if-due", "--now", Self.notDueNow, "--config", other, "--state-dir", h.stateDir],
                                            environment: TickEnvironment([:]), executable: Self.executable) == nil)
    }

    @Test func changedEnvironmentMeansFullValidation() throws {
        let h = try brokenButRecorded(environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "3"])
        defer { h.remove() }
        #expect(tick(h, environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "3"])?.hasPrefix("not due") == true)
        #expect(tick(h) == nil)                                                              // removed
        #expect(tick(h, environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "4"]) == nil)    // another value
        #expect(tick(h, environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "3", "tradejob__risk__max_daily_loss": "1"]) == nil) // added, any case
        // Variables that validation does not read are not part of the check (TRADEJOB_LIVE is applied on every tick).
        #expect(tick(h, environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "3", "TRADEJOB_BINANCE_API_SECRET": "s"])?.hasPrefix("not due") == true)
        #expect(tick(h, environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "3", "TRADEJOB_LIVE": "1"])?.hasPrefix("not due") == true)
        #expect(tick(h, environment: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "3"], executable: Self.executable + " ") == nil)
    }

    @Test func anotherOrAnUnknownExecutableMeansFullValidation() throws {
        let h = try brokenButRecorded()
        defer { h.remove() }
        #expect(tick(h, executable: "another build") == nil)
        #expect(tick(h, executable: nil) == nil)
        #expect(ConfigCheck.executableIdentity() != nil)
    }

    @Test func aDeletedRecordMeansFullValidation() throws {
        let h = try brokenButRecorded()
        defer { h.remove() }
        try FileManager.default.removeItem(atPath: h.stateDir + "/" + ConfigCheck.fileName)
        #expect(tick(h) == nil)
    }

    @Test func aCorruptRecordMeansFullValidation() throws {
        let h = try brokenButRecorded()
        defer { h.remove() }
        let path = h.stateDir + "/" + ConfigCheck.fileName
        let good = try #require(FileManager.default.contents(atPath: path))
        let text = String(decoding: good, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        let check = String(lines[3].dropFirst("check ".count))
        let flipped = String(check.dropLast()) + (check.hasSuffix("0") ? "1" : "0")
        var corruptions: [Data] = [
            Data(), Data("garbage".utf8), Data(good.prefix(good.count / 2)), Data(good.dropLast()), good + Data("extra\n".utf8),
            Data(text.replacingOccurrences(of: "tradejob config check 1", with: "tradejob config check 2").utf8),
            Data(text.replacingOccurrences(of: check, with: flipped).utf8),
            Data(text.replacingOccurrences(of: check, with: check.uppercased()).utf8),
            Data(text.replacingOccurrences(of: "grace_seconds 60", with: "grace_seconds 61").utf8),   // the results are checked too
            Data(text.replacingOccurrences(of: "mode paper", with: "mode paperx").utf8),
            Data(text.replacingOccurrences(of: "grace_seconds 60", with: "grace_seconds -60").utf8),
            Data(text.replacingOccurrences(of: "grace_seconds 60", with: "grace_seconds 99999999999999999999").utf8),
            Data(text.replacingOccurrences(of: "mode paper", with: "mode ").utf8),
            Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8),
        ]
        var generator = SeededGenerator(seed: 20)
        for _ in 0..<40 {
            var bytes = [UInt8](good)
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            if bytes != [UInt8](good) { corruptions.append(Data(bytes)) }
        }
        for (index, corrupt) in corruptions.enumerated() {
            try corrupt.write(to: URL(fileURLWithPath: path))
            #expect(tick(h) == nil, "corruption \(index): \(String(decoding: corrupt, as: UTF8.self))")
        }
        try good.write(to: URL(fileURLWithPath: path))
        #expect(tick(h) != nil)
    }

    @Test func recordsReadBackAsWritten() {
        let record = ConfigCheck.Record(mode: "live", graceSeconds: 3600, check: String(repeating: "0123456789abcdef", count: 2))
        #expect(ConfigCheck.Record(bytes: Array(record.text.utf8)) == record)
        #expect(ConfigCheck.isTradejobVariable("TRADEJOB__RISK__X"))
        #expect(ConfigCheck.isTradejobVariable("tradejob_live"))
        #expect(ConfigCheck.isTradejobVariable("TRADEJOB"))
        #expect(!ConfigCheck.isTradejobVariable("TRADEJO"))
        #expect(!ConfigCheck.isTradejobVariable("MY_TRADEJOB"))
        for name in ["TRADEJOB__RISK__X", "tradejob__risk__x", "TradeJob__", "TRADEJOB_LIVE", "TRADEJOB_", "XTRADEJOB__", "TRADEJOB__é", "tradejob_é"] {
            #expect(ConfigCheck.isOverride(name) == name.uppercased().hasPrefix("TRADEJOB__"), "\(name)")
        }
        #expect(ConfigCheck.check(configPath: "a", configBytes: Array("bc".utf8), variables: [], executable: "x", mode: "paper", graceSeconds: 1)
                    != ConfigCheck.check(configPath: "ab", configBytes: Array("c".utf8), variables: [], executable: "x", mode: "paper", graceSeconds: 1))
    }
}
