import Foundation
import TechnicalAnalysis
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
    /// Read from `SMACrossColumns` when `analyzer` holds them for this window (a backtest), else from the window.
    public func read(symbol: Symbol, candles: ArraySlice<Candle>, analyzer: any SnapshotProvider, settings: StrategySettings) -> StrategyReading {
        let signal: Signal?, vol: Double
        if !settings.detailed, let columns = analyzer.smaCrossColumns, let reading = columns.reading(symbol: symbol, window: candles) {
            signal = candles.last.flatMap { last in reading.crossing?.signal(symbol: symbol, candle: last, fast: .nan, slow: .nan, detailed: false) }
            vol = reading.volatility
        } else {
            signal = Self.signal(symbol: symbol, candles: candles, fast: fast, slow: slow, detailed: settings.detailed)
            vol = signal == nil ? .nan
                : RunIntervalPolicy.realizedVolatility(candles: candles, window: settings.volatilityWindow, barsPerYear: settings.barsPerYear) ?? .nan
        }
        guard let signal, let last = candles.last else { return StrategyReading(snapshot: nil, signal: nil) }
        let snapshot = MarketSnapshot(candleTime: last.openTime, close: last.close, emaFast: .nan, emaSlow: .nan, rsi: .nan,
                                      macdHistogram: .nan, bollingerUpper: .nan, bollingerMiddle: .nan, bollingerLower: .nan,
                                      atr: .nan, adx: .nan, volatility: vol, patterns: PatternHits(sortedHits: []), breakout: 0, regime: 0)
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
        let last = window[base + n - 1]
        return Crossing(f0: f0, f1: f1, s0: s0, s1: s1).signal(symbol: symbol, candle: last, fast: f1, slow: s1, detailed: detailed)
    }

    /// What the crossover reads at one bar: a cross up, a cross down, or neither with the fast SMA above the slow one
    /// or not. `signal` turns it into the strategy's signal.
    public enum Crossing: UInt8, Sendable {
        case up, down, above, notAbove

        /// From the SMAs ending at the bar before (`f0`, `s0`) and at the bar (`f1`, `s1`).
        @inline(__always)
        public init(f0: Double, f1: Double, s0: Double, s1: Double) {
            self = f0 < s0 && f1 > s1 ? .up : f0 > s0 && f1 < s1 ? .down : f1 > s1 ? .above : .notAbove
        }

        /// The signal on `candle` (the window's newest); `fast` and `slow` (the SMAs at it) only name indicators when `detailed`.
        public func signal(symbol: Symbol, candle: Candle, fast: Double, slow: Double, detailed: Bool) -> Signal {
            let crossing: Double = self == .up ? 1 : self == .down ? -1 : 0
            // The empty tables built directly (their literals go through a general, slower path).
            return Signal(symbol: symbol, candleTime: candle.openTime, direction: self == .up || self == .above ? .long : .flat,
                          confidence: crossing != 0 ? 1 : 0, score: crossing, components: detailed ? ["sma_cross": crossing] : [String: Double](),
                          indicators: detailed ? ["close": candle.close, "sma_fast": fast, "sma_slow": slow] : [String: Double](),
                          patterns: PatternHits(sortedHits: []))
        }
    }

    /// Per bar i of `candles`, the crossing `signal` reads from a window whose newest candle is bar i and that holds at
    /// least `slow + 1` candles (so nil before bar `slow`): the same sums in the same order, so bit for bit the same
    /// SMAs, computed for all bars at once (each bar's sum is still added oldest first, the bars side by side), a block
    /// of bars at a time through buffers of the block's size (no column of closes or SMAs as long as the history).
    /// Empty unless 1 ≤ fast ≤ slow.
    public static func crossings(_ candles: [Candle], fast: Int, slow: Int, blockSize: Int = 2048) -> [Crossing?] {
        let n = candles.count
        guard fast >= 1, slow >= fast, n > slow else { return fast >= 1 && slow >= fast ? Array(repeating: nil, count: n) : [] }
        let block = max(1, blockSize)
        var out = [Crossing?](repeating: nil, count: n)
        // For the bars `first ..< end` of a block: the SMAs at bars first − 1 ..< end (local index t at bar first − 1 + t),
        // whose windows read the closes from bar first − slow on (local index m at bar first − slow + m).
        var closes = [Double](repeating: 0, count: block + slow)
        var fastSums = [Double](repeating: 0, count: block + 1), slowSums = [Double](repeating: 0, count: block + 1)
        let fastDivisor = Double(fast), slowDivisor = Double(slow)
        candles.withUnsafeBufferPointer { bars in
            closes.withUnsafeMutableBufferPointer { c in
                fastSums.withUnsafeMutableBufferPointer { f in
                    slowSums.withUnsafeMutableBufferPointer { sl in
                        out.withUnsafeMutableBufferPointer { o in
                            for first in stride(from: slow, to: n, by: block) {
                                let end = min(first + block, n), bars0 = first - slow, count = end - first + 1
                                for m in 0..<(end - bars0) { c[m] = bars[bars0 + m].close }
                                // Bar (first − 1 + t)'s window of `period` closes starts at local close index t + slow − period.
                                guard let closes = UnsafePointer(c.baseAddress), let fastOut = f.baseAddress, let slowOut = sl.baseAddress else { return }
                                WindowSums.sums(closes + (slow - fast), count: count, period: fast, into: fastOut)
                                WindowSums.sums(closes, count: count, period: slow, into: slowOut)
                                for i in first..<end {
                                    let t = i - first + 1
                                    o[i] = Crossing(f0: f[t - 1] / fastDivisor, f1: f[t] / fastDivisor, s0: sl[t - 1] / slowDivisor, s1: sl[t] / slowDivisor)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
