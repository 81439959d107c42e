/// The direction a signal recommends. Spot, long only: `long` means hold a position, `flat` means hold none.
public enum SignalDirection: String, Sendable, Codable {
    case long
    case flat
}

/// An opinion from the language models about a symbol (see the LLM module), as the scorer sees it.
public struct ModelOpinion: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable { case buy, sell, hold }
    public var action: Action
    /// Weighted confidence in 0...1.
    public var confidence: Double
    /// Share of valid answers that agree with `action`, 0...1.
    public var agreement: Double

    public init(action: Action, confidence: Double, agreement: Double) {
        self.action = action
        self.confidence = confidence
        self.agreement = agreement
    }
}

/// The result of analysing one symbol on its newest closed candle.
public struct Signal: Sendable, Equatable, Codable {
    public var symbol: Symbol
    /// Open time of the candle analysed (ms since 1970 UTC).
    public var candleTime: Int64
    public var direction: SignalDirection
    /// Confidence in 0...1; an order needs more than `strategy.min_confidence`.
    public var confidence: Double
    /// Raw score in -1...1 (positive: bullish).
    public var score: Double
    /// Each scoring component's contribution, by name (`trend`, `momentum`, `rsi`, `bollinger`, `patterns`, `structure`, `llm`).
    public var components: [String: Double]
    /// Indicator readings at the candle, by name.
    public var indicators: [String: Double]
    /// Candlestick patterns that fired on the candle, column name → TA-Lib value.
    public var patterns: PatternHits
    /// The models' opinion, when one was asked for and valid.
    public var opinion: ModelOpinion?

    public init(symbol: Symbol, candleTime: Int64, direction: SignalDirection, confidence: Double, score: Double,
                components: [String: Double], indicators: [String: Double], patterns: PatternHits, opinion: ModelOpinion? = nil) {
        self.symbol = symbol
        self.candleTime = candleTime
        self.direction = direction
        self.confidence = confidence
        self.score = score
        self.components = components
        self.indicators = indicators
        self.patterns = patterns
        self.opinion = opinion
    }
}
