import Foundation

/// Indicators with TA-Lib's conventions: `[Double]` in, `[Double]` out of the same length, `Double.nan`
/// where TA-Lib has no value (the warm-up). Every period is a parameter.
public enum Indicators {
    /// Simple moving average; first value at index `period - 1`.
    public static func sma(_ x: [Double], period: Int) -> [Double] {
        let n = x.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n >= period else { return out }
        var sum = 0.0
        for i in 0..<(period - 1) { sum += x[i] }
        var trailing = 0
        for i in (period - 1)..<n {
            sum += x[i]
            out[i] = sum / Double(period)
            sum -= x[trailing]
            trailing += 1
        }
        return out
    }

    /// Exponential moving average (k = 2 / (period + 1)) seeded with the SMA of its first `period` inputs.
    public static func ema(_ x: [Double], period: Int) -> [Double] {
        ema(x, period: period, seedEnd: period - 1)
    }

    /// EMA whose seed is the SMA of the `period` inputs ending at `seedEnd` (MACD aligns its seeds this way).
    static func ema(_ x: [Double], period: Int, seedEnd: Int, from first: Int = 0) -> [Double] {
        let n = x.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, seedEnd < n, seedEnd - period + 1 >= first else { return out }
        let k = 2.0 / Double(period + 1)
        var sum = 0.0
        for i in (seedEnd - period + 1)...seedEnd { sum += x[i] }
        var prev = sum / Double(period)
        out[seedEnd] = prev
        var i = seedEnd + 1
        while i < n {
            prev = (x[i] - prev) * k + prev
            out[i] = prev
            i += 1
        }
        return out
    }

