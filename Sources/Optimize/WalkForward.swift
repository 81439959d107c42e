import Foundation
import Backtest
import Settings
import Storage
import TradingDomain

/// Rolling walk-forward windows: history cut into `windows` train/test pairs, each train part followed by its test
/// part, the windows moving forward by one test length so the test parts follow one another without overlap.
public struct WalkForwardPlan: Sendable, Equatable {
    /// One window's cycle times (UTC ms): cycles from `trainFrom` to `trainTo`, then from `testFrom` to `testTo`.
    public struct Window: Sendable, Equatable {
        public var trainFrom: Int64
        public var trainTo: Int64
        public var testFrom: Int64
        public var testTo: Int64
    }

    public var windows: [Window]

    /// Splits the `times` (ascending cycle times: the bars' open times of the period) into `count` windows whose train
    /// part is `trainFraction` of a window: with N times, a test part of S = ⌊N / (count + f / (1 − f))⌋ and a train part
    /// of N − count·S times, so the train and test parts of a window are in the ratio f : 1 − f (up to rounding) and
    /// the test parts cover the last count·S times. Throws when a part would hold fewer than 2 times.
    public init(times: [Int64], count: Int, trainFraction: Double) throws(WalkForwardError) {
        guard count >= 1 else { throw WalkForwardError(message: "--walk-forward: got \(count), expected at least 1 window") }
        guard trainFraction > 0, trainFraction < 1 else {
            throw WalkForwardError(message: "--train: got \(trainFraction * 100)%, expected more than 0% and less than 100%")
        }
        let n = times.count
        let test = Int(Double(n) / (Double(count) + trainFraction / (1 - trainFraction)))
        let train = n - count * test
        guard test >= 2, train >= 2 else {
            throw WalkForwardError(message: "--walk-forward \(count): \(n) bars are too few for \(count) windows (each train and test part needs at least 2 bars)")
        }
        windows = (0..<count).map { k in
            let start = k * test
            let testEnd = k == count - 1 ? n - 1 : start + train + test - 1
            return Window(trainFrom: times[start], trainTo: times[start + train - 1], testFrom: times[start + train], testTo: times[testEnd])
        }
    }
}

/// A walk-forward plan that cannot be made (message for the user).
public struct WalkForwardError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

extension Optimizer {
    /// Walk-forward optimisation: on each window's train part a search (`search`, the seed advanced by the window's
    /// index), the best point then backtested on the window's test part. The out-of-sample segments are joined into one
    /// equity curve, each scaled to start at the equity the previous one ended with. Also returns the last window's
    /// trials.
    public static func walkForward(_ runner: TrialRunner, settings: OptimizeSettings, plan: WalkForwardPlan, chartPoints: Int = 2_000,
                                   progress: (@Sendable (Int, Int) -> Void)? = nil) async throws
        -> (windows: [WalkForwardWindow], equity: [EquityPoint], lastTrials: [TrialResult], buyAndHold: Double) {
        var windows: [WalkForwardWindow] = []
        var joined: [EquityPoint] = []
        var lastTrials: [TrialResult] = []
        var holding = 1.0
        var running = try runner.setup(runner.base, [:]).paper.startingCash.double
        let perSegment = max(2, chartPoints / max(plan.windows.count, 1))
        for (k, window) in plan.windows.enumerated() {
            var windowSettings = settings
            windowSettings.seed = settings.seed &+ UInt64(k)
            let trials = try await search(runner, settings: windowSettings, from: window.trainFrom, to: window.trainTo) { done in progress?(k + 1, done) }
            lastTrials = trials
            let best = ranked(trials).first(where: { $0.score != nil })
            var outOfSample = TrialMetrics()
            // Buy and hold over the test part, whatever was chosen (the sat-out window's too).
            outOfSample.buyAndHold = try runner.buyAndHold(from: window.testFrom, to: window.testTo)
            holding *= 1 + outOfSample.buyAndHold
            if let best, case let .ran(result) = try await runner.run(best.point, from: window.testFrom, to: window.testTo, chartPoints: perSegment) {
                outOfSample = TrialMetrics(result)  // the same buy and hold
                let start = result.startingCash.double
                let base = running
                let scale = start > 0 ? base / start : 1
                for point in result.equityChart {
                    joined.append(EquityPoint(time: point.time, equity: scaled(point.equity, scale), cash: scaled(point.cash, scale), safeMode: point.safeMode))
                }
                running = result.equityChart.last.map { $0.equity.double * scale } ?? base
            } else {
                // No qualifying point: the test part is sat out, the equity flat.
                let value = (try? Money(double: running)) ?? Money(raw: 0)
                joined.append(EquityPoint(time: window.testFrom, equity: value, cash: value, safeMode: false))
                joined.append(EquityPoint(time: window.testTo, equity: value, cash: value, safeMode: false))
            }
            windows.append(WalkForwardWindow(index: k + 1, trainFrom: window.trainFrom, trainTo: window.trainTo, testFrom: window.testFrom,
                                             testTo: window.testTo, best: best?.point, inSample: best?.metrics ?? TrialMetrics(), outOfSample: outOfSample))
        }
        return (windows, joined, lastTrials, holding - 1)
    }

    /// `money` × `scale`, exact when the scale is 1 (analytics otherwise: the joined curve is a chart, not an account).
    static func scaled(_ money: Money, _ scale: Double) -> Money {
        scale == 1 ? money : ((try? Money(double: money.double * scale)) ?? money)
    }
}
