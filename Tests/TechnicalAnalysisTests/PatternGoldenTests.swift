import Foundation
import Testing
@testable import TechnicalAnalysis

@Suite("Candlestick patterns against TA-Lib")
struct PatternGoldenTests {
    /// Patterns that TA-Lib never fires on the SPY data; the committed fixtures cover them.
    static let silentOnSPY: Set<CandlestickPattern> = [.cdl3starsinsouth, .cdlabandonedbaby, .cdlbreakaway, .cdlconcealbabyswall,
                                                       .cdlkicking, .cdlkickingbylength, .cdlmathold, .cdlrisefall3methods]

    @Test(.enabled(if: IndicatorGoldenTests.spy != nil, "../shared (SPY data and TA-Lib golden file) is absent: skipped"),
          arguments: CandlestickPattern.allCases)
    func matchesTALibOnEveryBarOfSPY(pattern: CandlestickPattern) throws {
        let (s, g) = try #require(IndicatorGoldenTests.spy)
        let theirs = try #require(g.columns[pattern.rawValue])
        #expect(theirs.contains { $0 != 0 } == !Self.silentOnSPY.contains(pattern), "whether the golden column fires on SPY")
        let problems = PatternComparison.mismatches(pattern, series: s, golden: theirs)
        #expect(problems.isEmpty, "\(pattern.rawValue): \(problems)")
    }

    /// The committed fixtures: TA-Lib 0.8.2 (PyPI) on bars made by `make_pattern_bars.py` and `make_synthetic_ohlcv.py`.
    static let fixtures = ["patterns", "awkward", "synthetic", "short"]

    @Test(arguments: fixtures)
    func matchesTALibOnCommittedFixture(name: String) throws {
        let series = try OHLCVCSV.parse(String(contentsOf: TestData.fixtures.appendingPathComponent("\(name).csv"), encoding: .utf8))
        let golden = try GoldenFile(path: TestData.fixtures.appendingPathComponent("\(name).golden.csv").path)
        for pattern in CandlestickPattern.allCases {
            let theirs = try #require(golden.columns[pattern.rawValue])
            let problems = PatternComparison.mismatches(pattern, series: series, golden: theirs)
            #expect(problems.isEmpty, "\(name) \(pattern.rawValue): \(problems)")
        }
        for (column, values) in StandardAnalysis.compute(series).indicators {
            let problems = golden.mismatches(column, values)
            #expect(problems.isEmpty, "\(name): \(problems)")
        }
    }

    @Test func committedFixturesMakeEveryPatternFireThatSPYDoesNot() throws {
        var fired = Set<String>()
        for name in Self.fixtures {
            let golden = try GoldenFile(path: TestData.fixtures.appendingPathComponent("\(name).golden.csv").path)
            for pattern in CandlestickPattern.allCases where golden.columns[pattern.rawValue]?.contains(where: { $0 != 0 }) == true {
                fired.insert(pattern.rawValue)
            }
        }
        let missing = Self.silentOnSPY.map(\.rawValue).filter { !fired.contains($0) }
        #expect(missing.isEmpty, "patterns no fixture exercises: \(missing)")
    }
}

enum PatternComparison {
    static func mismatches(_ pattern: CandlestickPattern, series s: OHLCVSeries, golden theirs: [Double]) -> [String] {
        let ours = pattern.compute(PatternBars(open: s.open, high: s.high, low: s.low, close: s.close))
        guard ours.count == theirs.count else { return ["\(ours.count) bars vs \(theirs.count)"] }
        var problems: [String] = []
        for i in ours.indices where Double(ours[i]) != theirs[i] {
            problems.append("bar \(i): \(ours[i]) vs \(theirs[i])")
            if problems.count > 5 { break }
        }
        return problems
    }
}
