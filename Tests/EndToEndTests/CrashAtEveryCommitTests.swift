import Foundation
import Testing
import TestSupport

/// For every kind of cycle (first run, entry, add, partial take-profit, exit, safe-mode closure) the real binary is
/// killed right after its k-th commit to the state database (`TRADEJOB_CRASH_AFTER_COMMIT=k`), for every k the cycle
/// makes, and run again; after each recovery the money invariants of `PaperInvariants` must hold.
@Suite("Crash at every commit", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct CrashAtEveryCommitTests {
    /// A state just before a cycle of the kind, and the time that cycle runs at.
    struct Scenario {
        var kind: String
        var before: Harness
        var now: String
        var safeMode = false
    }

    /// Runs the default config (simulated market, paper broker) from 2024-03-01 as the job schedules itself, keeping
    /// a copy of the state before the first cycle of each kind.
    static func scenarios() throws -> (scenarios: [Scenario], trail: Harness) {
        let trail = try Harness()
        var now = "2024-03-01T00:00:15Z"
        var found: [String: Scenario] = [:]
        var previousOrders = 0
        for run in 0..<120 {
            let before = try Harness()
            if run > 0 { try before.copyState(from: trail) }
            let r = try trail.run(["run", "--now", now])
            guard r.code == 0 else {
                Issue.record("the reference run at \(now) failed: \(r.code) \(r.stderr)")
                before.remove()
                break
            }
            let purposes = Set(try trail.sqlite("SELECT purpose FROM orders WHERE id > \(previousOrders)").split(separator: "\n").map(String.init))
            previousOrders = Int(try trail.sqlite("SELECT COALESCE(MAX(id), 0) FROM orders")) ?? previousOrders
            var kinds: [String] = run == 0 ? ["first run"] : purposes.map { ["ENTRY": "entry", "ADD": "add", "PARTIAL_TP": "partial take-profit", "EXIT": "exit"][$0] ?? $0 }
            // Safe mode is entered by hand before a cycle that finds at least two positions open.
            let open = run == 0 ? 0 : Int(try before.sqlite("SELECT COUNT(*) FROM positions WHERE state != 'CLOSED'")) ?? 0
            if open >= 2 { kinds.append("safe-mode closure") }
            for kind in kinds where found[kind] == nil {
                let copy = try Harness()
                if run > 0 { try copy.copyState(from: before) }
                found[kind] = Scenario(kind: kind, before: copy, now: now, safeMode: kind == "safe-mode closure")
            }
            before.remove()
            if found.count == 6 { break }
            now = try trail.nextRun()
        }
        return (found.values.sorted { $0.kind < $1.kind }, trail)
    }

    @Test func everyCycleKindRecoversFromACrashAfterEachOfItsCommits() throws {
        let (scenarios, trail) = try Self.scenarios()
        defer {
            trail.remove()
            for s in scenarios { s.before.remove() }
        }
        #expect(Set(scenarios.map(\.kind)) == ["first run", "entry", "add", "partial take-profit", "exit", "safe-mode closure"],
                "every cycle kind occurred in the reference runs")
        var figures: [String] = []
        for scenario in scenarios {
            var crashes = 0, commits = 0
            for k in 1...400 {
                let h = try Harness()
                defer { h.remove() }
                if scenario.kind != "first run" { try h.copyState(from: scenario.before) }
                if scenario.safeMode {
                    #expect(try h.run(["safe-mode", "enter", "--reason", "crash test"]).code == 0)
                }
                let crashed = try h.run(["run", "--now", scenario.now], environment: ["TRADEJOB_CRASH_AFTER_COMMIT": "\(k)"])
                if crashed.code == 0 {
                    commits = k - 1
                    let invariants = try PaperInvariants.read(h)
                    #expect(invariants.holds, "\(scenario.kind), uninterrupted: \(invariants)")
                    break
                }
                #expect(crashed.code == 137, "\(scenario.kind), crash after commit \(k): exit \(crashed.code) \(crashed.stderr)")
                crashes += 1
                let rerun = try h.run(["run", "--now", scenario.now])
                #expect(rerun.code == 0, "\(scenario.kind), rerun after a crash at commit \(k): \(rerun.stderr)")
                let invariants = try PaperInvariants.read(h)
                #expect(invariants.holds, "\(scenario.kind), after a crash at commit \(k) and a rerun: \(invariants)")
                if !invariants.holds { break }
            }
            #expect(commits > 0, "\(scenario.kind): the cycle finished within 400 commits")
            figures.append("\(scenario.kind): \(commits) commits, \(crashes) crashes recovered")
        }
        print("crash at every commit: " + figures.joined(separator: "; "))
    }
}
