import Foundation
import Testing

/// A stored value no version writes is refused through the real binary: exit 70 naming the table, column and value,
/// never read as some default, and left as it was.
@Suite("corrupt rows", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct CorruptRowEndToEndTests {
    @Test func anUnknownRunOutcomeStopsRunAndStatusWithExit70() throws {
        let h = try Harness()
        defer { h.remove() }
        let first = try h.run(["run", "--now", "2024-03-01T00:00:15Z"])
        try #require(first.code == 0, "baseline run: \(first.stderr)")
        _ = try h.sqlite("UPDATE runs SET outcome = 'exploded'")
        for arguments in [["status"], ["run", "--now", "2024-03-01T01:00:15Z"]] {
            let r = try h.run(arguments)
            #expect(r.code == 70, "\(arguments[0]): exit \(r.code), stderr: \(r.stderr)")
            #expect(r.stderr.contains("table runs") && r.stderr.contains("column outcome") && r.stderr.contains("unknown value \"exploded\""),
                    "\(arguments[0]): \(r.stderr)")
        }
        #expect(try h.sqlite("SELECT COUNT(*) FROM runs WHERE outcome = 'exploded'") == "1", "the stored value is left as it was")
        #expect(try h.sqlite("SELECT COUNT(*) FROM runs") == "1", "no run was started on a corrupt state")
    }
}
