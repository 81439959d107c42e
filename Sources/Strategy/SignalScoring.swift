import Foundation
import TradingDomain

/// What the analysis of one symbol on its newest closed candle gives the scorer.
public struct MarketSnapshot: Sendable, Equatable {
    public var candleTime: Int64
    public var close: Double
    public var emaFast: Double
    public var emaSlow: Double
    public var rsi: Double
    public var macdHistogram: Double
    public var bollingerUpper: Double
    public var bollingerMiddle: Double
    public var bollingerLower: Double
    public var atr: Double
    public var adx: Double
    /// Annualised realised volatility (sample std of log returns × √bars per year).
    public var volatility: Double
    /// Candlestick patterns that fired on the candle: column name → TA-Lib value.
    public var patterns: PatternHits
    /// +1 breakout up through resistance, −1 breakdown through support, 0 none.
    public var breakout: Int
    /// +1 up-trend, −1 down-trend, 0 range.
    public var regime: Int

    public init(candleTime: Int64, close: Double, emaFast: Double, emaSlow: Double, rsi: Double, macdHistogram: Double,
                bollingerUpper: Double, bollingerMiddle: Double, bollingerLower: Double, atr: Double, adx: Double,
                volatility: Double, patterns: PatternHits, breakout: Int, regime: Int) {
        self.candleTime = candleTime
        self.close = close
        self.emaFast = emaFast
        self.emaSlow = emaSlow
        self.rsi = rsi
        self.macdHistogram = macdHistogram
        self.bollingerUpper = bollingerUpper
        self.bollingerMiddle = bollingerMiddle
        self.bollingerLower = bollingerLower
        self.atr = atr
        self.adx = adx
        self.volatility = volatility
        self.patterns = patterns
        self.breakout = breakout
        self.regime = regime
    }

    /// The readings by name, as stored with the signal.
    public var indicators: [String: Double] {
        ["close": close, "ema_fast": emaFast, "ema_slow": emaSlow, "rsi": rsi, "macd_hist": macdHistogram,
         "bb_upper": bollingerUpper, "bb_middle": bollingerMiddle, "bb_lower": bollingerLower, "atr": atr,
         "adx": adx, "volatility": volatility, "breakout": Double(breakout), "regime": Double(regime)]
    }
}

/// Weights of the scoring components (`strategy.weights.*`).
public struct ScoringWeights: Sendable, Equatable {
    public var trend, momentum, rsi, bollinger, patterns, structure, llm: Double
    public init(trend: Double = 0.35, momentum: Double = 0.25, rsi: Double = 0.15, bollinger: Double = 0.10,
                patterns: Double = 0.10, structure: Double = 0.15, llm: Double = 0.20) {
        self.trend = trend
        self.momentum = momentum
        self.rsi = rsi
        self.bollinger = bollinger
        self.patterns = patterns
        self.structure = structure
        self.llm = llm
    }
}

/// The documented scoring that turns readings into a signal.
///
/// Each component is a number in −1…1 (positive is bullish):
/// - `trend` = clamp((EMA fast − EMA slow) / ATR)
/// - `momentum` = tanh(MACD histogram / (0.25 × ATR))
/// - `rsi` = (RSI − 50) / 30 clamped, turned negative above 80 (overbought): −(RSI − 80) / 20
/// - `bollinger` = −clamp((close − middle) / (upper − middle)) × 0.5 (stretched above the middle is bearish)
/// - `patterns` = clamp(Σ pattern values / 200) over the patterns that fired on the candle
/// - `structure` = clamp(breakout + 0.5 × regime)
/// - `llm` = +confidence for a buy opinion, −confidence for sell, 0 for hold (only when an opinion exists)
///
/// score = Σ wᵢ·cᵢ / Σ wᵢ (over the components present); direction = long when score > 0, else flat;
/// confidence = |score| scaled by 1.6 and capped at 1 (so that agreement of the main components reaches it).
/// An entry needs confidence > `strategy.min_confidence` (default 0.6).
public enum SignalScorer {
    public static let confidenceScale = 1.6

    /// The components as numbers (nil `llm` when there is no opinion); non-finite values count as 0.
    public struct Components: Sendable, Equatable {
        public var trend, momentum, rsi, bollinger, patterns, structure: Double
        public var llm: Double?
    }

    public static func componentValues(_ s: MarketSnapshot, opinion: ModelOpinion?) -> Components {
        var patternSum = 0
        for value in s.patterns.values { patternSum += value }
        return componentValues(s, patternSum: patternSum, opinion: opinion)
    }

    /// The components with the values of the patterns that fired already summed (`s.patterns` is not read).
    static func componentValues(_ s: MarketSnapshot, patternSum: Int, opinion: ModelOpinion?) -> Components {
        componentValues(close: s.close, emaFast: s.emaFast, emaSlow: s.emaSlow, rsi: s.rsi, macdHistogram: s.macdHistogram,
                        bollingerUpper: s.bollingerUpper, bollingerMiddle: s.bollingerMiddle, atr: s.atr, breakout: s.breakout,
                        regime: s.regime, patternSum: patternSum, opinion: opinion)
    }

