import Foundation

/// Chart structure with documented, testable definitions:
/// - **Swing high** at bar j: its high is above every high of the `window` bars before it and not below any of the
///   `window` bars after it (swing low: the mirror image). A pivot is known only once the `window` bars after it closed.
/// - **Levels**: pivots are clustered when their prices are within `tolerance` of the cluster's mean; a level is the
///   cluster's mean and its strength the number of pivots (touches).
/// - **Breakout**: the close of the last bar is beyond a level (of the pivots known before it) by at least `margin`
///   while the previous close was not — up through resistance (+1) or down through support (−1); 0 otherwise.
/// - **Trend regime**: ADX ≥ `adxThreshold` with a rising fast EMA is an up-trend (+1), falling a down-trend (−1);
///   otherwise a range (0).
public enum ChartStructure {
    /// A price level from clustered pivots.
    public struct Level: Sendable, Equatable {
        public var price: Double
        public var touches: Int
        public init(price: Double, touches: Int) {
            self.price = price
            self.touches = touches
        }
    }

    /// What the signal scorer uses.
    public struct Summary: Sendable, Equatable {
        public var breakout: Int
        public var regime: Int
        public var support: Level?
        public var resistance: Level?
        public init(breakout: Int, regime: Int, support: Level?, resistance: Level?) {
            self.breakout = breakout
            self.regime = regime
            self.support = support
            self.resistance = resistance
        }
    }

    /// Indexes of swing highs and swing lows confirmed within `high.count` bars.
    public static func swings(high: [Double], low: [Double], window w: Int) -> (highs: [Int], lows: [Int]) {
        swings(high: high, low: low, count: high.count, window: w)
    }

    /// `swings` of the first `count` bars (`count` ≤ both lengths), read without copying them or checking bounds.
    static func swings(high: [Double], low: [Double], count n: Int, window w: Int) -> (highs: [Int], lows: [Int]) {
        var highs: [Int] = [], lows: [Int] = []
        guard w >= 1, n >= 2 * w + 1, n <= high.count, n <= low.count else { return (highs, lows) }
        high.withUnsafeBufferPointer { high in
            low.withUnsafeBufferPointer { low in
                // Plain counting loops: range iteration did not fold away here.
                var j = w
                while j < n - w {
                    let h = high[j], l = low[j]
                    var isHigh = true, isLow = true
                    var k = j - w
                    while k < j {
                        if high[k] >= h { isHigh = false }
                        if low[k] <= l { isLow = false }
                        k += 1
                    }
                    k = j + 1
                    while k <= j + w {
                        if high[k] > h { isHigh = false }
                        if low[k] < l { isLow = false }
                        k += 1
                    }
                    if isHigh { highs.append(j) }
                    if isLow { lows.append(j) }
                    j += 1
                }
            }
        }
        return (highs, lows)
    }

    /// Clusters prices whose distance to a cluster's mean is at most `tolerance`; strongest first.
    public static func levels(_ prices: [Double], tolerance: Double) -> [Level] {
        var clusters: [(sum: Double, count: Int)] = []
        for price in prices.sorted() {
            if let last = clusters.last, abs(price - last.sum / Double(last.count)) <= tolerance {
                clusters[clusters.count - 1] = (last.sum + price, last.count + 1)
            } else {
                clusters.append((price, 1))
            }
        }
        return clusters.map { Level(price: $0.sum / Double($0.count), touches: $0.count) }
            .sorted { $0.touches > $1.touches || ($0.touches == $1.touches && $0.price < $1.price) }
    }

    /// +1 up-trend, −1 down-trend, 0 range.
    public static func regime(adx: Double, emaSlope: Double, adxThreshold: Double = 25) -> Int {
        guard adx.isFinite, emaSlope.isFinite, adx >= adxThreshold else { return 0 }
        return emaSlope > 0 ? 1 : emaSlope < 0 ? -1 : 0
    }

    /// Structure at the last bar: the nearest support below and resistance above the previous close (from pivots
    /// confirmed before the last bar, clustered within 0.5 ATR), a breakout through one of them by 0.1 ATR, and the regime.
    public static func summary(high: [Double], low: [Double], close: [Double], adx: Double, emaSlope: Double, atr: Double,
                               pivotWindow: Int) -> Summary {
        let n = close.count
        let reg = regime(adx: adx, emaSlope: emaSlope)
        guard n >= 2 * pivotWindow + 3, atr.isFinite, atr > 0 else { return Summary(breakout: 0, regime: reg, support: nil, resistance: nil) }
        // Pivots known at the previous bar (their right window closed before the last bar).
        let known = swings(high: high, low: low, count: n - 1, window: pivotWindow)
        let tolerance = 0.5 * atr
        let previous = close[n - 2], last = close[n - 1]
        let resistances = levels(known.highs.map { high[$0] }, tolerance: tolerance).filter { $0.price >= previous }
        let supports = levels(known.lows.map { low[$0] }, tolerance: tolerance).filter { $0.price <= previous }
        let resistance = resistances.min { $0.price < $1.price }
        let support = supports.max { $0.price < $1.price }
        let margin = 0.1 * atr
        var breakout = 0
        if let r = resistance, last > r.price + margin { breakout = 1 }
        else if let s = support, last < s.price - margin { breakout = -1 }
        return Summary(breakout: breakout, regime: reg, support: support, resistance: resistance)
    }
}
