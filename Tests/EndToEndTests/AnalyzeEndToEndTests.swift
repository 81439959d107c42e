import Foundation
import Testing

@Suite("tradejob analyze", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct AnalyzeEndToEndTests {
    static let fixtures = Harness.repository.appendingPathComponent("Tests/TechnicalAnalysisTests/Fixtures")

    /// Compares `analyze` output with a TA-Lib golden file cell by cell: same header, times and empty cells,
    /// pattern integers identical, indicator values within 1e-9 relative (1e-9 absolute near zero).
    static func differences(_ ours: String, _ golden: String) -> [String] {
        let a = ours.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let g = golden.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        guard a.count == g.count, let header = g.first, a.first == header else { return ["header or row count differs: \(a.count) vs \(g.count) rows"] }
        var problems: [String] = []
        for (row, (x, y)) in zip(a, g).enumerated().dropFirst() {
            for (k, name) in header.enumerated() where x[k] != y[k] {
                if name.hasPrefix("cdl") || name == "time" || x[k].isEmpty || y[k].isEmpty {
                    problems.append("row \(row) \(name): \(x[k]) vs \(y[k])")
                } else if let p = Double(x[k]), let q = Double(y[k]), abs(p - q) <= max(1e-9 * abs(q), 1e-9) {
                    continue
                } else {
                    problems.append("row \(row) \(name): \(x[k]) vs \(y[k])")
                }
                if problems.count > 5 { return problems }
            }
        }
        return problems
    }

    @Test(arguments: ["synthetic", "awkward", "patterns", "short"])
    func matchesTheCommittedTALibFixture(name: String) throws {
        let h = try Harness()
        defer { h.remove() }
        let r = try h.run(["analyze", "--csv", Self.fixtures.appendingPathComponent("\(name).csv").path], addPaths: false)
        #expect(r.code == 0, "\(r.stderr)")
        let golden = try String(contentsOf: Self.fixtures.appendingPathComponent("\(name).golden.csv"), encoding: .utf8)
        let problems = Self.differences(r.stdout, golden)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(.enabled(if: TestPaths.shared != nil, "../shared (SPY data and TA-Lib golden file) is absent: skipped"))
    func matchesTALibOnSPY() throws {
        let shared = try #require(TestPaths.shared)
        let h = try Harness()
        defer { h.remove() }
        let r = try h.run(["analyze", "--csv", shared.appendingPathComponent("data/SPY_1d.csv").path], addPaths: false)
        #expect(r.code == 0, "\(r.stderr)")
        let golden = try String(contentsOf: shared.appendingPathComponent("reference/talib/SPY_1d.golden.csv"), encoding: .utf8)
        let problems = Self.differences(r.stdout, golden)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(arguments: [
        ("time,open,high,low,volume\n2024-01-01T00:00:00Z,1,2,0.5,10\n", "close"),
        ("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T01:00:00Z,1,2,0.5,x1,10\n", "line 3, column close"),
        ("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,0.4,0.5,0.45,10\n", "line 2"),
        ("time,open,high,low,close,volume\n2024-01-01T01:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n", "line 3"),
    ])
    func malformedInputIsAnErrorNamingTheLine(text: String, fragment: String) throws {
        let h = try Harness()
        defer { h.remove() }
        let path = h.root.appendingPathComponent("in.csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try h.run(["analyze", "--csv", path], addPaths: false)
        #expect(r.code == 65)
        #expect(r.stderr.contains(fragment) && r.stderr.contains("in.csv"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func analysesStoredCandlesOfASymbol() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let r = try h.run(["analyze", "--symbol", "BTCUSDT"])
        #expect(r.code == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 501, "a header and one row per stored candle")
        #expect(lines.first?.hasPrefix("time,sma_20,ema_20,") == true)
        #expect(lines.last?.hasPrefix("2024-02-29T23:45:00Z,") == true)
        let missing = try h.run(["analyze", "--symbol", "NOPE"])
        #expect(missing.code == 64 && missing.stderr.contains("NOPE"), "\(missing.stderr)")
    }
}

/// `../shared` beside the checkout, when present.
enum TestPaths {
    static var shared: URL? {
        let url = Harness.repository.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("data/SPY_1d.csv").path) ? url : nil
    }
}
