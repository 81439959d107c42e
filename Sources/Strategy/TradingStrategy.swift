import Foundation
import TradingDomain

/// What a strategy reads for one symbol on its newest closed candle.
public struct StrategyReading: Sendable {
    /// The readings the cycle sizes, schedules and values positions with (nil: none).
    public var snapshot: MarketSnapshot?
    /// The signal (nil: no signal this candle).
    public var signal: Signal?
    /// Why the symbol could not be read (the cycle counts it as failed); nil when it could.
    public var problem: String?

    public init(snapshot: MarketSnapshot?, signal: Signal?, problem: String? = nil) {
        self.snapshot = snapshot
        self.signal = signal
        self.problem = problem
    }
}

/// The settings a strategy reads (from the configuration), as the cycle holds them at the time of the call.
public struct StrategySettings: Sendable {
    public var analysis: AnalysisParameters
    public var weights: ScoringWeights
    public var volatilityWindow: Int
    public var barsPerYear: Double
    /// Whether signals carry their named components and indicators (the audit trail's; backtests skip them).
    public var detailed: Bool

    public init(analysis: AnalysisParameters, weights: ScoringWeights, volatilityWindow: Int, barsPerYear: Double, detailed: Bool) {
        self.analysis = analysis
        self.weights = weights
        self.volatilityWindow = volatilityWindow
        self.barsPerYear = barsPerYear
        self.detailed = detailed
    }
}

/// The signal logic the cycle and the backtest call: how a symbol's candles become a signal, how an entry is sized,
/// whether positions get protective levels and adjustments. The cycle never asks which strategy it holds.
///
/// (Named `TradingStrategy`, not `Strategy`: a type named like its module makes `Strategy.X` ambiguous.)
public protocol TradingStrategy: Sendable {
    /// The name on the command line (`--strategy`).
    var name: String { get }
    /// Whether `read` uses the indicator snapshot of the `SnapshotProvider` (a backtest precomputes it only then).
    var readsIndicators: Bool { get }
    /// Whether a signal near the confidence gate may be scored again with the models' opinion.
    var consultsModels: Bool { get }
    /// Whether monitored positions are adjusted (adds, partial take-profit).
    var makesAdjustments: Bool { get }

    /// The snapshot and signal of `symbol` on the newest of `candles` (closed candles, oldest first).
    func read(symbol: Symbol, candles: ArraySlice<Candle>, analyzer: any SnapshotProvider, settings: StrategySettings) -> StrategyReading
    /// The signal scored again with the models' `opinion` (nil: the opinion changes nothing).
    func signal(symbol: Symbol, snapshot: MarketSnapshot, opinion: ModelOpinion, settings: StrategySettings) -> Signal?
    /// The size of a new position at `price`.
    func entrySize(price: Price, snapshot: MarketSnapshot, account: AccountState, limits: RiskLimits) throws -> SizingDecision
    /// The stop and take-profit of `position` (nil: the strategy sets none).
    func protectiveLevels(for position: Position, rules: ExitRules) throws(FixedPointError) -> (stop: Price, takeProfit: Price)?
}

/// The documented strategy: indicators, patterns and chart structure scored into a signal (`SignalScorer`), with the
/// models' opinion near the gate; risk-based sizing; ATR stops and targets; adds and a partial take-profit.
public struct ScoringStrategy: TradingStrategy {
    public init() {}
    public var name: String { "default" }
    public var readsIndicators: Bool { true }
    public var consultsModels: Bool { true }
    public var makesAdjustments: Bool { true }

    public func read(symbol: Symbol, candles: ArraySlice<Candle>, analyzer: any SnapshotProvider, settings: StrategySettings) -> StrategyReading {
        guard let snapshot = analyzer.snapshot(symbol: symbol, candles: candles, parameters: settings.analysis) else {
            return StrategyReading(snapshot: nil, signal: nil, problem: "not enough closed candles to analyse (\(candles.count))")
        }
        return StrategyReading(snapshot: snapshot, signal: SignalScorer.score(symbol: symbol, snapshot: snapshot, weights: settings.weights,
                                                                             detailed: settings.detailed))
    }

    public func signal(symbol: Symbol, snapshot: MarketSnapshot, opinion: ModelOpinion, settings: StrategySettings) -> Signal? {
        SignalScorer.score(symbol: symbol, snapshot: snapshot, weights: settings.weights, opinion: opinion, detailed: settings.detailed)
    }

    public func entrySize(price: Price, snapshot: MarketSnapshot, account: AccountState, limits: RiskLimits) throws -> SizingDecision {
        PositionSizer.entry(price: price, atr: snapshot.atr, account: account, limits: limits)
    }

    public func protectiveLevels(for position: Position, rules: ExitRules) throws(FixedPointError) -> (stop: Price, takeProfit: Price)? {
        try rules.levels(for: position)
    }
}

extension TradingStrategy where Self == ScoringStrategy {
    /// The documented scoring strategy (`--strategy default`).
    public static var scoring: ScoringStrategy { ScoringStrategy() }
}

extension TradingStrategy where Self == SMACrossStrategy {
    /// The reference SMA crossover (`--strategy sma-cross`).
    public static func smaCross(fast: Int, slow: Int, quantity: Quantity) -> SMACrossStrategy {
        SMACrossStrategy(fast: fast, slow: slow, quantity: quantity)
    }
}
