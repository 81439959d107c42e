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

    /// ATR as a percentage of the close (0 where the close is 0); the ATR as `atr` computes it, in the same pass.
    public static func natr(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        guard period >= 1, n > period else { return [Double](repeating: .nan, count: n) }
        var sum = 0.0
        for i in 1...period { sum += trueRange(high[i], low[i], close[i - 1]) }
        var prev = sum / Double(period)
        let keep = Double(period - 1) / Double(period), weight = 1 / Double(period)
        return column(n, nanBefore: period) { o in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        o[period] = c[period] != 0 ? prev / c[period] * 100 : 0
                        for i in (period + 1)..<max(n, period + 1) {
                            prev = prev * keep + trueRange(h[i], l[i], c[i - 1]) * weight
                            o[i] = c[i] != 0 ? prev / c[i] * 100 : 0
                        }
                    }
                }
            }
        }
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
                            let moves = directionalMove(diffP, diffM)
                            let move = plus ? moves.plus : moves.minus
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

    /// Slow stochastic: %K = SMA(`slowK`) of the fast %K over `fastK` bars, %D = SMA(`slowD`) of %K; both start
    /// where %D does (TA-Lib's alignment). The SMAs are running sums, as `sma` computes them.
    public static func stochastic(high: [Double], low: [Double], close: [Double], fastK: Int, slowK: Int, slowD: Int) -> (k: [Double], d: [Double]) {
        let n = close.count
        let firstFast = fastK - 1, firstK = firstFast + slowK - 1, firstD = firstK + slowD - 1
        guard fastK >= 1, slowK >= 1, slowD >= 1, n > firstD else {
            let none = [Double](repeating: .nan, count: n)
            return (none, none)
        }
        let pK = Double(slowK), pD = Double(slowD)
        var d: [Double] = []
        var k = column(n, nanBefore: firstK) { kOut in
            d = column(n, nanBefore: firstD) { dOut in
                high.withUnsafeBufferPointer { h in
                    low.withUnsafeBufferPointer { l in
                        close.withUnsafeBufferPointer { c in
                            guard let h = h.baseAddress, let l = l.baseAddress, let c = c.baseAddress else { return }
                            // Fast %K block by block (with the slowK − 1 values before each block, which the %K sum
                            // drops), then the two running sums.
                            let block = 2048
                            let fast = UnsafeMutablePointer<Double>.allocate(capacity: block + slowK)
                            defer { fast.deallocate() }
                            var sumK = 0.0, sumD = 0.0
                            for j in firstFast..<firstK {
                                let (hh, ll) = extremes(h, l, from: j - fastK + 1, through: j)
                                sumK += fastValue(c[j], hh, ll)
                            }
                            var from = firstK
                            while from < n {
                                let to = min(from + block, n), base = from - slowK + 1
                                fastValues(h, l, c, period: fastK, from: base, to: to, into: fast)
                                for i in from..<to {
                                    sumK += fast[i - base]
                                    let value = sumK / pK
                                    sumK -= fast[i - slowK + 1 - base]
                                    kOut[i] = value
                                    sumD += value
                                    if i >= firstD {
                                        dOut[i] = sumD / pD
                                        sumD -= kOut[i - slowD + 1]
                                    }
                                }
                                from = to
                            }
                        }
                    }
                }
            }
        }
        // %K before the first %D only seeded %D.
        for i in firstK..<firstD { k[i] = .nan }
        return (k, d)
    }

    /// TA-Lib's fast %K from the close and the window's extremes (0 when the window is flat).
    @inline(__always) static func fastValue(_ close: Double, _ hh: Double, _ ll: Double) -> Double {
        let range = hh - ll
        return range != 0 ? (close - ll) / range * 100 : 0
    }

    /// Fast %K of bars `from..<to` into `out[0...]`, four bars at a time.
    static func fastValues(_ h: UnsafePointer<Double>, _ l: UnsafePointer<Double>, _ c: UnsafePointer<Double>, period: Int,
                           from: Int, to: Int, into out: UnsafeMutablePointer<Double>) {
        var j = from
        while j + 4 <= to {
            let (hh, ll) = extremes4(h, l, j, period)
            let close = UnsafeRawPointer(c + j).loadUnaligned(as: SIMD4<Double>.self)
            let range = hh - ll
            let value = ((close - ll) / range * 100).replacing(with: 0, where: range .== 0)
            UnsafeMutableRawPointer(out + (j - from)).storeBytes(of: value, as: SIMD4<Double>.self)
            j += 4
        }
        while j < to {
            let (hh, ll) = extremes(h, l, from: j - period + 1, through: j)
            out[j - from] = fastValue(c[j], hh, ll)
            j += 1
        }
    }

    /// Highest high and lowest low of bars `from...through`.
    @inline(__always) static func extremes(_ high: UnsafePointer<Double>, _ low: UnsafePointer<Double>, from: Int, through: Int) -> (high: Double, low: Double) {
        var hh = -Double.infinity, ll = Double.infinity
        for j in from...through {
            if high[j] > hh { hh = high[j] }
            if low[j] < ll { ll = low[j] }
        }
        return (hh, ll)
    }

    /// `extremes` of the `period` bars ending at each of bars `i..<i+4`, in SIMD lanes.
    @inline(__always) static func extremes4(_ high: UnsafePointer<Double>, _ low: UnsafePointer<Double>, _ i: Int, _ period: Int) -> (high: SIMD4<Double>, low: SIMD4<Double>) {
        var hh = SIMD4<Double>(repeating: -.infinity), ll = SIMD4<Double>(repeating: .infinity)
        for j in (i - period + 1)...i {
            let h = UnsafeRawPointer(high + j).loadUnaligned(as: SIMD4<Double>.self)
            let l = UnsafeRawPointer(low + j).loadUnaligned(as: SIMD4<Double>.self)
            hh = hh.replacing(with: h, where: h .> hh)
            ll = ll.replacing(with: l, where: l .< ll)
        }
        return (hh, ll)
    }

    /// Commodity Channel Index: (typical price − its SMA) / (0.015 × mean absolute deviation); 0 when either is (nearly) 0.
    ///
    /// The mean and the deviation are recomputed over the window for every bar (as TA-Lib does), eight bars at a time
    /// in SIMD lanes; each lane sums in the window's order, so a bar's value is the same as computed alone.
    public static func cci(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        guard period >= 1, n >= period else { return [Double](repeating: .nan, count: n) }
        let p = Double(period)
        return column(n, nanBefore: period - 1) { out in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        // Typical prices of each block and the period − 1 bars before it.
                        let block = 2048
                        let tp = UnsafeMutablePointer<Double>.allocate(capacity: block + period)
                        defer { tp.deallocate() }
                        var from = period - 1
                        while from < n {
                            let to = min(from + block, n), base = from - period + 1
                            for j in base..<to { tp[j - base] = (h[j] + l[j] + c[j]) / 3 }
                            var i = from
                            while i + 8 <= to {
                                let window = UnsafePointer(tp) + (i - period + 1 - base)
                                var sum = SIMD8<Double>()
                                for m in 0..<period { sum += UnsafeRawPointer(window + m).loadUnaligned(as: SIMD8<Double>.self) }
                                let mean = sum / p
                                var deviation = SIMD8<Double>()
                                for m in 0..<period {
                                    let d = UnsafeRawPointer(window + m).loadUnaligned(as: SIMD8<Double>.self) - mean
                                    // |d|: the sign bit cleared.
                                    deviation += unsafeBitCast(unsafeBitCast(d, to: SIMD8<UInt64>.self) & SIMD8<UInt64>(repeating: 0x7FFF_FFFF_FFFF_FFFF),
                                                               to: SIMD8<Double>.self)
                                }
                                deviation /= p
                                let distance = UnsafeRawPointer(tp + (i - base)).loadUnaligned(as: SIMD8<Double>.self) - mean
                                let flat = (distance .< 1e-8 .& distance .> -1e-8) .| (deviation .< 1e-8 .& deviation .> -1e-8)
                                let value = (distance / (0.015 * deviation)).replacing(with: 0, where: flat)
                                UnsafeMutableRawPointer(out + i).storeBytes(of: value, as: SIMD8<Double>.self)
                                i += 8
                            }
                            while i < to {
                                var sum = 0.0
                                for j in (i - period + 1)...i { sum += tp[j - base] }
                                let mean = sum / p
                                var deviation = 0.0
                                for j in (i - period + 1)...i { deviation += abs(tp[j - base] - mean) }
                                deviation /= p
                                // TA-Lib treats |x| < 1e-8 as zero here, so rounding noise on flat prices gives 0, not ±66.7.
                                let distance = tp[i - base] - mean
                                out[i] = abs(distance) >= 1e-8 && abs(deviation) >= 1e-8 ? distance / (0.015 * deviation) : 0
                                i += 1
                            }
                            from = to
                        }
                    }
                }
            }
        }
    }

    /// Williams %R: −100 × (highest high − close) / (highest high − lowest low); 0 when the range is 0.
    public static func williamsR(high: [Double], low: [Double], close: [Double], period: Int) -> [Double] {
        let n = close.count
        guard period >= 1, n >= period else { return [Double](repeating: .nan, count: n) }
        return column(n, nanBefore: period - 1) { out in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        guard let h = h.baseAddress, let l = l.baseAddress, let c = c.baseAddress else { return }
                        var i = period - 1
                        while i + 4 <= n {
                            let (hh, ll) = extremes4(h, l, i, period)
                            let close = UnsafeRawPointer(c + i).loadUnaligned(as: SIMD4<Double>.self)
                            let range = hh - ll
                            let value = (-100 * ((hh - close) / range)).replacing(with: 0, where: range .== 0)
                            UnsafeMutableRawPointer(out + i).storeBytes(of: value, as: SIMD4<Double>.self)
                            i += 4
                        }
                        while i < n {
                            let (hh, ll) = extremes(h, l, from: i - period + 1, through: i)
                            let range = hh - ll
                            out[i] = range != 0 ? -100 * ((hh - c[i]) / range) : 0
                            i += 1
                        }
                    }
                }
            }
        }
    }

    /// Money Flow Index over `period` typical-price changes (a change within ±1e-8 is none); 0 when the flows sum to less than 1.
    public static func mfi(high: [Double], low: [Double], close: [Double], volume: [Double], period: Int) -> [Double] {
        let n = close.count
        guard period >= 1, n > period else { return [Double](repeating: .nan, count: n) }
        return column(n, nanBefore: period) { out in
            high.withUnsafeBufferPointer { h in
                low.withUnsafeBufferPointer { l in
                    close.withUnsafeBufferPointer { c in
                        volume.withUnsafeBufferPointer { v in
                            // The money flow of bar j, split by the direction of its typical price's change (a change
                            // smaller than TA-Lib's zero tolerance, 1e-8, counts as none); `tp[j]` is bar j's typical price.
                            @inline(__always) func flows(_ j: Int, _ tp: UnsafePointer<Double>) -> (positive: Double, negative: Double) {
                                let flow = tp[j] * v[j], change = tp[j] - tp[j - 1]
                                return (masked(change > 1e-8, flow), masked(change < -1e-8, flow))
                            }
                            let block = 2048
                            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: block + period + 1)
                            defer { scratch.deallocate() }
                            /// The typical prices of bars `from..<to` in the scratch buffer, returned as indexed by bar.
                            @inline(__always) func typicalPrices(_ from: Int, _ to: Int) -> UnsafePointer<Double> {
                                for j in from..<to { scratch[j - from] = (h[j] + l[j] + c[j]) / 3 }
                                return UnsafePointer(scratch) - from
                            }
                            var pos = 0.0, neg = 0.0
                            let seed = typicalPrices(0, period + 1)
                            for i in 1...period {
                                let f = flows(i, seed)
                                pos += f.positive
                                neg += f.negative
                            }
                            out[period] = pos + neg < 1 ? 0 : 100 * (pos / (pos + neg))
                            // Block by block: the typical prices of the block and of the period + 1 bars before it,
                            // then the running sums (a bar's flow in, the flow `period` bars back out).
                            var from = period + 1
                            while from < n {
                                let to = min(from + block, n)
                                let tp = typicalPrices(from - period - 1, to)
                                for i in from..<to {
                                    let new = flows(i, tp), old = flows(i - period, tp)
                                    pos += new.positive - old.positive
                                    neg += new.negative - old.negative
                                    out[i] = pos + neg < 1 ? 0 : 100 * (pos / (pos + neg))
                                }
                                from = to
                            }
                        }
                    }
                }
            }
        }
    }

    /// On-balance volume, starting at the first bar's volume.
    public static func obv(close: [Double], volume: [Double]) -> [Double] {
        let n = close.count
        guard n > 0 else { return [] }
        return column(n, nanBefore: 0) { out in
            close.withUnsafeBufferPointer { c in
                volume.withUnsafeBufferPointer { v in
                    var total = v[0]
                    out[0] = total
                    for i in 1..<max(n, 1) {
                        // `total - v` is `total + (0 - v)` exactly.
                        total += masked(c[i] > c[i - 1], v[i]) - masked(c[i] < c[i - 1], v[i])
                        out[i] = total
                    }
                }
            }
        }
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
