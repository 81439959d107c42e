import Foundation
import Backtest
import Brokers
import Cycle
import Settings
import Storage
import Strategy
import TradingDomain

/// Runs one backtest per point of a search space: the base configuration with the point's values set, on candles
/// loaded once. Each trial is the job's own cycle (`BacktestRunner`, state in memory), so a trial is exactly what
/// `tradejob backtest` with that configuration gives.
public struct TrialRunner: Sendable {
    public var space: SearchSpace
    public var base: ResolvedConfig
    public var candles: [Symbol: [Candle]]
    public var everyCandle: Bool
    /// The cycle's parameters and the paper broker's settings for a configuration and the values of the space's
    /// extra keys (the command's strategy choice); throws `ConfigError` for values that do not go together.
    public var setup: @Sendable (ResolvedConfig, [String: ConfigValue]) throws -> (parameters: CycleParameters, paper: PaperSettings)
    /// The analyses made so far, shared by the trials (most trials differ in settings the analysis does not read).
    let analyses = AnalysisCache()

    public init(space: SearchSpace, base: ResolvedConfig, candles: [Symbol: [Candle]], everyCandle: Bool,
                setup: @escaping @Sendable (ResolvedConfig, [String: ConfigValue]) throws -> (parameters: CycleParameters, paper: PaperSettings)) {
        self.space = space
        self.base = base
        self.candles = candles
        self.everyCandle = everyCandle
        self.setup = setup
    }

    /// What one trial gave.
    public enum Outcome: Sendable {
        case ran(BacktestResult)
        /// The point makes an invalid configuration (e.g. `analysis.ema_fast` not below `analysis.ema_slow`).
        case invalid(String)
        /// The backtest stopped with an error (e.g. an amount beyond the fixed-point range).
        case failed(String)
    }

    /// The configuration of `point`.
    public func config(_ point: [ConfigValue]) throws -> ResolvedConfig {
        var overrides: [String: ConfigValue] = [:]
        for (dimension, value) in zip(space.dimensions, point) where space.extraKeys[dimension.path] == nil { overrides[dimension.path] = value }
        return try base.overriding(overrides, source: "search space point")
    }

    /// The values of `point` for the space's extra keys.
    public func extras(_ point: [ConfigValue]) -> [String: ConfigValue] {
        var values: [String: ConfigValue] = [:]
        for (dimension, value) in zip(space.dimensions, point) where space.extraKeys[dimension.path] != nil { values[dimension.path] = value }
        return values
    }

    /// The cycle's parameters and paper settings of `point`.
    public func setup(_ point: [ConfigValue]) throws -> (parameters: CycleParameters, paper: PaperSettings) {
        try setup(try config(point), extras(point))
    }

    /// Buy and hold over cycles from `from` to `to` (as every trial's `BacktestResult.buyAndHoldReturn` there).
    public func buyAndHold(from: Int64?, to: Int64?) throws -> Double {
        let (parameters, paper) = try setup(base, [:])
        return BacktestRunner(parameters: parameters, paper: paper, candles: candles, from: from, to: to, everyCandle: everyCandle).buyAndHoldReturn
    }

    /// The backtest of `point` over cycles from `from` to `to` (nil: the whole history); `chartPoints` > 0 keeps a
    /// sample of the equity curve.
    public func run(_ point: [ConfigValue], from: Int64?, to: Int64?, chartPoints: Int = 0) async throws -> Outcome {
        let parameters: CycleParameters, paper: PaperSettings
        do {
            (parameters, paper) = try setup(point)
        } catch let error as ConfigError {
            return .invalid(error.problems.joined(separator: "; "))
        }
        var runner = BacktestRunner(parameters: parameters, paper: paper, candles: candles, from: from, to: to, everyCandle: everyCandle)
        if parameters.strategy.readsIndicators { runner.precomputed = analyses.analysis(candles, parameters.analysis, lookback: parameters.lookback) }
        do {
            return .ran(try await runner.run(chartPoints: chartPoints))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return .failed("\(error)")
        }
    }
}

/// The precomputed analyses of one set of candles by analysis parameters and lookback: made once, then shared by every
/// trial that needs the same (the newest few kept; each takes about 110 bytes a bar).
final class AnalysisCache: @unchecked Sendable {  // state behind `lock`
    private let lock = NSLock()
    private var made: [PrecomputedAnalysis] = []
    static let capacity = 3

    /// The analysis of `candles` with `parameters` and `lookback`, made now unless one is kept. Made under the lock:
    /// trials that need the same analysis wait for it instead of making it again.
    func analysis(_ candles: [Symbol: [Candle]], _ parameters: AnalysisParameters, lookback: Int) -> PrecomputedAnalysis {
        lock.lock()
        defer { lock.unlock() }
        if let index = made.firstIndex(where: { $0.isMade(with: parameters, lookback: lookback) }) {
            let found = made.remove(at: index)
            made.append(found)
            return found
        }
        let new = PrecomputedAnalysis(candles: candles, parameters: parameters, lookback: lookback)
        made.append(new)
        if made.count > Self.capacity { made.removeFirst() }
        return new
    }
}
