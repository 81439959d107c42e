import Foundation

extension Indicators {
    /// Weighted moving average (weights 1…period, the newest heaviest); first value at index `period - 1`.
    public static func wma(_ x: [Double], period: Int) -> [Double] {
        let n = x.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n >= period else { return out }
        let divider = Double(period * (period + 1)) / 2
        var periodSum = 0.0, periodSub = 0.0
        for i in 0..<(period - 1) {
            periodSub += x[i]
            periodSum += x[i] * Double(i + 1)
        }
        var trailing = 0
        for i in (period - 1)..<n {
            periodSub += x[i]
            periodSum += x[i] * Double(period)
            out[i] = periodSum / divider
            periodSum -= periodSub
            periodSub -= x[trailing]
            trailing += 1
        }
        return out
    }

    /// ATR as a percentage of the close.
    public static func natr(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        var out = atr(high: high, low: low, close: close, period: period)
        guard period >= 1, close.count > period else { return out }
        out.withUnsafeMutableBufferPointer { o in
            close.withUnsafeBufferPointer { c in
                for i in period..<c.count { o[i] = c[i] != 0 ? o[i] / c[i] * 100 : 0 }
            }
        }
        return out
    }

    /// +DI and −DI (Wilder-smoothed directional movement over the smoothed true range); first value at index `period`.
    public static func directionalIndicators(high: [Double], low: [Double], close: [Double], period: Int) -> (plus: [Double], minus: [Double]) {
        (plusDI(high: high, low: low, close: close, period: period), minusDI(high: high, low: low, close: close, period: period))
    }

    /// +DI alone (TA-Lib's PLUS_DI).
    public static func plusDI(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        directionalIndicator(high: high, low: low, close: close, period: period, plus: true)
    }

    /// −DI alone (TA-Lib's MINUS_DI).
    public static func minusDI(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        directionalIndicator(high: high, low: low, close: close, period: period, plus: false)
    }

