import Foundation
import Testing
import Settings
import Storage
import TradingDomain
@testable import Optimize

@Suite("The optimisation page")
struct OptimizePageTests {
    static let space = SearchSpace(dimensions: [
        .init(path: "strategy.min_confidence", domain: .range(low: Fixed("0.5") ?? 0, high: Fixed("0.7") ?? 0, step: Fixed("0.1"))),
        .init(path: "risk.stop_loss_atr", domain: .range(low: 1, high: 2, step: 1)),
        .init(path: "mode", domain: .choices([.string("paper"), .string("<b>live</b>")])),
    ])

    static func trial(_ n: Int, _ x: Double, _ y: Double, _ mode: String, _ score: Double?) -> TrialResult {
        TrialResult(number: n, point: [.double(x), .double(y), .string(mode)], metrics: TrialMetrics(totalReturn: score ?? 0, trades: 3), score: score)
    }

    static let report = OptimizeReport(space: space, objective: "sharpe", method: "grid", seed: 1, trials: [
        trial(1, 0.5, 1, "paper", 0.25), trial(2, 0.5, 1, "<b>live</b>", 0.75), trial(3, 0.6, 1, "paper", -1),
        trial(4, 0.6, 2, "paper", nil), trial(5, 0.7, 2, "paper", 2),
    ], buyAndHoldReturn: 0.1)

    /// The heatmap's cells' tooltips, in drawing order.
    static func tooltips(_ html: String) -> [String] {
        html.components(separatedBy: "<rect class=\"cell\"").dropFirst().compactMap { part in
            part.components(separatedBy: "<title>").dropFirst().first?.components(separatedBy: "</title>").first
        }
    }

    @Test func eachCellHoldsTheBestScoreOfItsTwoValuesOverTheOtherKeys() {
        let html = OptimizePage.render(Self.report, x: 0, y: 1, time: Timestamp.rfc3339)
        let tips = Self.tooltips(html)
        #expect(tips.count == 3 * 2, "3 confidence values × 2 stop distances")
        // (0.5, 1) was tried twice: 0.25 and 0.75 → the best, 0.75.
        #expect(tips.contains("strategy.min_confidence 0.5, risk.stop_loss_atr 1.0: 0.7500 (2 trials)"), "\(tips)")
        #expect(tips.contains("strategy.min_confidence 0.6, risk.stop_loss_atr 2.0: rejected (1 trials)"))
        #expect(tips.contains("strategy.min_confidence 0.5, risk.stop_loss_atr 2.0: not tried (0 trials)"))
        #expect(tips.contains("strategy.min_confidence 0.7, risk.stop_loss_atr 2.0: 2.0000 (1 trials)"))
        #expect(html.contains("Buy and hold over the period: 10.00%."))
        #expect(!html.contains("<script"))
    }

    @Test func theSameReportGivesTheSameBytesAndTextIsEscaped() {
        let a = OptimizePage.render(Self.report, x: 0, y: 2, time: Timestamp.rfc3339)
        #expect(a == OptimizePage.render(Self.report, x: 0, y: 2, time: Timestamp.rfc3339))
        #expect(!a.contains("<b>live</b>"))
        #expect(a.contains("&quot;&lt;b&gt;live&lt;/b&gt;&quot;"))
    }

    @Test func noHeatmapWithoutTwoDistinctKeys() {
        #expect(!OptimizePage.render(Self.report, x: nil, y: nil, time: Timestamp.rfc3339).contains("id=\"heatmap\""))
        #expect(!OptimizePage.render(Self.report, x: 1, y: 1, time: Timestamp.rfc3339).contains("id=\"heatmap\""))
        #expect(!OptimizePage.render(Self.report, x: 0, y: 7, time: Timestamp.rfc3339).contains("id=\"heatmap\""))
    }

    @Test func manyDistinctValuesOfARangeAreBinnedIntoAtMostTwelveColumns() {
        let space = SearchSpace(dimensions: [
            .init(path: "strategy.min_confidence", domain: .range(low: 0, high: 1, step: nil)),
            .init(path: "risk.stop_loss_atr", domain: .range(low: 1, high: 2, step: 1)),
        ])
        let trials = (0..<100).map { k in
            TrialResult(number: k + 1, point: [.double(Double(k) / 99), .double(Double(1 + k % 2))], metrics: TrialMetrics(), score: Double(k))
        }
        let html = OptimizePage.render(OptimizeReport(space: space, objective: "profit", method: "random", seed: 2, trials: trials), x: 0, y: 1, time: Timestamp.rfc3339)
        let tips = Self.tooltips(html)
        #expect(tips.count == 12 * 2)
        // The last bin of the upper row holds the best trial (k = 99, stop 2).
        #expect(tips.contains { $0.hasSuffix(": 99.0000 (5 trials)") || $0.contains(": 99.0000 (") }, "\(tips.suffix(3))")
        let perBin = tips.compactMap { $0.components(separatedBy: "(").last?.components(separatedBy: " ").first.flatMap { Int($0) } }
        #expect(perBin.reduce(0, +) == 100, "every trial in one bin")
    }

    @Test func walkForwardShowsTheWindowsAndTheOutOfSampleCurve() {
        var report = Self.report
        report.windows = [WalkForwardWindow(index: 1, trainFrom: 0, trainTo: 1_000, testFrom: 2_000, testTo: 3_000, best: [.double(0.6), .double(1), .string("paper")],
                                            inSample: TrialMetrics(totalReturn: 0.2, sharpe: 1.5), outOfSample: TrialMetrics(totalReturn: -0.05, sharpe: -0.3, buyAndHold: 0.02))]
        report.outOfSampleEquity = [EquityPoint(time: 2_000, equity: 100, cash: 100, safeMode: false), EquityPoint(time: 3_000, equity: 95, cash: 95, safeMode: false)]
        let html = OptimizePage.render(report, x: 0, y: 1, time: Timestamp.rfc3339)
        #expect(html.contains("<svg id=\"oos-equity\""))
        #expect(html.contains("<table id=\"windows\">"))
        #expect(html.contains("<td>1.5000</td><td class=\"pos\">20.00%</td><td>-0.3000</td><td class=\"neg\">-5.00%</td>"), "in-sample beside out-of-sample")
    }
}
