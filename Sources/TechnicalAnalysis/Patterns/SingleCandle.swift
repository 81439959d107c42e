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
        // The keys of the averaged settings (period ≠ 0), in order; plain loops (no enumerated/zip of tuples, whose
        // generic metadata the runtime looks up on every call), and the slots set in place (no arrays per plan).
        var keys: [Key] = []
        keys.reserveCapacity(settings.count)
        for k in settings.indices where settings[k].0.averagePeriod != 0 {
            keys.append(Self.key(settings[k].0, lookback: lookback, offset: settings[k].1))
        }
        let found = columns(keys, bars: bars)
        var main = AverageSlots(filling: bars.close)
        var split = lookback
        var m = 0
        for k in settings.indices where settings[k].0.averagePeriod != 0 {
            let offset = settings[k].1, column = found[m]
            main.set(k, column: column.values - offset, scale: settings[k].0.scale)
            split = max(split, min(column.from, n) + offset)
            m += 1
        }
        if n - split < laneCount { split = n }
        // The prefix reads copies of the entries before `split` (its slots are the main ones until then).
        var prefix = main
        var storage: UnsafeMutablePointer<Double>?
        if split > lookback, !keys.isEmpty {
            // Entries for bars lookback..<split, plus room for a last group of lanes and for rules reading ahead.
            let length = max(split - lookback, laneCount) + 8
            let buffer = UnsafeMutablePointer<Double>.allocate(capacity: 8 * length)
            buffer.initialize(repeating: 0, count: 8 * length)
            m = 0
            for k in settings.indices where settings[k].0.averagePeriod != 0 {
                let offset = settings[k].1, column = found[m]
                let copy = buffer + k * length, first = lookback - offset
                for j in 0..<min(length, n - first) { copy[j] = column.value(first + j) }
                prefix.set(k, column: UnsafePointer(copy) - lookback, scale: settings[k].0.scale)
                m += 1
            }
            storage = buffer
        }
        return AveragePlan(main: main, prefix: prefix, split: split, storage: storage)
    }
}

/// The average columns of a pattern's settings (up to eight), held by value so that the pattern loop keeps them in
/// registers. A slot's pointer is shifted by the setting's offset, so that at bar `i` it holds the value for the
/// candle the setting judges; `s` is the setting's scale.
struct AverageSlots {
    var c0, c1, c2, c3, c4, c5, c6, c7: UnsafePointer<Double>
    var s0, s1, s2, s3, s4, s5, s6, s7: Double

    /// Slot `k` reads `column` with `scale`.
    mutating func set(_ k: Int, column: UnsafePointer<Double>, scale: Double) {
        switch k {
        case 0: (c0, s0) = (column, scale)
        case 1: (c1, s1) = (column, scale)
        case 2: (c2, s2) = (column, scale)
        case 3: (c3, s3) = (column, scale)
        case 4: (c4, s4) = (column, scale)
        case 5: (c5, s5) = (column, scale)
        case 6: (c6, s6) = (column, scale)
        default: (c7, s7) = (column, scale)
        }
    }

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

extension AverageSlots {
    /// Every slot reading `column` with scale 0.
    init(filling column: UnsafePointer<Double>) {
        self.init(c0: column, c1: column, c2: column, c3: column, c4: column, c5: column, c6: column, c7: column,
                  s0: 0, s1: 0, s2: 0, s3: 0, s4: 0, s5: 0, s6: 0, s7: 0)
    }
}
