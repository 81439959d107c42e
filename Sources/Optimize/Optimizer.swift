import Foundation
import Backtest
import Settings
import Storage
import TradingDomain

/// How a search runs.
public struct OptimizeSettings: Sendable {
    public var method: SamplerMethod
    public var trials: Int
    public var seed: UInt64
    public var objective: Objective
    /// Trials with fewer closed trades are rejected (no score).
    public var minTrades: Int
    /// Trials run at the same time (tasks in this process).
    public var jobs: Int
    public init(method: SamplerMethod, trials: Int, seed: UInt64, objective: Objective, minTrades: Int, jobs: Int) {
        self.method = method
        self.trials = trials
        self.seed = seed
        self.objective = objective
        self.minTrades = minTrades
        self.jobs = jobs
    }

    /// Points asked of the sampler at once. TPE learns from the trials of earlier batches, so its batch has a fixed
    /// size, the same for any number of jobs (the trials, and so the results, do not depend on `jobs`); grid and
    /// random points do not depend on earlier trials and come in one batch.
    var batchSize: Int { method == .tpe ? Self.tpeBatch : max(trials, 1) }
    static let tpeBatch = 8
}

/// Parameter search over backtests: the sampler proposes points, each point is a backtest (`TrialRunner`), the
/// objective scores it.
public enum Optimizer {
    /// Runs `settings.trials` trials (fewer when a grid is smaller) over cycles from `from` to `to`; the trials in the
    /// order proposed. `progress` is told the number of finished trials.
    public static func search(_ runner: TrialRunner, settings: OptimizeSettings, from: Int64?, to: Int64?,
                              progress: (@Sendable (Int) -> Void)? = nil) async throws -> [TrialResult] {
        var sampler = try makeSampler(settings.method, space: runner.space, seed: settings.seed, trials: settings.trials)
        var results: [TrialResult] = []
        var history: [SampledTrial] = []
        var tried: [[ConfigValue]: TrialResult] = [:]
        while results.count < settings.trials {
            let points = sampler.propose(count: min(settings.batchSize, settings.trials - results.count), history: history)
            if points.isEmpty { break }
            let first = results.count + 1
            // A point tried before gives the same backtest (it is deterministic): its figures are taken over, not
            // run again. Only the first of equal points in a batch runs.
            var fresh: [[ConfigValue]] = []
            for point in points where tried[point] == nil && !fresh.contains(point) { fresh.append(point) }
            let done = results.count
            let batch = try await runAll(fresh, jobs: settings.jobs, finished: { progress?(done + $0) }) { point in
                try await runner.run(point, from: from, to: to)
            }
            for (point, outcome) in zip(fresh, batch) { tried[point] = score(outcome, point: point, number: 0, settings: settings) }
            for (offset, point) in points.enumerated() {
                guard var trial = tried[point] else { continue }
                trial.number = first + offset
                results.append(trial)
                history.append(SampledTrial(point: point, score: trial.score))
            }
        }
        return results
    }

    /// A trial's figures and score (nil: rejected for too few trades, an invalid configuration or a failed backtest).
    static func score(_ outcome: TrialRunner.Outcome, point: [ConfigValue], number: Int, settings: OptimizeSettings) -> TrialResult {
        switch outcome {
        case let .ran(result):
            let metrics = TrialMetrics(result)
            let value = settings.objective.score(metrics)
            let qualifies = metrics.trades >= settings.minTrades && value.isFinite
            return TrialResult(number: number, point: point, metrics: metrics, score: qualifies ? value : nil)
        case let .invalid(message):
            return TrialResult(number: number, point: point, metrics: TrialMetrics(), score: nil, note: "invalid configuration: " + message)
        case let .failed(message):
            return TrialResult(number: number, point: point, metrics: TrialMetrics(), score: nil, note: "backtest failed: " + message)
        }
    }

    /// `body` for every item, at most `jobs` at a time; the outputs in the items' order. `finished` is told how many
    /// are done after each.
    static func runAll<Item: Sendable, Output: Sendable>(_ items: [Item], jobs: Int, finished: (Int) -> Void = { _ in },
                                                         _ body: @escaping @Sendable (Item) async throws -> Output) async throws -> [Output] {
        try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            var outputs = [Output?](repeating: nil, count: items.count)
            var next = 0
            func startNext() {
                let index = next, item = items[index]
                next += 1
                group.addTask { (index, try await body(item)) }
            }
            while next < min(max(jobs, 1), items.count) { startNext() }
            var done = 0
            while let (index, output) = try await group.next() {
                outputs[index] = output
                done += 1
                finished(done)
                if next < items.count { startNext() }
            }
            return outputs.compactMap { $0 }
        }
    }

    /// Best first: by score (rejected trials last), ties by trial number.
    public static func ranked(_ trials: [TrialResult]) -> [TrialResult] {
        trials.sorted { a, b in
            switch (a.score, b.score) {
            case let (x?, y?): return x != y ? x > y : a.number < b.number
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.number < b.number
            }
        }
    }
}