    /// One directional indicator: the chosen directional movement (a bar's move counts for the side that moved more,
    /// and only if positive), Wilder-smoothed like the true range, as a percentage of it.
    static func directionalIndicator(high: [Double], low: [Double], close: [Double], period: Int, plus: Bool) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n > period else { return out }
        let keep = 1 - 1 / Double(period)
        var dm = 0.0, tr = 0.0
        out.withUnsafeMutableBufferPointer { o in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        for today in 1..<n {
                            let diffP = h[today] - h[today - 1]
                            let diffM = l[today - 1] - l[today]
                            let minusMove = diffM > 0 &&& diffP < diffM
                            let plusMove = !minusMove &&& diffP > 0 &&& diffP > diffM
                            let move = plus ? (plusMove ? diffP : 0) : (minusMove ? diffM : 0)
                            let r = trueRange(h[today], l[today], c[today - 1])
                            if today >= period {
                                dm = dm * keep + move
                                tr = tr * keep + r
                                o[today] = tr != 0 ? 100 * (dm / tr) : 0
                            } else {
                                dm += move
                                tr += r
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Slow stochastic: %K = SMA(`slowK`) of the fast %K over `fastK` bars, %D = SMA(`slowD`) of %K.
    public static func stochastic(high: [Double], low: [Double], close: [Double], fastK: Int, slowK: Int, slowD: Int) -> (k: [Double], d: [Double]) {
        let n = close.count
        var fast = [Double](repeating: .nan, count: n)
        guard fastK >= 1, n >= fastK else { return (fast, fast) }
        for i in (fastK - 1)..<n {
            let (hh, ll) = extremes(high: high, low: low, from: i - fastK + 1, through: i)
            let range = hh - ll
            fast[i] = range != 0 ? (close[i] - ll) / range * 100 : 0
        }
        let k = smaSkippingWarmUp(fast, period: slowK)
        let d = smaSkippingWarmUp(k, period: slowD)
        var kOut = k
        for i in k.indices where d[i].isNaN { kOut[i] = .nan }  // TA-Lib starts %K and %D together
        return (kOut, d)
    }

    /// SMA of a series that starts with NaN: the warm-up is skipped, the result aligned to the input.
    static func smaSkippingWarmUp(_ x: [Double], period: Int) -> [Double] {
        guard let first = x.firstIndex(where: { !$0.isNaN }) else { return x }
        let tail = sma(Array(x[first...]), period: period)
        return [Double](repeating: .nan, count: first) + tail
    }

    /// Highest high and lowest low of bars `from...through`.
    @inline(__always) static func extremes(high: [Double], low: [Double], from: Int, through: Int) -> (high: Double, low: Double) {
        var hh = -Double.infinity, ll = Double.infinity
        for j in from...through {
            if high[j] > hh { hh = high[j] }
            if low[j] < ll { ll = low[j] }
        }
        return (hh, ll)
    }

    /// Commodity Channel Index: (typical price − its SMA) / (0.015 × mean absolute deviation); 0 when either is (nearly) 0.
    public static func cci(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n >= period else { return out }
        var tp = [Double](repeating: 0, count: n)
        for i in 0..<n { tp[i] = (high[i] + low[i] + close[i]) / 3 }
        for i in (period - 1)..<n {
            var sum = 0.0
            for j in (i - period + 1)...i { sum += tp[j] }
            let mean = sum / Double(period)
            var deviation = 0.0
            for j in (i - period + 1)...i { deviation += abs(tp[j] - mean) }
            deviation /= Double(period)
            // TA-Lib treats |x| < 1e-8 as zero here, so rounding noise on flat prices gives 0, not ±66.7.
            let distance = tp[i] - mean
            out[i] = abs(distance) >= 1e-8 && abs(deviation) >= 1e-8 ? distance / (0.015 * deviation) : 0
        }
        return out
    }

    /// Williams %R: −100 × (highest high − close) / (highest high − lowest low); 0 when the range is 0.
    public static func williamsR(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n >= period else { return out }
        for i in (period - 1)..<n {
            let (hh, ll) = extremes(high: high, low: low, from: i - period + 1, through: i)
            let range = hh - ll
            out[i] = range != 0 ? -100 * ((hh - close[i]) / range) : 0
        }
        return out
    }

    /// Money Flow Index over `period` typical-price changes (a change within ±1e-8 is none); 0 when the flows sum to less than 1.
    public static func mfi(high: [Double], low: [Double], close: [Double], volume: [Double], period: Int) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n > period else { return out }
        var positive = [Double](repeating: 0, count: n), negative = positive
        var previous = (high[0] + low[0] + close[0]) / 3
        for i in 1..<n {
            let tp = (high[i] + low[i] + close[i]) / 3
            let flow = tp * volume[i]
            // A change smaller than TA-Lib's zero tolerance (1e-8) counts as no change, as in TA-Lib.
            let change = tp - previous
            if change > 1e-8 { positive[i] = flow } else if change < -1e-8 { negative[i] = flow }
            previous = tp
        }
        var pos = 0.0, neg = 0.0
        for i in 1...period {
            pos += positive[i]
            neg += negative[i]
        }
        func value() -> Double { pos + neg < 1 ? 0 : 100 * (pos / (pos + neg)) }
        out[period] = value()
        if period + 1 < n {
            for i in (period + 1)..<n {
                pos += positive[i] - positive[i - period]
                neg += negative[i] - negative[i - period]
                out[i] = value()
            }
        }
        return out
    }

    /// On-balance volume, starting at the first bar's volume.
    public static func obv(close: [Double], volume: [Double]) -> [Double] {
        var out = [Double](repeating: .nan, count: close.count)
        guard !close.isEmpty else { return out }
        var total = volume[0]
        out[0] = total
        for i in 1..<close.count {
            if close[i] > close[i - 1] { total += volume[i] } else if close[i] < close[i - 1] { total -= volume[i] }
            out[i] = total
        }
        return out
    }

    /// Rate of change in percent: (close / close `period` bars ago − 1) × 100; 0 when the old close is 0.
    public static func roc(_ x: [Double], period: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard period >= 1, x.count > period else { return out }
        for i in period..<x.count { out[i] = x[i - period] != 0 ? (x[i] / x[i - period] - 1) * 100 : 0 }
        return out
    }

    /// Momentum: close − close `period` bars ago.
    public static func momentum(_ x: [Double], period: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard period >= 1, x.count > period else { return out }
        for i in period..<x.count { out[i] = x[i] - x[i - period] }
        return out
    }

    /// Sample standard deviation (n − 1) of the `period` log returns ending at each bar (not annualised); first value at index `period`.
    public static func logReturnStd(_ x: [Double], period: Int) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard period >= 2, x.count > period else { return out }
        for i in period..<x.count {
            var returns = [Double](repeating: 0, count: period)
            for k in 0..<period { returns[k] = log(x[i - period + k + 1] / x[i - period + k]) }
            let mean = returns.reduce(0, +) / Double(period)
            out[i] = sqrt(returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(period - 1))
        }
        return out
    }
}
