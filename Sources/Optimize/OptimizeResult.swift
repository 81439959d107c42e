import Foundation
import Settings
import Storage
import TradingDomain

/// The figures of one backtest that objectives rank by (Double: analytics).
public struct TrialMetrics: Sendable, Equatable {
    public var totalReturn: Double
    public var cagr: Double
    public var sharpe: Double
    public var sortino: Double
    /// CAGR over the maximum drawdown (0 when there was no drawdown).
    public var calmar: Double
    public var maxDrawdown: Double
    /// Van Tharp's system quality number: √trades × mean trade P&L / its standard deviation.
    public var sqn: Double
    public var trades: Int
    public var winRate: Double
    public var profitFactor: Double
    /// Buy and hold over the same period (the same for every trial of a period).
    public var buyAndHold: Double
    public init(totalReturn: Double = 0, cagr: Double = 0, sharpe: Double = 0, sortino: Double = 0, calmar: Double = 0, maxDrawdown: Double = 0,
                sqn: Double = 0, trades: Int = 0, winRate: Double = 0, profitFactor: Double = 0, buyAndHold: Double = 0) {
        self.totalReturn = totalReturn
        self.cagr = cagr
        self.sharpe = sharpe
        self.sortino = sortino
        self.calmar = calmar
        self.maxDrawdown = maxDrawdown
        self.sqn = sqn
        self.trades = trades
        self.winRate = winRate
        self.profitFactor = profitFactor
        self.buyAndHold = buyAndHold
    }
}

/// One trial: the point tried, its figures and its score.
public struct TrialResult: Sendable, Equatable {
    /// 1-based, in the order the sampler proposed it.
    public var number: Int
    public var point: [ConfigValue]
    public var metrics: TrialMetrics
    /// The objective's value; nil when the trial was rejected (fewer trades than `--min-trades`).
    public var score: Double?
    /// Why a trial was rejected other than for its score: an invalid configuration or a backtest that failed.
    public var note: String?
    public init(number: Int, point: [ConfigValue], metrics: TrialMetrics, score: Double?, note: String? = nil) {
        self.number = number
        self.point = point
        self.metrics = metrics
        self.score = score
        self.note = note
    }
}

/// One window of a walk-forward run: the parameters chosen on its train part and how they did on its test part.
public struct WalkForwardWindow: Sendable, Equatable {
    /// 1-based.
    public var index: Int
    /// Open times (ms, UTC) of the first and last bar of each part.
    public var trainFrom: Int64
    public var trainTo: Int64
    public var testFrom: Int64
    public var testTo: Int64
    /// The best trial's point on the train part (nil when no trial qualified).
    public var best: [ConfigValue]?
    public var inSample: TrialMetrics
    public var outOfSample: TrialMetrics
    public init(index: Int, trainFrom: Int64, trainTo: Int64, testFrom: Int64, testTo: Int64, best: [ConfigValue]?,
                inSample: TrialMetrics, outOfSample: TrialMetrics) {
        self.index = index
        self.trainFrom = trainFrom
        self.trainTo = trainTo
        self.testFrom = testFrom
        self.testTo = testTo
        self.best = best
        self.inSample = inSample
        self.outOfSample = outOfSample
    }
}

/// What `tradejob optimize` found: the trials ranked, and with walk-forward the windows and the joined out-of-sample
/// equity curve.
public struct OptimizeReport: Sendable {
    public var space: SearchSpace
    /// `sharpe`, `sortino`, `calmar`, `profit` or `sqn`.
    public var objective: String
    public var method: String
    public var seed: UInt64
    /// Every trial of the whole-history search (without walk-forward), or of the last window's train part.
    public var trials: [TrialResult]
    public var windows: [WalkForwardWindow]
    /// The out-of-sample segments joined into one curve (walk-forward only), each segment starting at the equity the
    /// previous one ended with.
    public var outOfSampleEquity: [EquityPoint]
    /// Buy and hold over the same period (equal weights across the symbols), for comparison; with walk-forward over
    /// the test parts joined.
    public var buyAndHoldReturn: Double?
    public init(space: SearchSpace, objective: String, method: String, seed: UInt64, trials: [TrialResult], windows: [WalkForwardWindow] = [],
                outOfSampleEquity: [EquityPoint] = [], buyAndHoldReturn: Double? = nil) {
        self.space = space
        self.objective = objective
        self.method = method
        self.seed = seed
        self.trials = trials
        self.windows = windows
        self.outOfSampleEquity = outOfSampleEquity
        self.buyAndHoldReturn = buyAndHoldReturn
    }
}
