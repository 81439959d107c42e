/// OHLC bars for candlestick recognition, as parallel `Double` arrays (struct of arrays).
public struct PatternBars: Sendable {
    public let open: [Double]
    public let high: [Double]
    public let low: [Double]
    public let close: [Double]

    /// All four arrays must have the same length.
    public init(open: [Double], high: [Double], low: [Double], close: [Double]) {
        precondition(open.count == high.count && high.count == low.count && low.count == close.count,
                     "PatternBars: open, high, low and close must have the same length")
        self.open = open
        self.high = high
        self.low = low
        self.close = close
    }

    public var count: Int { close.count }
}

/// Namespace for the pattern implementations (one static function per TA-Lib pattern).
public enum CandlestickPatterns {}
