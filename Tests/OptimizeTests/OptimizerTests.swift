import Foundation
import Testing
import Backtest
import Brokers
import Cycle
import MarketData
import Settings
import TradingDomain
@testable import Optimize

@Suite("Optimizer: trials, ranking, walk-forward windows, the best values as a configuration")
struct OptimizerTests {
    static func defaults() throws -> ResolvedConfig {
        try ConfigLoader.resolve(data: Data("{}".utf8), file: "(defaults)", environment: [:])
    }

    static func runner(_ space: SearchSpace, symbols: [String] = ["AAAUSDT", "BBBUSDT"], bars: Int = 600) throws -> TrialRunner {
        let tf = try #require(Timeframe("1h"))
        var candles: [Symbol: [Candle]] = [:]
        for name in symbols {
            let symbol = Symbol(rawValue: name)
            candles[symbol] = SimulatedMarket.closedCandles(symbol: symbol, timeframe: tf, after: nil, limit: bars, now: 1_700_000_000_000)
        }
        let list = candles.keys.sorted()
        return TrialRunner(space: space, base: try defaults(), candles: candles, everyCandle: true) { config, _ in
            var parameters = try CycleParameters(config: config)
            parameters.timeframe = tf
            parameters.symbols = list
            parameters.lookback = 100
            let paper = PaperSettings(startingCash: config.decimal("paper.starting_cash"), quoteAsset: config.string("paper.quote_asset"),
                                      feeRate: config.decimal("paper.fee_rate"), slippageBasisPoints: config.decimal("paper.slippage_bps"))
            return (parameters, paper)
        }
    }

    static let space = SearchSpace(dimensions: [
        .init(path: "strategy.min_confidence", domain: .range(low: Fixed("0.3") ?? 0, high: Fixed("0.6") ?? 0, step: Fixed("0.1"))),
        .init(path: "risk.stop_loss_atr", domain: .range(low: 1, high: 3, step: 1)),
    ])

