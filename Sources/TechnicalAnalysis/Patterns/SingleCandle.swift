/// A pattern's rule: its value for `laneCount` consecutive bars. Each pattern has its own type, so that the pattern
/// loop is specialised for it and the rule inlined.
protocol CandleRule {
    func callAsFunction(_ w: Window) -> LaneValues
}

extension CandlestickPatterns {
    /// Runs a one-candle rule from the first bar where all `settings` have their averages (TA-Lib's lookback: the
    /// longest average period); slot `k` of the window is the average of `settings[k]` for the bar itself.
    @inline(__always)
    static func singleCandle<Rule: CandleRule>(_ bars: PatternBars, _ out: inout [Int32], _ settings: [CandleSetting],
                                               _ rule: Rule) {
        let start = settings.map(\.averagePeriod).max() ?? 0
        candles(bars, &out, lookback: start, settings.map { ($0, 0) }, rule)
    }

    /// Runs a rule over every bar from `lookback` on, `laneCount` bars at a time (the last group overlaps the one
    /// before it rather than running past the end). Slot `k` of the window is the average of `settings[k].0` for the
    /// candle `settings[k].1` bars back; settings of period 0 take no slot's column (rules use `Window.own`).
    @inline(__always)
    static func candles<Rule: CandleRule>(_ bars: PatternBars, _ out: inout [Int32], lookback: Int,
                                          _ settings: [(CandleSetting, Int)], _ rule: Rule) {
        let n = bars.count
        guard n > lookback, out.count >= n else { return }
        if n - lookback >= laneCount {
            out.withUnsafeMutableBufferPointer { o in
                if let base = o.baseAddress { run(bars, lookback, settings, into: base, rule) }
            }
            return
        }
        // Fewer bars than lanes: run on a copy padded with repeats of the last bar. A bar's value depends only on it
        // and the bars before, so the values of the real bars are the same.
        let padded = bars.padded(to: lookback + laneCount)
        var values = [Int32](repeating: 0, count: padded.count)
        values.withUnsafeMutableBufferPointer { o in
            if let base = o.baseAddress { run(padded, lookback, settings, into: base, rule) }
        }
        for j in lookback..<n { out[j] = values[j] }
    }

    /// `candles` on at least `laneCount` bars from `lookback` on: the first bars (while some setting's averages are
    /// still read from their own prefix, see `CandleAverages`) with copied averages, the rest from the shared columns.
    @inline(__always)
    private static func run<Rule: CandleRule>(_ bars: PatternBars, _ lookback: Int, _ settings: [(CandleSetting, Int)],
                                              into out: UnsafeMutablePointer<Int32>, _ rule: Rule) {
        let view = bars.view
        let plan = bars.averages.plan(settings, lookback: lookback, bars: view)
        defer { plan.storage?.deallocate() }
        if plan.split > lookback {
            lanes(view, plan.prefix, from: lookback, to: max(plan.split, lookback + laneCount), into: out, rule)
        }
        if plan.split < view.count {
            lanes(view, plan.main, from: plan.split, to: view.count, into: out, rule)
        }
    }

    /// The loop of `candles` over bars `first..<end` (at least `laneCount` of them).
    @inline(__always)
    private static func lanes<Rule: CandleRule>(_ view: BarView, _ slots: AverageSlots, from first: Int, to end: Int,
                                                into out: UnsafeMutablePointer<Int32>, _ rule: Rule) {
        let last = end - laneCount
        var i = first
        while i < last {
            store(rule(Window(bars: view, i: i, averages: slots)), out + i)
            i += laneCount
        }
        store(rule(Window(bars: view, i: last, averages: slots)), out + last)
    }

    @inline(__always) private static func store(_ values: LaneValues, _ to: UnsafeMutablePointer<Int32>) {
        UnsafeMutableRawPointer(to).storeBytes(of: SIMD4<Int32>(truncatingIfNeeded: values), as: SIMD4<Int32>.self)
    }
}

