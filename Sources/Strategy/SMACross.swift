import Foundation
import TradingDomain

/// The reference strategy used to validate the backtest against an independent engine: SMA(fast) and
/// SMA(slow) of the close; on the close of bar i, a cross up (fast[i-1] < slow[i-1] and fast[i] > slow[i])
/// is a long signal with confidence 1, a cross down a flat signal with confidence 1; any other bar gives a
/// signal of confidence 0 (no entry, no exit). Fixed quantity, no stops, no adjustments.
public struct SMACrossStrategy: TradingStrategy {
    public var fast: Int
    public var slow: Int
    /// The quantity of every entry.
    public var quantity: Quantity

    public init(fast: Int, slow: Int, quantity: Quantity) {
        self.fast = fast
        self.slow = slow
        self.quantity = quantity
    }

    public var name: String { "sma-cross" }
    public var readsIndicators: Bool { false }
    public var consultsModels: Bool { false }
    public var makesAdjustments: Bool { false }

    /// The signal, and (only with one) a snapshot holding the close and the realised volatility, the rest NaN.
    public func read(symbol: Symbol, candles: ArraySlice<Candle>, analyzer: any SnapshotProvider, settings: StrategySettings) -> StrategyReading {
        guard let signal = Self.signal(symbol: symbol, candles: candles, fast: fast, slow: slow, detailed: settings.detailed),
              let last = candles.last else { return StrategyReading(snapshot: nil, signal: nil) }
        let window = settings.volatilityWindow
        let vol = RunIntervalPolicy.realizedVolatility(closes: candles.suffix(window + 1).map(\.close), window: window,
                                                       barsPerYear: settings.barsPerYear) ?? .nan
        let snapshot = MarketSnapshot(candleTime: last.openTime, close: last.close, emaFast: .nan, emaSlow: .nan, rsi: .nan,
                                      macdHistogram: .nan, bollingerUpper: .nan, bollingerMiddle: .nan, bollingerLower: .nan,
                                      atr: .nan, adx: .nan, volatility: vol, patterns: [:], breakout: 0, regime: 0)
        return StrategyReading(snapshot: snapshot, signal: signal)
    }

    /// None: the crossover alone decides.
    public func signal(symbol: Symbol, snapshot: MarketSnapshot, opinion: ModelOpinion, settings: StrategySettings) -> Signal? { nil }

    /// The fixed quantity, when the cash pays for it with the costs.
    public func entrySize(price: Price, snapshot: MarketSnapshot, account: AccountState, limits: RiskLimits) throws -> SizingDecision {
        let notional = try price.times(quantity, .halfEven)
        return try notional <= account.cash.divided(by: Fixed.one + limits.costRate, .down)
            ? .order(quantity: quantity, notional: notional, boundBy: "fixed_quantity") : .none(reason: "cash: cannot pay for the fixed quantity")
    }

    public func protectiveLevels(for position: Position, rules: ExitRules) throws(FixedPointError) -> (stop: Price, takeProfit: Price)? { nil }

    public static func signal(symbol: Symbol, candles: [Candle], fast: Int, slow: Int) -> Signal? {
        signal(symbol: symbol, candles: candles[...], fast: fast, slow: slow)
    }

    /// `detailed` false leaves out the named components and indicators (the audit trail's; backtests skip them).
    public static func signal(symbol: Symbol, candles window: ArraySlice<Candle>, fast: Int, slow: Int, detailed: Bool = true) -> Signal? {
        let n = window.count
        let base = window.startIndex
        func close(_ k: Int) -> Double { window[base + k].close }
        guard n >= slow + 1, fast >= 1, slow >= 1 else { return nil }
        /// The SMAs ending at bars n − 2 and n − 1, each summed oldest first; the two sums are carried side by side
        /// (independent chains, each added in the same order as on its own).
        func smas(_ period: Int) -> (previous: Double, last: Double) {
            var previous = 0.0, last = 0.0
            for k in (n - 1 - period)..<(n - 1) {
                previous += close(k)
                last += close(k + 1)
            }
            return (previous / Double(period), last / Double(period))
        }
        let (f0, f1) = smas(fast), (s0, s1) = smas(slow)
        let up = f0 < s0 && f1 > s1
        let down = f0 > s0 && f1 < s1
        let last = window[base + n - 1]
        return Signal(symbol: symbol, candleTime: last.openTime, direction: up ? .long : down ? .flat : (f1 > s1 ? .long : .flat),
                      confidence: up || down ? 1 : 0, score: up ? 1 : down ? -1 : 0, components: detailed ? ["sma_cross": up ? 1 : down ? -1 : 0] : [:],
                      indicators: detailed ? ["close": last.close, "sma_fast": f1, "sma_slow": s1] : [:], patterns: [:])
    }
}