    /// The components from the readings the scorer uses (a snapshot's, passed one by one: the precomputed analysis
    /// scores its columns without making snapshots).
    @inline(__always)
    static func componentValues(close: Double, emaFast: Double, emaSlow: Double, rsi: Double, macdHistogram: Double, bollingerUpper: Double,
                                bollingerMiddle: Double, atr rawATR: Double, breakout: Int, regime: Int, patternSum: Int,
                                opinion: ModelOpinion?) -> Components {
        let atr = rawATR > 0 && rawATR.isFinite ? rawATR : max(abs(close) * 1e-4, 1e-12)
        func finite(_ x: Double) -> Double { x.isFinite ? x : 0 }
        let halfWidth = bollingerUpper - bollingerMiddle
        var llm: Double?
        if let opinion {
            switch opinion.action {
            case .buy: llm = finite(opinion.confidence)
            case .sell: llm = finite(-opinion.confidence)
            case .hold: llm = 0
            }
        }
        return Components(trend: finite(clamp((emaFast - emaSlow) / atr)),
                          momentum: finite(tanh(macdHistogram / (0.25 * atr))),
                          rsi: finite(rsi > 80 ? -clamp((rsi - 80) / 20) : clamp((rsi - 50) / 30)),
                          bollinger: finite(halfWidth > 0 ? -clamp((close - bollingerMiddle) / halfWidth) * 0.5 : 0),
                          patterns: finite(clamp(Double(patternSum) / 200)),
                          structure: finite(clamp(Double(breakout) + 0.5 * Double(regime))),
                          llm: llm)
    }

    /// The components by name, as stored with the signal.
    public static func components(_ s: MarketSnapshot, opinion: ModelOpinion?) -> [String: Double] {
        let c = componentValues(s, opinion: opinion)
        var named = ["trend": c.trend, "momentum": c.momentum, "rsi": c.rsi, "bollinger": c.bollinger, "patterns": c.patterns, "structure": c.structure]
        if let llm = c.llm { named["llm"] = llm }
        return named
    }

    /// Scores `snapshot` for `symbol` (with the models' `opinion` when there is one). `detailed: false` leaves the
    /// signal's `components` and `indicators` maps empty (backtests, which keep no audit trail).
    public static func score(symbol: Symbol, snapshot s: MarketSnapshot, weights w: ScoringWeights, opinion: ModelOpinion? = nil,
                             detailed: Bool = true) -> Signal {
        var signal = self.signal(symbol: symbol, candleTime: s.candleTime, score: combined(componentValues(s, opinion: opinion), weights: w))
        if detailed {
            signal.components = components(s, opinion: opinion)
            signal.indicators = s.indicators
        }
        signal.patterns = s.patterns
        signal.opinion = opinion
        return signal
    }

    /// The signal of `score` (direction and confidence from it), without components, indicators, patterns or opinion.
    static func signal(symbol: Symbol, candleTime: Int64, score: Double) -> Signal {
        Signal(symbol: symbol, candleTime: candleTime, direction: direction(score), confidence: confidence(score),
               score: score, components: [:], indicators: [:], patterns: PatternHits(sortedHits: []), opinion: nil)
    }

    @inline(__always) static func direction(_ score: Double) -> SignalDirection { score > 0 ? .long : .flat }
    @inline(__always) static func confidence(_ score: Double) -> Double { min(1, abs(score) * confidenceScale) }

    /// Sets `signal` to `signal(symbol:candleTime:score:)`: in place when it holds a signal of `symbol` without
    /// components, indicators, patterns or opinion (then only the time, direction, confidence and score change).
    static func write(_ signal: inout Signal?, symbol: Symbol, candleTime: Int64, score: Double) {
        if var s = signal.take(), s.symbol == symbol, s.opinion == nil, s.components.isEmpty, s.indicators.isEmpty, s.patterns.isEmpty {
            s.candleTime = candleTime
            s.direction = direction(score)
            s.confidence = confidence(score)
            s.score = score
            signal = consume s
        } else {
            signal = self.signal(symbol: symbol, candleTime: candleTime, score: score)
        }
    }

    /// `score(symbol:snapshot:weights:detailed: false)` without a model opinion, from the sum of the values of the
    /// patterns that fired (`s.patterns` is not read): the same signal, but with an empty `patterns` list.
    static func score(symbol: Symbol, snapshot s: MarketSnapshot, patternSum: Int, weights w: ScoringWeights) -> Signal {
        signal(symbol: symbol, candleTime: s.candleTime, score: combined(componentValues(s, patternSum: patternSum, opinion: nil), weights: w))
    }

    /// The weighted mean of the components present, clamped to −1…1 (0 without weight).
    static func combined(_ c: Components, weights w: ScoringWeights) -> Double {
        // In a fixed order, so the sum is the same in every process.
        var total = w.trend * c.trend + w.momentum * c.momentum + w.rsi * c.rsi + w.bollinger * c.bollinger
        total += w.patterns * c.patterns + w.structure * c.structure
        var weightSum = w.trend + w.momentum + w.rsi + w.bollinger + w.patterns + w.structure
        if let llm = c.llm {
            total += w.llm * llm
            weightSum += w.llm
        }
        return weightSum > 0 ? clamp(total / weightSum) : 0
    }

    @inline(__always) static func clamp(_ x: Double) -> Double { x.isFinite ? min(1, max(-1, x)) : 0 }
}