/// How a pattern reads its settings' averages: from `split` on through `main` (pointers into the shared columns),
/// before it through `prefix` (pointers into `storage`, a copy of the values those bars read).
struct AveragePlan {
    var main: AverageSlots
    var prefix: AverageSlots
    var split: Int
    var storage: UnsafeMutablePointer<Double>?
}

extension CandleAverages {
    /// The plan for a pattern's settings (at most eight) with first output bar `lookback`.
    func plan(_ settings: [(CandleSetting, Int)], lookback: Int, bars: BarView) -> AveragePlan {
        precondition(settings.count <= 8, "a pattern has at most eight settings")
        let n = bars.count
        // The slots of the averaged settings (period ≠ 0), in order; plain loops (no enumerated/zip of tuples, whose
        // generic metadata the runtime looks up on every call).
        var slotsUsed: [Int] = []
        slotsUsed.reserveCapacity(settings.count)
        var keys: [Key] = []
        keys.reserveCapacity(settings.count)
        for k in settings.indices where settings[k].0.averagePeriod != 0 {
            slotsUsed.append(k)
            keys.append(Self.key(settings[k].0, lookback: lookback, offset: settings[k].1))
        }
        let found = columns(keys, bars: bars)
        var main = [UnsafePointer<Double>](repeating: bars.close, count: 8), prefix = main
        var scales = [Double](repeating: 0, count: 8)
        var split = lookback
        for m in found.indices {
            let k = slotsUsed[m], offset = settings[k].1, column = found[m]
            main[k] = column.values - offset
            scales[k] = settings[k].0.scale
            split = max(split, min(column.from, n) + offset)
        }
        if n - split < laneCount { split = n }
        var storage: UnsafeMutablePointer<Double>?
        if split > lookback, !slotsUsed.isEmpty {
            // Entries for bars lookback..<split, plus room for a last group of lanes and for rules reading ahead.
            let length = max(split - lookback, laneCount) + 8
            let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 8 * length)
            buffer.initialize(repeating: 0, count: 8 * length)
            for m in found.indices {
                let k = slotsUsed[m], offset = settings[k].1, column = found[m]
                let copy = buffer + k * length, first = lookback - offset
                for j in 0..<min(length, n - first) { copy[j] = column.value(first + j) }
                prefix[k] = UnsafePointer(copy) - lookback
            }
            storage = buffer
        }
        func slots(_ c: [UnsafePointer<Double>]) -> AverageSlots {
            AverageSlots(c0: c[0], c1: c[1], c2: c[2], c3: c[3], c4: c[4], c5: c[5], c6: c[6], c7: c[7],
                         s0: scales[0], s1: scales[1], s2: scales[2], s3: scales[3], s4: scales[4], s5: scales[5], s6: scales[6], s7: scales[7])
        }
        return AveragePlan(main: slots(main), prefix: slots(prefix), split: split, storage: storage)
    }
}

/// The average columns of a pattern's settings (up to eight), held by value so that the pattern loop keeps them in
/// registers. A slot's pointer is shifted by the setting's offset, so that at bar `i` it holds the value for the
/// candle the setting judges; `s` is the setting's scale.
struct AverageSlots {
    var c0, c1, c2, c3, c4, c5, c6, c7: UnsafePointer<Double>
    var s0, s1, s2, s3, s4, s5, s6, s7: Double

    @inline(__always) func column(_ k: Int) -> UnsafePointer<Double> {
        switch k {
        case 0: return c0
        case 1: return c1
        case 2: return c2
        case 3: return c3
        case 4: return c4
        case 5: return c5
        case 6: return c6
        default: return c7
        }
    }

    @inline(__always) func scale(_ k: Int) -> Lanes {
        switch k {
        case 0: return Lanes(repeating: s0)
        case 1: return Lanes(repeating: s1)
        case 2: return Lanes(repeating: s2)
        case 3: return Lanes(repeating: s3)
        case 4: return Lanes(repeating: s4)
        case 5: return Lanes(repeating: s5)
        case 6: return Lanes(repeating: s6)
        default: return Lanes(repeating: s7)
        }
    }
}
