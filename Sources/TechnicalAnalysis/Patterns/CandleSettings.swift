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

    /// What TA-Lib multiplies `total / period` by: the factor, halved for shadows (a shadow is compared with the
    /// average of one shadow). `(f × q) / 2` and `(f / 2) × q` round alike, since halving is exact for normal numbers.
    var scale: Double { rangeType == .shadows ? factor * 0.5 : factor }
}

extension BarView {
    @inline(__always) func realBody(_ i: Int) -> Double { abs(close[i] - open[i]) }
    @inline(__always) func highLowRange(_ i: Int) -> Double { high[i] - low[i] }
    @inline(__always) func upperShadow(_ i: Int) -> Double { high[i] - (close[i] >= open[i] ? close[i] : open[i]) }
    @inline(__always) func lowerShadow(_ i: Int) -> Double { (close[i] >= open[i] ? open[i] : close[i]) - low[i] }

    /// The measure of bar `i` that a setting of type `type` averages.
    @inline(__always) func range(_ type: CandleRangeType, _ i: Int) -> Double {
        switch type {
        case .realBody: return realBody(i)
        case .highLow: return highLowRange(i)
        case .shadows: return upperShadow(i) + lowerShadow(i)
        }
    }
}

// MARK: - Lanes

/// Pattern rules are evaluated for `laneCount` consecutive bars at once, in SIMD lanes: each condition is a lane
/// mask and a rule combines them with `.&` / `.|`, so there is no branch per bar to mispredict.
let laneCount = 4
typealias Lanes = SIMD4<Double>
typealias LaneMask = SIMDMask<SIMD4<Int64>>
/// A rule's result per lane (TA-Lib's 0, ±80, ±100, ±200), narrowed to `Int32` when stored.
typealias LaneValues = SIMD4<Int64>

extension SIMD4 where Scalar == Double {
    /// |x| (the sign bit cleared, as `abs` does).
    @inline(__always) var magnitude: Lanes {
        unsafeBitCast(unsafeBitCast(self, to: SIMD4<UInt64>.self) & SIMD4<UInt64>(repeating: 0x7FFF_FFFF_FFFF_FFFF), to: Lanes.self)
    }
}

/// Lane-wise larger / smaller of two values (equal values, the only case where the choice could differ from
/// `Swift.max`/`min`, compare equal in every rule).
@inline(__always) func lanesMax(_ a: Lanes, _ b: Lanes) -> Lanes { b.replacing(with: a, where: a .> b) }
@inline(__always) func lanesMin(_ a: Lanes, _ b: Lanes) -> Lanes { b.replacing(with: a, where: a .< b) }

/// `value` in the lanes where `mask` holds, else 0.
@inline(__always) func fire(_ mask: LaneMask, _ value: Int64) -> LaneValues {
    LaneValues(repeating: 0).replacing(with: value, where: mask)
}

/// `value` where `up` holds, `-value` where `down` holds (the two are exclusive), else 0.
@inline(__always) func fire(up: LaneMask, down: LaneMask, _ value: Int64 = 100) -> LaneValues {
    LaneValues(repeating: 0).replacing(with: value, where: up).replacing(with: -value, where: down)
}

/// `values` where `up` holds, their negation where `down` holds (the two are exclusive), else 0.
@inline(__always) func fire(up: LaneMask, down: LaneMask, values: LaneValues) -> LaneValues {
    LaneValues(repeating: 0).replacing(with: values, where: up).replacing(with: 0 &- values, where: down)
}

/// `value` where `mask` holds and `positive`, `-value` where `mask` holds and not `positive`, else 0.
@inline(__always) func fire(_ mask: LaneMask, positive: LaneMask, _ value: Int64 = 100) -> LaneValues {
    fire(up: mask .& positive, down: mask .& .!positive, value)
}

/// The bars a rule sees: `laneCount` consecutive bars starting at `i`; `k` counts candles back from each lane's bar
/// (0 = the bar judged, 1 = the one before, …).
struct Window {
    let bars: BarView
    let i: Int
    let averages: AverageSlots