    @Test func aWalkForwardPlanCutsRollingWindowsWhoseTestPartsFollowOneAnother() throws {
        let times = (0..<100).map { Int64($0) * 10 }
        let plan = try WalkForwardPlan(times: times, count: 4, trainFraction: 0.7)
        // S = ⌊100 / (4 + 0.7/0.3)⌋ = 15 test times, T = 100 − 4·15 = 40 train times.
        #expect(plan.windows.count == 4)
        #expect(plan.windows[0] == .init(trainFrom: 0, trainTo: 390, testFrom: 400, testTo: 540))
        #expect(plan.windows[1] == .init(trainFrom: 150, trainTo: 540, testFrom: 550, testTo: 690))
        for (a, b) in zip(plan.windows, plan.windows.dropFirst()) { #expect(b.testFrom == a.testTo + 10, "test parts back to back") }
        #expect(plan.windows.last?.testTo == 990, "the last test part runs to the end")
        for w in plan.windows { #expect(w.trainTo < w.testFrom) }
        #expect(throws: WalkForwardError.self) { try WalkForwardPlan(times: Array(times.prefix(10)), count: 4, trainFraction: 0.7) }
        #expect(throws: WalkForwardError.self) { try WalkForwardPlan(times: times, count: 0, trainFraction: 0.7) }
        #expect(throws: WalkForwardError.self) { try WalkForwardPlan(times: times, count: 2, trainFraction: 1) }
    }

    @Test func rankingPutsTheBestScoreFirstRejectedTrialsLastAndBreaksTiesByNumber() {
        func trial(_ n: Int, _ s: Double?) -> TrialResult { TrialResult(number: n, point: [], metrics: TrialMetrics(), score: s) }
        let ranked = Optimizer.ranked([trial(1, 0.5), trial(2, nil), trial(3, 2), trial(4, 0.5), trial(5, -1), trial(6, nil)])
        #expect(ranked.map(\.number) == [3, 1, 4, 5, 2, 6])
    }

    @Test func theSystemQualityNumberIsRootNTimesMeanOverSampleDeviation() {
        // P&L 1, 2, 3: mean 2, sample deviation 1 → √3 · 2.
        #expect(abs(TrialMetrics.systemQuality([1, 2, 3]) - 3.0.squareRoot() * 2) < 1e-12)
        #expect(TrialMetrics.systemQuality([5]) == 0)
        #expect(TrialMetrics.systemQuality([2, 2, 2]) == 0)
        #expect(Objective.sqn.score(TrialMetrics(sqn: 1.5)) == 1.5)
        #expect(Objective.calmar.score(TrialMetrics(calmar: -0.25)) == -0.25)
    }

    @Test func runAllKeepsTheItemsOrderForAnyNumberOfJobs() async throws {
        for jobs in [1, 2, 5, 50] {
            let out = try await Optimizer.runAll(Array(0..<23), jobs: jobs) { $0 * $0 }
            #expect(out == (0..<23).map { $0 * $0 })
        }
    }

    @Test func aPointThatBreaksARelationBetweenKeysIsRejectedNotFatal() async throws {
        let space = SearchSpace(dimensions: [.init(path: "analysis.ema_fast", domain: .range(low: 40, high: 60, step: 20))])
        let runner = try Self.runner(space)
        guard case let .invalid(message) = try await runner.run([.int(60)], from: nil, to: nil) else {
            Issue.record("ema_fast 60 ≥ ema_slow 50 must be invalid")
            return
        }
        #expect(message.contains("analysis.ema_fast"))
        let trial = Optimizer.score(.invalid(message), point: [.int(60)], number: 1,
                                    settings: OptimizeSettings(method: .grid, trials: 1, seed: 1, objective: .sharpe, minTrades: 0, jobs: 1))
        #expect(trial.score == nil)
        #expect(trial.note?.hasPrefix("invalid configuration: ") == true)
        #expect(OptimizeText.resultsCSV(OptimizeReport(space: space, objective: "sharpe", method: "grid", seed: 1, trials: [trial]), ranked: [trial]).contains(",\"invalid configuration: analysis.ema_fast: got 60"))
    }

    @Test func aTrialIsTheBacktestOfItsConfigurationAndTheSearchDoesNotDependOnJobs() async throws {
        let runner = try Self.runner(Self.space)
        var outcomes: [[TrialResult]] = []
        for jobs in [1, 3] {
            let settings = OptimizeSettings(method: .grid, trials: 100, seed: 3, objective: .profit, minTrades: 0, jobs: jobs)
            outcomes.append(try await Optimizer.search(runner, settings: settings, from: nil, to: nil))
        }
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[0].count == 12, "the whole 4 × 3 grid")
        // Each trial is the backtest of its point run on its own (its own analysis, not the shared one).
        for trial in outcomes[0] {
            let (parameters, paper) = try runner.setup(trial.point)
            let result = try await BacktestRunner(parameters: parameters, paper: paper, candles: runner.candles, everyCandle: true).run()
            #expect(TrialMetrics(result) == trial.metrics)
        }
        let first = try #require(outcomes[0].first)
        #expect(first.score == first.metrics.totalReturn)
    }

    @Test func theBestValuesFileLoadsAsAConfigurationWithThoseValues() throws {
        let base = try ConfigLoader.resolve(data: Data(#"{"risk": {"max_open_positions": 2}, "paper": {"starting_cash": "5000"}}"#.utf8), file: "base.json", environment: [:])
        let text = OptimizeText.bestConfig(base: base, space: Self.space, point: [.double(0.4), .double(2)])
        let loaded = try ConfigLoader.resolve(data: Data(text.utf8), file: "best.json", environment: [:])
        #expect(loaded.values["strategy.min_confidence"] == .double(0.4))
        #expect(loaded.values["risk.stop_loss_atr"] == .double(2))
        #expect(loaded.values["risk.max_open_positions"] == .int(2), "the base's own settings kept")
        #expect(loaded.values["paper.starting_cash"] == base.values["paper.starting_cash"])
        #expect(!text.contains("api_key"), "no secret key written")
    }

    @Test func aPointTriedBeforeIsNotBacktestedAgain() async throws {
        let space = SearchSpace(dimensions: [.init(path: "risk.trailing_stop", domain: .choices([.bool(true), .bool(false)]))])
        let runner = try Self.runner(space, symbols: ["AAAUSDT"], bars: 300)
        final class Count: @unchecked Sendable { var most = 0 }  // written from the search loop only
        let count = Count()
        let settings = OptimizeSettings(method: .tpe, trials: 12, seed: 4, objective: .profit, minTrades: 0, jobs: 2)
        let trials = try await Optimizer.search(runner, settings: settings, from: nil, to: nil) { done in count.most = max(count.most, done) }
        #expect(trials.count == 12)
        #expect(trials.map(\.number) == Array(1...12))
        #expect(count.most <= 2, "two points, so at most two backtests")
        for t in trials {
            let twin = try #require(trials.first { $0.point == t.point })
            #expect(t.metrics == twin.metrics && t.score == twin.score)
        }
    }
}
