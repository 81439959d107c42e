import Foundation
import Testing

@Suite("tradejob backtest", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct BacktestEndToEndTests {
    static let fixtures = Harness.repository.appendingPathComponent("Tests/BacktestTests/Fixtures")

    @Test func theReferenceStrategyMatchesTheIndependentEngineAndIsDeterministic() throws {
        let h = try Harness()
        defer { h.remove() }
        let csv = Self.fixtures.appendingPathComponent("SYN.csv").path
        let trades = h.root.appendingPathComponent("t.csv").path, equity = h.root.appendingPathComponent("e.csv").path
        let args = ["backtest", "--csv", csv, "--strategy", "sma-cross", "--fast", "10", "--slow", "30", "--size", "10", "--fee", "0.001",
                    "--every-candle", "--trades-out", trades, "--equity-out", equity]
        let r = try h.run(args)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("trades         11"))
        let ours = try String(contentsOfFile: trades, encoding: .utf8).split(separator: "\n")
        let reference = try String(contentsOf: Self.fixtures.appendingPathComponent("SYN.sma_10_30.trades.csv"), encoding: .utf8).split(separator: "\n")
        #expect(ours.first == reference.first, "same columns")
        #expect(ours.count == reference.count)
        for (a, b) in zip(ours.dropFirst(), reference.dropFirst()) {
            let x = a.split(separator: ","), y = b.split(separator: ",")
            #expect(Array(x.prefix(4)) == Array(y.prefix(4)))
            for i in 4..<9 { #expect(abs((Double(x[i]) ?? .nan) - (Double(y[i]) ?? .nan)) <= 1e-6, "\(a) vs \(b)") }
        }
        // Byte-identical outputs for the same inputs; the live state is untouched.
        let first = (try Data(contentsOf: URL(fileURLWithPath: trades)), try Data(contentsOf: URL(fileURLWithPath: equity)), r.stdout)
        // --timing adds its line on stderr only: the outputs stay the same.
        let again = try h.run(args + ["--timing"])
        #expect(again.stdout == first.2)
        #expect(again.stderr.contains("timing: load "), "\(again.stderr)")
        #expect(again.stderr.contains("cycle-symbols"), "\(again.stderr)")
        // The cycles run in full: at least an entry and an exit for each of the 11 closed trades, at most every cycle.
        let counts = Self.cycleCounts(again.stderr)
        #expect(counts.map { $0.full >= 2 * 11 && $0.full < $0.all } == true, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: trades)) == first.0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: equity)) == first.1)
        #expect(!FileManager.default.fileExists(atPath: h.databasePath))
    }

    /// The cycles and the cycles run in full that `--timing`'s line counts (nil when it has no such line).
    static func cycleCounts(_ stderr: String) -> (all: Int, full: Int)? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix("timing: ") }), line.hasSuffix(" cycles run in full)"),
              let open = line.firstIndex(of: "("), let semicolon = line.lastIndex(of: ";") else { return nil }
        let all = line[line.index(after: open)...].prefix { $0.isNumber }
        let full = line[line.index(after: semicolon)...].drop { $0 == " " }.prefix { $0.isNumber }
        guard let a = Int(all), let f = Int(full) else { return nil }
        return (a, f)
    }

    @Test func writesTheHTMLReport() throws {
        let h = try Harness()
        defer { h.remove() }
        let csv = Self.fixtures.appendingPathComponent("SYN.csv").path
        let page = h.root.appendingPathComponent("report.html").path
        let args = ["backtest", "--csv", csv, "--strategy", "sma-cross", "--every-candle", "--html", page]
        let r = try h.run(args)
        #expect(r.code == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<svg id=\"equity-chart\"") && html.contains("<svg id=\"drawdown-chart\""))
        #expect(html.contains("Backtest of the sma-cross strategy on SYN"))
        // The same 11 trades as the summary, each a row of the trades table, and one row per symbol.
        #expect(r.stdout.contains("trades         11"))
        #expect(html.components(separatedBy: "<tr><td>SYN</td>").count - 1 == 11 + 1)
        #expect(!html.contains("<script"), "self-contained, no scripts")
        // Deterministic: the same page again.
        #expect(try h.run(args).code == 0)
        #expect(try String(contentsOfFile: page, encoding: .utf8) == html)
        // A page that cannot be written is a clear error (exit 73) naming it.
        let blocked = h.root.appendingPathComponent("report.html/page.html").path
        let failed = try h.run(["backtest", "--csv", csv, "--strategy", "sma-cross", "--html", blocked])
        #expect(failed.code == 73)
        #expect(failed.stderr.contains(blocked), "\(failed.stderr)")
    }

    /// Every output is checked before the backtest runs: a directory, an empty path or two options naming one file is
    /// refused before the cycles run (no timing line, no file or temporary file left), with exit 73 or 64.
    @Test func outputsThatCannotBeWrittenAreRefusedBeforeTheBacktestRuns() throws {
        let h = try Harness()
        defer { h.remove() }
        let csv = Self.fixtures.appendingPathComponent("SYN.csv").path
        // `--timing` prints its line once the cycles are over, before any output is written: its absence shows that
        // the backtest did not run.
        let base = ["backtest", "--csv", csv, "--strategy", "sma-cross", "--every-candle", "--timing"]
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: h.root.path))
        let directory = try h.run(base + ["--html", h.root.path])
        #expect(directory.code == 73 && directory.stderr.contains("\(h.root.path): it is a directory, not a file"), "\(directory.stderr)")
        let empty = try h.run(base + ["--trades-out", ""])
        #expect(empty.code == 73 && empty.stderr.contains("an empty path: a file name was expected"), "\(empty.stderr)")
        let same = h.root.appendingPathComponent("out.csv").path
        let twice = try h.run(base + ["--trades-out", same, "--equity-out", same])
        #expect(twice.code == 64 && twice.stderr.contains("--trades-out and --equity-out both name"), "\(twice.stderr)")
        for r in [directory, empty, twice] { #expect(!r.stderr.contains("timing:"), "the backtest ran: \(r.stderr)") }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: h.root.path)) == before)
    }

    @Test func badInputIsAClearError() throws {
        let h = try Harness()
        defer { h.remove() }
        let bad = h.root.appendingPathComponent("BAD.csv").path
        try "time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,0.5,0.4,0.45,1\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try h.run(["backtest", "--csv", bad, "--strategy", "sma-cross"])
        #expect(r.code != 0)
        #expect(r.stderr.contains("line 2"))
        #expect(r.stderr.contains("high"))
        #expect(try h.run(["backtest", "--strategy", "sma-cross"]).code == 64)
        // A period outside the input is refused, naming the input's span.
        let outside = try h.run(["backtest", "--csv", Self.fixtures.appendingPathComponent("SYN.csv").path, "--strategy", "sma-cross", "--from", "2099-01-01T00:00:00Z"])
        #expect(outside.code == 64)
        #expect(outside.stderr.contains("select no bar of the input"), "\(outside.stderr)")
        // Files the cycle would read wrongly are refused, naming the file: bars off the timeframe's UTC grid (seen a bar
        // late), a daily file beside an hourly one (a day read before it closed), two files of one symbol.
        func bars(_ name: String, start: Int64, step: Int64, count: Int) throws -> String {
            let path = h.root.appendingPathComponent(name).path
            let lines = (0..<count).map { k in "\(start + Int64(k) * step),100,101,99,100,1" }  // epoch milliseconds
            try (["time,open,high,low,close,volume"] + lines).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let day: Int64 = 86_400_000, hour: Int64 = 3_600_000, jan1: Int64 = 1_704_067_200_000
        let offGrid = try bars("OFF.csv", start: jan1 + 5 * hour, step: day, count: 80)
        let r1 = try h.run(["backtest", "--csv", offGrid, "--strategy", "sma-cross"])
        #expect(r1.code == 64 && r1.stderr.contains("OFF.csv: the bar of 2024-01-01T05:00:00Z does not open on the 1d grid"), "\(r1.stderr)")
        let hourly = try bars("HOURLY.csv", start: jan1, step: hour, count: 300), daily = try bars("DAILY.csv", start: jan1, step: day, count: 80)
        let r2 = try h.run(["backtest", "--csv", hourly, "--csv", daily, "--strategy", "sma-cross"])
        #expect(r2.code == 64 && r2.stderr.contains("DAILY.csv: its bars are most often 1d apart, but the backtest's timeframe is 1h"), "\(r2.stderr)")
        let r3 = try h.run(["backtest", "--csv", hourly, "--strategy", "sma-cross", "--timeframe", "1d"])
        #expect(r3.code == 64 && r3.stderr.contains("HOURLY.csv"), "\(r3.stderr)")
        try FileManager.default.createDirectory(atPath: h.root.appendingPathComponent("other").path, withIntermediateDirectories: true)
        let twin = try bars("other/HOURLY.csv", start: jan1, step: hour, count: 300)
        let r4 = try h.run(["backtest", "--csv", hourly, "--csv", twin, "--strategy", "sma-cross"])
        #expect(r4.code == 64 && r4.stderr.contains("both name the symbol HOURLY"), "\(r4.stderr)")
        #expect(try h.run(["backtest", "--csv", hourly, "--strategy", "sma-cross"]).code == 0, "the hourly file alone is fine")
        // Periods past the largest the search space allows (Int.max among them): a usage error, never a trap.
        for slow in ["9223372036854775807", "10001"] {
            let huge = try h.run(["backtest", "--simulated", "--from", "2024-01-01T00:00:00Z", "--to", "2024-01-02T00:00:00Z", "--strategy", "sma-cross",
                                  "--slow", slow])
            #expect(huge.code == 64 && huge.stderr.contains("expected 1 ≤ fast < slow ≤ 10000"), "--slow \(slow): \(huge.code) \(huge.stderr)")
        }
    }

    /// `--keep-state` refuses the job's own state directory and a directory that already holds a state.
    @Test func keepStateNeverReusesAState() throws {
        let h = try Harness()
        defer { h.remove() }
        let csv = Self.fixtures.appendingPathComponent("SYN.csv").path
        let live = try h.run(["backtest", "--csv", csv, "--strategy", "sma-cross", "--every-candle", "--keep-state", h.stateDir])
        #expect(live.code == 64)
        #expect(live.stderr.contains("the job's state directory"), "\(live.stderr)")
        #expect(!FileManager.default.fileExists(atPath: h.databasePath))
        let kept = h.root.appendingPathComponent("kept").path
        let first = try h.run(["backtest", "--csv", csv, "--strategy", "sma-cross", "--every-candle", "--keep-state", kept])
        #expect(first.code == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: kept + "/tradejob.sqlite"))
        let again = try h.run(["backtest", "--csv", csv, "--strategy", "sma-cross", "--every-candle", "--keep-state", kept])
        #expect(again.code == 64)
        #expect(again.stderr.contains("already holds a state database"), "\(again.stderr)")
    }
}
