import Foundation
import Testing

@Suite("tradejob optimize", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct OptimizeEndToEndTests {
    static let csv = BacktestEndToEndTests.fixtures.appendingPathComponent("SYN.csv").path
    static let space = #"{"strategy.min_confidence": [0.4, 0.6, 0.1], "risk.stop_loss_atr": [1.5, 2.5, 0.5]}"#

    func write(_ text: String, _ name: String, in h: Harness) throws -> String {
        let path = h.root.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The CSV's rows as dictionaries keyed by the header.
    func rows(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test func aGridSearchRanksEveryPointAndItsBestValuesReproduceTheTrialInABacktest() throws {
        let h = try Harness()
        defer { h.remove() }
        let space = try write(Self.space, "space.json", in: h)
        let results = h.root.appendingPathComponent("results.csv").path, best = h.root.appendingPathComponent("best.json").path
        let r = try h.run(["optimize", "--csv", Self.csv, "--every-candle", "--space", space, "--method", "grid", "--objective", "profit",
                           "--min-trades", "1", "--jobs", "2", "--results-out", results, "--best-out", best])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("optimize: grid, 9 trials"), "\(r.stdout)")
        let ranked = try rows(results)
        #expect(ranked.count == 9)
        #expect(Set(ranked.map { "\($0["strategy.min_confidence"] ?? "")/\($0["risk.stop_loss_atr"] ?? "")" }).count == 9, "every grid point once")
        let scores = ranked.compactMap { Double($0["score"] ?? "") }
        #expect(scores == scores.sorted(by: >), "best first")
        // The best values as a configuration: a backtest with it gives the top trial's return.
        let top = try #require(ranked.first)
        let config = try String(contentsOfFile: best, encoding: .utf8)
        #expect(config.contains("\"min_confidence\": \(top["strategy.min_confidence"] ?? "?")"), "\(config)")
        let again = try h.run(["backtest", "--csv", Self.csv, "--every-candle", "--config", best, "--state-dir", h.stateDir], addPaths: false)
        #expect(again.code == 0, "\(again.stderr)")
        let expected = String(format: "total return   %.4f%%", (Double(top["total_return"] ?? "") ?? .nan) * 100)
        #expect(again.stdout.contains(expected), "\(again.stdout) vs \(expected)")
        // The same buy-and-hold figure beside the search as in the backtest's summary.
        let holding = again.stdout.split(separator: "\n").first { $0.hasPrefix("buy and hold") }?.split(separator: " ").last.map(String.init)
        #expect(holding != nil && r.stdout.contains("buy and hold over the period: \(holding ?? "?")"), "\(r.stdout)")
    }

    @Test func theResultsDoNotDependOnTheNumberOfJobs() throws {
        let h = try Harness()
        defer { h.remove() }
        let space = try write(Self.space, "space.json", in: h)
        var outputs: [Data] = []
        for jobs in ["1", "3"] {
            let out = h.root.appendingPathComponent("r\(jobs).json").path
            let r = try h.run(["optimize", "--csv", Self.csv, "--every-candle", "--space", space, "--method", "tpe", "--trials", "20", "--seed", "7",
                               "--jobs", jobs, "--results-out", out])
            #expect(r.code == 0, "\(r.stderr)")
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
        }
        #expect(outputs.count == 2 && outputs[0] == outputs[1])
    }

    @Test func walkForwardScoresEachWindowsChoiceOnTheFollowingTestPart() throws {
        let h = try Harness()
        defer { h.remove() }
        let space = try write(Self.space, "space.json", in: h)
        let json = h.root.appendingPathComponent("wf.json").path
        let r = try h.run(["optimize", "--csv", Self.csv, "--every-candle", "--space", space, "--method", "random", "--trials", "6",
                           "--walk-forward", "3", "--train", "70%", "--results-out", json])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("walk-forward: 3 windows"), "\(r.stdout)")
        #expect(r.stdout.contains("out-of-sample return (test parts joined)"))
        #expect(r.stdout.contains("strategy.min_confidence: "), "parameter stability line")
        let text = try String(contentsOfFile: json, encoding: .utf8)
        #expect(text.components(separatedBy: "\"window\": ").count - 1 == 3)
        #expect(text.contains("\"out_of_sample\": {"))
    }

    @Test func badInputGetsAClearMessageAndTheDocumentedExitCode() throws {
        let h = try Harness()
        defer { h.remove() }
        let unknown = try write(#"{"strategy.min_confidense": [0.4, 0.6, 0.1]}"#, "unknown.json", in: h)
        let r1 = try h.run(["optimize", "--csv", Self.csv, "--space", unknown])
        #expect(r1.code == 78, "\(r1.stderr)")
        #expect(r1.stderr.contains("invalid search space") && r1.stderr.contains("unknown.json") && r1.stderr.contains("strategy.min_confidense"), "\(r1.stderr)")
        let space = try write(Self.space, "space.json", in: h)
        let r2 = try h.run(["optimize", "--csv", Self.csv, "--space", space, "--from", "2021-06-01T00:00:00Z", "--walk-forward", "100"])
        #expect(r2.code == 64, "\(r2.stderr)")
        #expect(r2.stderr.contains("too few"), "\(r2.stderr)")
        let r3 = try h.run(["optimize", "--csv", Self.csv, "--space", space, "--heatmap", "risk.stop_loss_atr,nope"])
        #expect(r3.code == 64 && r3.stderr.contains("--heatmap"), "\(r3.stderr)")
        let r4 = try h.run(["optimize", "--csv", Self.csv, "--space", space, "--method", "annealing"])
        #expect(r4.code == 64 && r4.stderr.contains("--method"), "\(r4.stderr)")
        let r5 = try h.run(["optimize", "--csv", Self.csv, "--space", h.root.appendingPathComponent("missing.json").path])
        #expect(r5.code == 78 && r5.stderr.contains("missing.json"), "\(r5.stderr)")
        // An output that cannot be written is refused before any trial runs (no summary), not after the search.
        let r6 = try h.run(["optimize", "--csv", Self.csv, "--space", space, "--best-out", h.root.path])
        #expect(r6.code == 73 && r6.stderr.contains("is a directory, not a file") && !r6.stdout.contains("trials"), "\(r6.stdout)\n\(r6.stderr)")
        let r7 = try h.run(["optimize", "--csv", Self.csv, "--space", space, "--results-out", "out.csv", "--html", "./out.csv"])
        #expect(r7.code == 64 && r7.stderr.contains("--results-out and --html both name ./out.csv"), "\(r7.stderr)")
    }

    @Test(.enabled(if: ReportEndToEndTests.chromium != nil, "chromium is not installed: the browser rendering check is skipped"))
    func theOptimisationPageRendersInHeadlessChromium() throws {
        guard let chromium = ReportEndToEndTests.chromium else { return }
        let h = try Harness()
        defer { h.remove() }
        let space = try write(Self.space, "space.json", in: h)
        let page = h.root.appendingPathComponent("optimize.html").path
        let r = try h.run(["optimize", "--csv", Self.csv, "--every-candle", "--space", space, "--method", "grid", "--walk-forward", "2", "--html", page])
        #expect(r.code == 0, "\(r.stderr)")
        let (status, dom) = try ReportEndToEndTests.dumpDOM(chromium: chromium, page: page, profile: h.root.appendingPathComponent("chrome").path)
        #expect(status == 0)
        #expect(dom.components(separatedBy: "class=\"cell\"").count - 1 == 3 * 3, "a cell per value pair of the 3 × 3 grid")
        #expect(dom.contains("<svg id=\"oos-equity\""))
        #expect(dom.contains("<table id=\"windows\">") && dom.contains("<table id=\"trials\">"))
        #expect(dom.components(separatedBy: "<tr><td>").count - 1 >= 2 + 9, "two windows and the nine trials")
    }

    @Test func theReferenceStrategysPeriodsCanBeSearchedAndTheBestReproducesItsBacktest() throws {
        let h = try Harness()
        defer { h.remove() }
        let space = try write(#"{"sma_cross.fast": [5, 20, 5], "sma_cross.slow": [10, 40, 10]}"#, "sma.json", in: h)
        let results = h.root.appendingPathComponent("sma.csv").path
        let r = try h.run(["optimize", "--csv", Self.csv, "--strategy", "sma-cross", "--every-candle", "--space", space, "--method", "grid",
                           "--objective", "profit", "--results-out", results])
        #expect(r.code == 0, "\(r.stderr)")
        let ranked = try rows(results)
        #expect(ranked.count == 16)
        // fast ≥ slow is an invalid point, rejected with its reason, not an error.
        let invalid = try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").filter { $0.contains("expected less than sma_cross.slow") }
        #expect(invalid.count == 4, "(10,10), (15,10), (20,10), (20,20)")
        let top = try #require(ranked.first)
        let fast = top["sma_cross.fast"] ?? "?", slow = top["sma_cross.slow"] ?? "?"
        #expect(r.stdout.contains("best sma-cross options: --fast \(fast) --slow \(slow)"), "\(r.stdout)")
        let again = try h.run(["backtest", "--csv", Self.csv, "--strategy", "sma-cross", "--every-candle", "--fast", fast, "--slow", slow])
        let expected = String(format: "total return   %.4f%%", (Double(top["total_return"] ?? "") ?? .nan) * 100)
        #expect(again.stdout.contains(expected), "\(again.stdout) vs \(expected)")
        // The periods are not configuration keys: with the default strategy they are refused.
        let refused = try h.run(["optimize", "--csv", Self.csv, "--space", space])
        #expect(refused.code == 78 && refused.stderr.contains("sma_cross.fast (line 1): no configuration key"), "\(refused.stderr)")
    }
}
