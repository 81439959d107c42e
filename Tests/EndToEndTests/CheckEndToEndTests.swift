import Foundation
import Testing

@Suite("tradejob check", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct CheckEndToEndTests {
    static let csv = BacktestEndToEndTests.fixtures.appendingPathComponent("SYN.csv").path

    @Test func lookaheadPassesOnTheJobsOwnCycle() throws {
        let h = try Harness()
        defer { h.remove() }
        let r = try h.run(["check", "lookahead", "--csv", Self.csv, "--every-candle", "--signals", "4"], environment: ["TRADEJOB__STRATEGY__MIN_CONFIDENCE": "0.2"])
        #expect(r.code == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("4 re-run with the history cut at their cycle"), "\(r.stdout)")
        #expect(r.stdout.split(separator: "\n").last?.hasPrefix("PASS ") == true)
    }

    @Test func recursivePassesWithTheDefaultWindowAndFailsWithExit2WhenItIsTooShort() throws {
        let h = try Harness()
        defer { h.remove() }
        let pass = try h.run(["check", "recursive", "--csv", Self.csv])
        #expect(pass.code == 0, "\(pass.stdout)\(pass.stderr)")
        #expect(pass.stdout.contains("SYN     500 *"), "\(pass.stdout)")
        #expect(pass.stdout.split(separator: "\n").last?.hasPrefix("PASS at market.lookback = 500") == true)
        let fail = try h.run(["check", "recursive", "--csv", Self.csv], environment: ["TRADEJOB__MARKET__LOOKBACK": "60"])
        #expect(fail.code == 2, "\(fail.stdout)\(fail.stderr)")
        #expect(fail.stdout.split(separator: "\n").last?.hasPrefix("FAIL at market.lookback = 60 bars") == true, "\(fail.stdout)")
    }

    @Test func badArgumentsAreUsageErrors() throws {
        let h = try Harness()
        defer { h.remove() }
        let r = try h.run(["check", "recursive", "--csv", Self.csv, "--lengths", "100,abc"])
        #expect(r.code == 64 && r.stderr.contains("--lengths"), "\(r.stderr)")
        let s = try h.run(["check", "lookahead", "--csv", Self.csv, "--signals", "0"])
        #expect(s.code == 64 && s.stderr.contains("--signals"), "\(s.stderr)")
        let missing = try h.run(["check", "lookahead", "--csv", h.root.appendingPathComponent("nope.csv").path])
        #expect(missing.code == 65 && missing.stderr.contains("nope.csv"), "\(missing.stderr)")
    }
}
