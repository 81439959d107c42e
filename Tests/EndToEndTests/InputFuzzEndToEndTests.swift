import Foundation
import Testing
import TestSupport

/// Bad input through the real binary: the saved template loads back, seeded mutated configs end with 0 or 78 (and a
/// refused `run` leaves the state byte-identical), a config in another quote asset than the stored state is refused,
/// and seeded mutated CSVs end `analyze` and `backtest` with 0 or 65 — never a crash.
@Suite("Input fuzzing through the binary", .enabled(if: Harness.available))
struct InputFuzzEndToEndTests {
    static let now = "2024-05-01T12:00:00Z"

    /// Every file under `directory` with its bytes.
    static func snapshot(_ directory: String) -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return files }
        for case let name as String in walker {
            var isDirectory: ObjCBool = false
            let path = directory + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[name] = FileManager.default.contents(atPath: path) ?? Data()
            }
        }
        return files
    }

    @Test func theSavedTemplateValidates() throws {
        let h = try Harness()
        defer { h.remove() }
        for flags in [[], ["--json"]] {
            let template = try h.run(["config", "template"] + flags, addPaths: false)
            #expect(template.code == 0)
            let path = h.root.appendingPathComponent("template.json").path
            try template.stdout.write(toFile: path, atomically: true, encoding: .utf8)
            let validate = try h.run(["config", "validate", "--config", path], addPaths: false)
            #expect(validate.code == 0, "\(flags): \(validate.stderr)")
            #expect(validate.stdout.contains("valid"))
        }
    }

    @Test func mutatedConfigsExitWith0Or78AndARefusedRunWritesNothing() throws {
        let h = try Harness()
        defer { h.remove() }
        let base = try String(contentsOfFile: h.configPath, encoding: .utf8)
        let first = try h.run(["run", "--now", Self.now])
        #expect(first.code == 0, "\(first.stderr)")
        let before = Self.snapshot(h.stateDir)
        #expect(h.account != nil || before["tradejob.sqlite"] != nil)

        var rng = SeededGenerator(seed: 0x16E2_E000)
        let cases = 30
        var refused = 0, accepted = 0, runsRefused = 0
        for index in 0..<cases {
            let data = InputMutations.mutateConfig(base, &rng)
            let path = h.root.appendingPathComponent("fuzz-\(index).json").path
            try data.write(to: URL(fileURLWithPath: path))
            let validate = try h.run(["config", "validate", "--config", path, "--state-dir", h.stateDir], addPaths: false)
            #expect(validate.code == 0 || validate.code == 78, "case \(index): exit \(validate.code): \(validate.stderr.prefix(300))")
            if validate.code == 0 { accepted += 1; continue }
            refused += 1
            #expect(validate.stderr.contains("invalid configuration \(path)"), "case \(index): \(validate.stderr.prefix(300))")
            let run = try h.run(["run", "--now", "2024-05-01T13:00:00Z", "--config", path, "--state-dir", h.stateDir], addPaths: false)
            #expect(run.code == 78, "case \(index): run exit \(run.code)")
            runsRefused += 1
            #expect(Self.snapshot(h.stateDir) == before, "case \(index): the state changed after a refused run")
        }
        print("config fuzz (binary): \(cases) configs through `config validate`: 0 crashes, \(refused) refused with 78, \(accepted) accepted; \(runsRefused) refused `run`s left the state byte-identical")
        #expect(refused > 0 && refused + accepted == cases)
    }

    @Test func aConfigInAnotherQuoteAssetThanTheStateIsRefused() throws {
        let h = try Harness()
        defer { h.remove() }
        let first = try h.run(["run", "--now", Self.now])
        #expect(first.code == 0, "\(first.stderr)")
        let before = Self.snapshot(h.stateDir)
        let usdc = #"{"paper": {"quote_asset": "USDC"}, "market": {"symbols": ["BTCUSDC", "ETHUSDC"]}}"#
        try h.writeConfig(usdc)
        let run = try h.run(["run", "--now", "2024-05-01T13:00:00Z"])
        #expect(run.code == 78)
        let place = h.account.map { "(account \($0))" } ?? h.stateDir
        #expect(run.stderr.contains("paper.quote_asset: got \"USDC\", but the state in ") && run.stderr.contains("\(place) is kept in \"USDT\""), "\(run.stderr)")
        #expect(Self.snapshot(h.stateDir) == before)
        // The same config on a new state is fine (a new state directory; on PostgreSQL a new account).
        if h.account != nil {
            let other = try Harness(config: usdc)
            defer { other.remove() }
            let fresh = try other.run(["run", "--now", Self.now])
            #expect(fresh.code == 0, "\(fresh.stderr)")
        } else {
            let fresh = try h.run(["run", "--now", Self.now, "--config", h.configPath, "--state-dir", h.root.appendingPathComponent("state2").path],
                                  addPaths: false)
            #expect(fresh.code == 0, "\(fresh.stderr)")
        }
    }

    @Test func mutatedCSVsExitWith0Or65() throws {
        let h = try Harness(config: #"{"market": {"lookback": 60}}"#)
        defer { h.remove() }
        var rng = SeededGenerator(seed: 0x16E2_EC57)
        let cases = 24
        var counts: [String: [Int32: Int]] = [:]
        for index in 0..<cases {
            let base = InputMutations.baseCSV(rows: 120, rfc3339: index % 2 == 0, &rng)
            let bytes = InputMutations.mutateCSV(base, &rng)
            let path = h.root.appendingPathComponent("BTCUSDT-\(index).csv").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for command in [["analyze", "--csv", path], ["backtest", "--csv", path, "--timeframe", "1h"]] {
                let result = try h.run(command)
                counts[command[0], default: [:]][result.code, default: 0] += 1
                #expect(result.code == 0 || result.code == 65, "case \(index) \(command[0]): exit \(result.code): \(result.stderr.prefix(300))")
                if result.code == 65 { #expect(result.stderr.contains("line "), "case \(index): \(result.stderr.prefix(300))") }
            }
        }
        // The epoch that used to crash both commands (SIGILL on an overflow).
        let extreme = h.root.appendingPathComponent("EXTREME.csv").path
        try "time,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,10\n9223372036854775807,1,2,0.5,1.5,10\n".write(toFile: extreme, atomically: true, encoding: .utf8)
        for command in [["analyze", "--csv", extreme], ["backtest", "--csv", extreme]] {
            let result = try h.run(command)
            #expect(result.code == 65 && result.stderr.contains("line 3, column time: got \"9223372036854775807\""), "\(result.stderr)")
        }
        let summary = counts.keys.sorted().map { "\($0): \(counts[$0]?.sorted { $0.key < $1.key }.map { "exit \($0.key) × \($0.value)" }.joined(separator: ", ") ?? "")" }
        print("csv fuzz (binary): \(cases) CSVs through analyze and backtest, 0 crashes; " + summary.joined(separator: "; "))
    }
}
