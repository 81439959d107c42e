/// How a candle setting measures a bar: its real body, its whole high–low range, or its shadows.
public enum CandleRangeType: Sendable {
    case realBody
    case highLow
    case shadows
}

/// One of TA-Lib's candle settings: "long body", "doji", "near", ... are judged relative to the
/// average of `rangeType` over the `averagePeriod` bars before the one judged, times `factor`.
/// An `averagePeriod` of 0 means: compare with the bar's own range.
public struct CandleSetting: Sendable {
    public var rangeType: CandleRangeType
    public var averagePeriod: Int
    public var factor: Double

    public init(_ rangeType: CandleRangeType, _ averagePeriod: Int, _ factor: Double) {
        self.rangeType = rangeType
        self.averagePeriod = averagePeriod
        self.factor = factor
    }

    // TA-Lib's defaults.
    public static let bodyLong = CandleSetting(.realBody, 10, 1.0)
    public static let bodyVeryLong = CandleSetting(.realBody, 10, 3.0)
    public static let bodyShort = CandleSetting(.realBody, 10, 1.0)
    public static let bodyDoji = CandleSetting(.highLow, 10, 0.1)
    public static let shadowLong = CandleSetting(.realBody, 0, 1.0)
    public static let shadowVeryLong = CandleSetting(.realBody, 0, 2.0)
    public static let shadowShort = CandleSetting(.shadows, 10, 1.0)
    public static let shadowVeryShort = CandleSetting(.highLow, 10, 0.1)
    public static let near = CandleSetting(.highLow, 5, 0.2)
    public static let far = CandleSetting(.highLow, 5, 0.6)
    public static let equal = CandleSetting(.highLow, 5, 0.05)
}

extension BarView {
    @inline(__always) func realBody(_ i: Int) -> Double { abs(close[i] - open[i]) }
    @inline(__always) func highLowRange(_ i: Int) -> Double { high[i] - low[i] }
    @inline(__always) func upperShadow(_ i: Int) -> Double { high[i] - (close[i] >= open[i] ? close[i] : open[i]) }
    @inline(__always) func lowerShadow(_ i: Int) -> Double { (close[i] >= open[i] ? open[i] : close[i]) - low[i] }
    /// 1 for a white (close >= open) candle, -1 for a black one.
    @inline(__always) func color(_ i: Int) -> Int { close[i] >= open[i] ? 1 : -1 }
    @inline(__always) func bodyTop(_ i: Int) -> Double { max(open[i], close[i]) }
    @inline(__always) func bodyBottom(_ i: Int) -> Double { min(open[i], close[i]) }

    /// The measure of bar `i` that `setting` averages.
    @inline(__always) func range(_ setting: CandleSetting, _ i: Int) -> Double {
        switch setting.rangeType {
        case .realBody: return realBody(i)
        case .highLow: return highLowRange(i)
        case .shadows: return upperShadow(i) + lowerShadow(i)
        }
    }

    /// TA-Lib's candle average: factor × (total / period, or the bar's own range when the period is 0),
    /// halved for shadows (a shadow is compared with the average of one shadow).
    @inline(__always) func average(_ setting: CandleSetting, total: Double, _ i: Int) -> Double {
        let base = setting.averagePeriod != 0 ? total / Double(setting.averagePeriod) : range(setting, i)
        return setting.factor * base / (setting.rangeType == .shadows ? 2.0 : 1.0)
    }

    /// Real-body gap up of bar `i2` over bar `i1`.
    @inline(__always) func realBodyGapUp(_ i2: Int, _ i1: Int) -> Bool { bodyBottom(i2) > bodyTop(i1) }
    @inline(__always) func realBodyGapDown(_ i2: Int, _ i1: Int) -> Bool { bodyTop(i2) < bodyBottom(i1) }
    /// Whole-candle gap up of bar `i2` over bar `i1` (low above the previous high).
    @inline(__always) func candleGapUp(_ i2: Int, _ i1: Int) -> Bool { low[i2] > high[i1] }
    @inline(__always) func candleGapDown(_ i2: Int, _ i1: Int) -> Bool { high[i2] < low[i1] }
}

infix operator &&& : LogicalConjunctionPrecedence
infix operator ||| : LogicalDisjunctionPrecedence

/// `&&` that evaluates both sides. Pattern rules are a dozen cheap comparisons whose outcome is close to random on
/// market data; evaluating them all and combining the bits avoids a mispredicted branch per comparison.
@inline(__always) func &&& (lhs: Bool, rhs: Bool) -> Bool {
    (unsafeBitCast(lhs, to: UInt8.self) & unsafeBitCast(rhs, to: UInt8.self)) != 0
}

/// `||` that evaluates both sides (see `&&&`).
@inline(__always) func ||| (lhs: Bool, rhs: Bool) -> Bool {
    (unsafeBitCast(lhs, to: UInt8.self) | unsafeBitCast(rhs, to: UInt8.self)) != 0
}
