import Foundation
import Testing
@testable import TradejobCLI

/// The not-due tick answered before the argument parser (`IfDueFastPath`): it answers exactly the plain forms, with
/// the normal path's words, and leaves everything else (due, bad input, unknown options, help) to the normal path.
@Suite(.enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote)) struct IfDueFastPathTests {
    static let start = "2024-03-01T00:00:15Z"

    @Test func answersThePlainFormsWithTheNormalPathsLine() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        let normal = try h.run(["run", "--if-due", "--now", "2024-03-01T00:01:00Z"])
        #expect(normal.code == 0)
        let environment = ["TRADEJOB_CONFIG": h.configPath]
        let forms: [[String]] = [
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--config", h.configPath, "--state-dir", h.stateDir],
            ["tradejob", "run", "--state-dir=" + h.stateDir + "/", "--now=2024-03-01T00:01:00Z", "--log-level", "debug", "--if-due"],
            ["tradejob", "run", "--if-due", "--log-format", "json", "--now", "2024-03-01T00:01:00Z", "--state-dir", h.stateDir],
        ]
        for form in forms {
            let line = IfDueFastPath.notDueMessage(arguments: form, environment: environment)
            #expect(line.map { $0 + "\n" } == normal.stdout, "\(form)")
        }
    }

    @Test func leavesEverythingElseToTheNormalPath() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", Self.start]).code == 0)
        let paths = ["--config", h.configPath, "--state-dir", h.stateDir]
        let notFast: [[String]] = [
            ["tradejob", "run", "--now", "2024-03-01T00:01:00Z"] + paths,                      // no --if-due
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T01:00:00Z"] + paths,          // due
            ["tradejob", "run", "--if-due", "--now", "yesterday"] + paths,                     // bad --now: the parser says so
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--help"] + paths,
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--bogus", "x"] + paths,
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--config"],      // a missing value
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--config", "--live"] + paths,
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--live"] + paths, // --live on a paper config
            ["tradejob", "run", "--if-due", "--now", "2024-03-01T00:01:00Z", "--config", h.root.path + "/missing.json", "--state-dir", h.stateDir],
            ["tradejob", "status", "--if-due"] + paths,
        ]
        for form in notFast {
            #expect(IfDueFastPath.notDueMessage(arguments: form, environment: [:]) == nil, "\(form)")
        }
    }
}
