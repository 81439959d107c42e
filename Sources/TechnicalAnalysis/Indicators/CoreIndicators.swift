import Foundation

/// Indicators with TA-Lib's conventions: `[Double]` in, `[Double]` out of the same length, `Double.nan`
/// where TA-Lib has no value (the warm-up). Every period is a parameter.
public enum Indicators {
    /// `x` where `condition` holds, else +0, computed with a mask (an FP select on a Bool becomes a branch on x86,
    /// mispredicted when the condition follows the data).
    @inline(__always) static func masked(_ condition: Bool, _ x: Double) -> Double {
        Double(bitPattern: x.bitPattern & (0 &- UInt64(condition ? 1 : 0)))
    }

    /// Asks Linux for transparent huge pages on the 2 MiB-aligned part of a large, new output buffer: it is written
    /// once from start to end, and one page fault per 2 MiB instead of per 4 KiB makes the first write much cheaper.
    @inline(__always) static func adviseHugePages(_ base: UnsafeMutablePointer<Double>, count: Int) {
        #if os(Linux)
        let hugePage = 2 << 20
        let bytes = count * MemoryLayout<Double>.stride
        guard bytes >= 2 * hugePage else { return }
        let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: base) + bytes) & ~(hugePage - 1)
        if end > start, let address = UnsafeMutableRawPointer(bitPattern: start) {
            _ = madvise(address, end - start, Int32(MADV_HUGEPAGE))
        }
        #endif
    }

    /// A bar's directional movement from the rise of its high (`up`) and the fall of its low (`down`): the larger of
    /// the two counts, if positive, for its side (ties count for neither): a side counts when it exceeds both the
    /// other side and 0. Computed in SIMD lanes (plus, minus), where selects are masks: as scalars LLVM turns them
    /// into branches, mispredicted about every other bar.
    @inline(__always) static func directionalMove(_ up: Double, _ down: Double) -> (plus: Double, minus: Double) {
        let moves = SIMD2(up, down), others = SIMD2(down, up), zero = SIMD2<Double>()
        let floors = others.replacing(with: zero, where: others .< zero)
        let counted = zero.replacing(with: moves, where: moves .> floors)
        return (counted[0], counted[1])
    }

    /// A column of `n` values: NaN before `first`, the rest written by `body` (which must write every index from
    /// `first` on). Each output gets its own buffer, written once.
    @inline(__always)
    static func column(_ n: Int, nanBefore first: Int, _ body: (UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        [Double](unsafeUninitializedCapacity: n) { buffer, count in
            count = 0
            guard let base = buffer.baseAddress else { return }
            adviseHugePages(base, count: n)
            base.initialize(repeating: .nan, count: min(max(first, 0), n))
            if first < n { body(base) }
            count = n
        }
    }

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
        let seedEnd = slow - 1
        let start = seedEnd + signalPeriod - 1
        guard n > start, fast >= 1, signalPeriod >= 1 else {
            let none = [Double](repeating: .nan, count: n)
            return MACD(macd: none, signal: none, histogram: none)
        }
        // One pass: both EMAs seeded on the same bar, the signal seeded with the SMA of the first MACD values.
        let kFast = 2.0 / Double(fast + 1), kSlow = 2.0 / Double(slow + 1), kSignal = 2.0 / Double(signalPeriod + 1)
        var fastSum = 0.0, slowSum = 0.0
        for i in 0...seedEnd {
            slowSum += x[i]
            if i > seedEnd - fast { fastSum += x[i] }
        }
        var fastEMA = fastSum / Double(fast), slowEMA = slowSum / Double(slow)
        var signalSum = 0.0
        x.withUnsafeBufferPointer { x in
            // The MACD values before the signal's first one only seed it.
            for i in seedEnd..<start {
                if i > seedEnd {
                    fastEMA = (x[i] - fastEMA) * kFast + fastEMA
                    slowEMA = (x[i] - slowEMA) * kSlow + slowEMA
                }
                signalSum += fastEMA - slowEMA
            }
        }
        var signalEMA = 0.0
        var signal: [Double] = []
        var histogram: [Double] = []
        let line = column(n, nanBefore: start) { lineOut in
            signal = column(n, nanBefore: start) { signalOut in
                histogram = column(n, nanBefore: start) { histogramOut in
                    x.withUnsafeBufferPointer { x in
                        for i in start..<n {
                            if i > seedEnd {
                                fastEMA = (x[i] - fastEMA) * kFast + fastEMA
                                slowEMA = (x[i] - slowEMA) * kSlow + slowEMA
                            }
                            let value = fastEMA - slowEMA
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
        guard period >= 1, n >= period else {
            let none = [Double](repeating: .nan, count: n)
            return Bands(upper: none, middle: none, lower: none)
        }
        // The SMA and the population deviation in one pass, with the same sums as `sma` and `stddev` (their running
        // sums take the same steps, so the SMA is also the deviation's mean).
        let p = Double(period)
        var sum = 0.0, sumSq = 0.0
        for i in 0..<(period - 1) {
            sum += x[i]
            sumSq += x[i] * x[i]
        }
        var middle: [Double] = []
        var lower: [Double] = []
        let upper = column(n, nanBefore: period - 1) { up in
            middle = column(n, nanBefore: period - 1) { mid in
                lower = column(n, nanBefore: period - 1) { low in
                    x.withUnsafeBufferPointer { x in
                        for i in (period - 1)..<n {
                            sum += x[i]
                            sumSq += x[i] * x[i]
                            let average = sum / p
                            let variance = sumSq / p - average * average
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
    ///
    /// Wilder's step `x − x / p + new` is computed as `x × (1 − 1/p) + new` and the ADX step `(adx × (p − 1) + dx) / p`
    /// as `adx × (1 − 1/p) + dx / p`, so that no division is on a chain from bar to bar, and DX is computed from the
    /// smoothed moves directly. The results differ from TA-Lib's by rounding only (the smoothing damps it; far below
    /// 1e-9 relative). Directional moves and the guards against a zero denominator are selects, not branches.
    public static func adx(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        let lookback = 2 * period - 1
        guard period >= 2, n > lookback else { return [Double](repeating: .nan, count: n) }
        let p = Double(period)
        let keep = 1 - 1 / p, weight = 1 / p
        return column(n, nanBefore: lookback) { out in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        var plusDM = 0.0, minusDM = 0.0, tr = 0.0
                        /// Bar `today`'s moves and true range.
                        @inline(__always) func moves(_ today: Int) -> (plus: Double, minus: Double, range: Double) {
                            let diffP = h[today] - h[today - 1]
                            let diffM = l[today - 1] - l[today]
                            let move = directionalMove(diffP, diffM)
                            return (move.plus, move.minus, trueRange(h[today], l[today], c[today - 1]))
                        }
                        /// DX from the smoothed values, 100 × |−DI − +DI| / (−DI + +DI), with the true range (the DIs'
                        /// common denominator) cancelled; 0 where TA-Lib skips the bar (no range or no movement).
                        @inline(__always) func dx() -> (value: Double, valid: Bool) {
                            let s = minusDM + plusDM
                            let valid = tr != 0 &&& s != 0
                            return (masked(valid, 100 * (abs(minusDM - plusDM) / s)), valid)
                        }
                        for today in 1..<period {
                            let m = moves(today)
                            plusDM += m.plus
                            minusDM += m.minus
                            tr += m.range
                        }
                        var sumDX = 0.0
                        for today in period...lookback {
                            let m = moves(today)
                            plusDM = plusDM * keep + m.plus
                            minusDM = minusDM * keep + m.minus
                            tr = tr * keep + m.range
                            sumDX += dx().value
                        }
                        var adx = sumDX / p
                        out[lookback] = adx
                        for today in (lookback + 1)..<max(n, lookback + 1) {
                            let m = moves(today)
                            plusDM = plusDM * keep + m.plus
                            minusDM = minusDM * keep + m.minus
                            tr = tr * keep + m.range
                            let (value, valid) = dx()
                            let next = adx * keep + value * weight
                            adx = valid ? next : adx   // almost always valid: a well-predicted branch
                            out[today] = adx
                        }
                    }
                }
            }
        }
    }
}