    @inline(__always) private func load(_ p: UnsafePointer<Double>, _ k: Int) -> Lanes {
        UnsafeRawPointer(p + (i &- k)).loadUnaligned(as: Lanes.self)
    }

    @inline(__always) func open(_ k: Int) -> Lanes { load(bars.open, k) }
    @inline(__always) func high(_ k: Int) -> Lanes { load(bars.high, k) }
    @inline(__always) func low(_ k: Int) -> Lanes { load(bars.low, k) }
    @inline(__always) func close(_ k: Int) -> Lanes { load(bars.close, k) }

    @inline(__always) func body(_ k: Int) -> Lanes { (close(k) - open(k)).magnitude }
    @inline(__always) func range(_ k: Int) -> Lanes { high(k) - low(k) }
    @inline(__always) func top(_ k: Int) -> Lanes { lanesMax(close(k), open(k)) }
    @inline(__always) func bottom(_ k: Int) -> Lanes { lanesMin(close(k), open(k)) }
    @inline(__always) func upperShadow(_ k: Int) -> Lanes { high(k) - top(k) }
    @inline(__always) func lowerShadow(_ k: Int) -> Lanes { bottom(k) - low(k) }
    /// Close ≥ open (TA-Lib's colour 1); `black` is its negation (colour −1).
    @inline(__always) func white(_ k: Int) -> LaneMask { close(k) .>= open(k) }
    @inline(__always) func black(_ k: Int) -> LaneMask { .!white(k) }
    /// Same colour as a mask: `white(a) == white(b)`.
    @inline(__always) func sameColor(_ a: Int, _ b: Int) -> LaneMask { .!(white(a) .^ white(b)) }

    /// Real-body gap up of candle `k2` over the earlier candle `k1` (and down).
    @inline(__always) func bodyGapUp(_ k2: Int, _ k1: Int) -> LaneMask { bottom(k2) .> top(k1) }
    @inline(__always) func bodyGapDown(_ k2: Int, _ k1: Int) -> LaneMask { top(k2) .< bottom(k1) }
    /// Whole-candle gap up of candle `k2` over the earlier candle `k1` (low above its high), and down.
    @inline(__always) func candleGapUp(_ k2: Int, _ k1: Int) -> LaneMask { low(k2) .> high(k1) }
    @inline(__always) func candleGapDown(_ k2: Int, _ k1: Int) -> LaneMask { high(k2) .< low(k1) }

    /// The average of the pattern's `slot`-th setting for the candle that setting was asked for (for `back` > 0,
    /// as seen that many bars earlier).
    @inline(__always) func average(_ slot: Int, back: Int = 0) -> Lanes {
        averages.scale(slot) * load(averages.column(slot), back)
    }

    /// The average of a period-0 setting ("shadow long", "shadow very long"): the candle's own range times the
    /// setting's scale.
    @inline(__always) func own(_ setting: CandleSetting, _ k: Int) -> Lanes {
        let scale = Lanes(repeating: setting.scale)
        switch setting.rangeType {
        case .realBody: return scale * body(k)
        case .highLow: return scale * range(k)
        case .shadows: return scale * (upperShadow(k) + lowerShadow(k))
        }
    }
}

infix operator &&& : LogicalConjunctionPrecedence
infix operator ||| : LogicalDisjunctionPrecedence

/// Lane-wise "and" of two conditions (one concrete overload, which keeps long rules quick to type-check).
@inline(__always) func &&& (lhs: LaneMask, rhs: LaneMask) -> LaneMask { lhs .& rhs }

/// Lane-wise "or" of two conditions.
@inline(__always) func ||| (lhs: LaneMask, rhs: LaneMask) -> LaneMask { lhs .| rhs }

/// `&&` that evaluates both sides, for scalar loops where a branch per comparison would be mispredicted.
@inline(__always) func &&& (lhs: Bool, rhs: Bool) -> Bool {
    (unsafeBitCast(lhs, to: UInt8.self) & unsafeBitCast(rhs, to: UInt8.self)) != 0
}