    /// Wilder's RSI seeded with simple means of the first `period` gains and losses; 0 when there was no movement.
    public static func rsi(_ x: [Double], period: Int) -> [Double] {
        let n = x.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n > period else { return out }
        var gain = 0.0, loss = 0.0
        for i in 1...period {
            let d = x[i] - x[i - 1]
            if d > 0 { gain += d } else { loss -= d }
        }
        gain /= Double(period)
        loss /= Double(period)
        func value() -> Double { gain + loss == 0 ? 0 : 100 * (gain / (gain + loss)) }
        out[period] = value()
        // Wilder smoothing as multiply-adds (the divide off the dependency chain; rounding differs from TA-Lib's
        // division order only far below 1e-9 relative); gains and losses split without branches.
        let keep = Double(period - 1) / Double(period), weight = 1 / Double(period)
        out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { x in
                for i in (period + 1)..<max(n, period + 1) {
                    let d = x[i] - x[i - 1]
                    gain = gain * keep + (d > 0 ? d : 0) * weight
                    loss = loss * keep + (d > 0 ? 0 : -d) * weight
                    o[i] = gain + loss == 0 ? 0 : 100 * (gain / (gain + loss))
                }
            }
        }
        return out
    }

    /// MACD line, signal line and histogram.
    public struct MACD: Sendable {
        public var macd: [Double]
        public var signal: [Double]
        public var histogram: [Double]
    }

    /// MACD with TA-Lib's alignment: the fast EMA's seed window ends on the same bar as the slow one's; the
    /// signal EMA is seeded with the SMA of the first `signalPeriod` MACD values; all three outputs start together.
    public static func macd(_ x: [Double], fastPeriod: Int, slowPeriod: Int, signalPeriod: Int) -> MACD {
        let n = x.count
        var fast = fastPeriod, slow = slowPeriod
        if slow < fast { swap(&fast, &slow) }
        var line = [Double](repeating: .nan, count: n), signal = line, histogram = line
        let seedEnd = slow - 1
        let start = seedEnd + signalPeriod - 1
        guard n > start, fast >= 1, signalPeriod >= 1 else { return MACD(macd: line, signal: signal, histogram: histogram) }
        // One pass: both EMAs seeded on the same bar, the signal seeded with the SMA of the first MACD values.
        let kFast = 2.0 / Double(fast + 1), kSlow = 2.0 / Double(slow + 1), kSignal = 2.0 / Double(signalPeriod + 1)
        var fastSum = 0.0, slowSum = 0.0
        for i in 0...seedEnd {
            slowSum += x[i]
            if i > seedEnd - fast { fastSum += x[i] }
        }
        var fastEMA = fastSum / Double(fast), slowEMA = slowSum / Double(slow)
        var signalSum = 0.0, signalEMA = 0.0
        line.withUnsafeMutableBufferPointer { lineOut in
            signal.withUnsafeMutableBufferPointer { signalOut in
                histogram.withUnsafeMutableBufferPointer { histogramOut in
                    x.withUnsafeBufferPointer { x in
                        for i in seedEnd..<n {
                            if i > seedEnd {
                                fastEMA = (x[i] - fastEMA) * kFast + fastEMA
                                slowEMA = (x[i] - slowEMA) * kSlow + slowEMA
                            }
                            let value = fastEMA - slowEMA
                            if i < start {
                                signalSum += value
                                continue
                            }
                            if i == start {
                                signalSum += value
                                signalEMA = signalSum / Double(signalPeriod)
                            } else {
                                signalEMA = (value - signalEMA) * kSignal + signalEMA
                            }
                            lineOut[i] = value
                            signalOut[i] = signalEMA
                            histogramOut[i] = value - signalEMA
                        }
                    }
                }
            }
        }
        return MACD(macd: line, signal: signal, histogram: histogram)
    }

    /// Bollinger Bands: upper, middle (SMA) and lower.
    public struct Bands: Sendable {
        public var upper: [Double]
        public var middle: [Double]
        public var lower: [Double]
    }

    /// Bollinger Bands around the SMA, with the population standard deviation.
    public static func bollingerBands(_ x: [Double], period: Int, deviationsUp: Double, deviationsDown: Double) -> Bands {
        let n = x.count
        var upper = [Double](repeating: .nan, count: n), middle = upper, lower = upper
        guard period >= 1, n >= period else { return Bands(upper: upper, middle: middle, lower: lower) }
        // The SMA and the population deviation in one pass, with the same sums as `sma` and `stddev`.
        let p = Double(period)
        var sum = 0.0, smaSum = 0.0, sumSq = 0.0
        for i in 0..<(period - 1) {
            sum += x[i]
            smaSum += x[i]
            sumSq += x[i] * x[i]
        }
        upper.withUnsafeMutableBufferPointer { up in
            middle.withUnsafeMutableBufferPointer { mid in
                lower.withUnsafeMutableBufferPointer { low in
                    x.withUnsafeBufferPointer { x in
                        for i in (period - 1)..<n {
                            smaSum += x[i]
                            let average = smaSum / p
                            smaSum -= x[i - period + 1]
                            sum += x[i]
                            sumSq += x[i] * x[i]
                            let mean = sum / p
                            let variance = sumSq / p - mean * mean
                            let deviation = variance > 0 ? sqrt(variance) : 0
                            sum -= x[i - period + 1]
                            sumSq -= x[i - period + 1] * x[i - period + 1]
                            mid[i] = average
                            up[i] = average + deviationsUp * deviation
                            low[i] = average - deviationsDown * deviation
                        }
                    }
                }
            }
        }
        return Bands(upper: upper, middle: middle, lower: lower)
    }

    /// Population standard deviation over `period`, times `deviations`.
    public static func stddev(_ x: [Double], period: Int, deviations: Double = 1) -> [Double] {
        let n = x.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n >= period else { return out }
        var sum = 0.0, sumSq = 0.0
        for i in 0..<(period - 1) {
            sum += x[i]
            sumSq += x[i] * x[i]
        }
        var trailing = 0
        let p = Double(period)
        for i in (period - 1)..<n {
            sum += x[i]
            sumSq += x[i] * x[i]
            let mean = sum / p
            let variance = sumSq / p - mean * mean
            out[i] = variance > 0 ? sqrt(variance) * deviations : 0
            sum -= x[trailing]
            sumSq -= x[trailing] * x[trailing]
            trailing += 1
        }
        return out
    }

    /// True range (first value at index 1).
    public static func trueRange(high: [Double], low: [Double], close: [Double]) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        guard n >= 2 else { return out }
        for i in 1..<n { out[i] = trueRange(high[i], low[i], close[i - 1]) }
        return out
    }

    @inline(__always) static func trueRange(_ h: Double, _ l: Double, _ prevClose: Double) -> Double {
        var r = h - l
        let a = abs(prevClose - h)
        if a > r { r = a }
        let b = abs(prevClose - l)
        if b > r { r = b }
        return r
    }

    /// Wilder's ATR seeded with the simple mean of the first `period` true ranges (first value at index `period`).
    public static func atr(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        guard period >= 1, n > period else { return out }
        var sum = 0.0
        for i in 1...period { sum += trueRange(high[i], low[i], close[i - 1]) }
        var prev = sum / Double(period)
        out[period] = prev
        // Wilder smoothing, (prev × (p − 1) + tr) / p, as a multiply-add: the divide stays off the dependency chain.
        // It differs from TA-Lib's division order by rounding only (well within 1e-9 relative).
        let keep = Double(period - 1) / Double(period), weight = 1 / Double(period)
        out.withUnsafeMutableBufferPointer { o in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        for i in (period + 1)..<max(n, period + 1) {
                            prev = prev * keep + trueRange(h[i], l[i], c[i - 1]) * weight
                            o[i] = prev
                        }
                    }
                }
            }
        }
        return out
    }

    /// ADX with Wilder smoothing of +DM, −DM and TR (first value at index 2 × period − 1).
    public static func adx(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        var out = [Double](repeating: .nan, count: n)
        let lookback = 2 * period - 1
        guard period >= 2, n > lookback else { return out }
        let p = Double(period)
        var plusDM = 0.0, minusDM = 0.0, tr = 0.0
        var today = 0
        var prevHigh = high[0], prevLow = low[0], prevClose = close[0]
        func step(_ smooth: Bool) {
            today += 1
            let diffP = high[today] - prevHigh
            let diffM = prevLow - low[today]
            if smooth {
                minusDM -= minusDM / p
                plusDM -= plusDM / p
            }
            if diffM > 0 && diffP < diffM { minusDM += diffM } else if diffP > 0 && diffP > diffM { plusDM += diffP }
            let r = trueRange(high[today], low[today], prevClose)
            tr = smooth ? tr - tr / p + r : tr + r
            prevHigh = high[today]
            prevLow = low[today]
            prevClose = close[today]
        }
        for _ in 0..<(period - 1) { step(false) }
        var sumDX = 0.0
        for _ in 0..<period {
            step(true)
            if tr != 0 {
                let minusDI = 100 * (minusDM / tr), plusDI = 100 * (plusDM / tr)
                let s = minusDI + plusDI
                if s != 0 { sumDX += 100 * (abs(minusDI - plusDI) / s) }
            }
        }
        var adx = sumDX / p
        out[today] = adx
        while today < n - 1 {
            step(true)
            if tr != 0 {
                let minusDI = 100 * (minusDM / tr), plusDI = 100 * (plusDM / tr)
                let s = minusDI + plusDI
                if s != 0 {
                    let dx = 100 * (abs(minusDI - plusDI) / s)
                    adx = (adx * (p - 1) + dx) / p
                }
            }
            out[today] = adx
        }
        return out
    }
}
