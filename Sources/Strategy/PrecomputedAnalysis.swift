import Foundation
import TechnicalAnalysis
import TradingDomain

/// Where the cycle gets a symbol's analysis at its newest closed candle.
public protocol SnapshotProvider: Sendable {
    func snapshot(symbol: Symbol, candles: ArraySlice<Candle>, parameters: AnalysisParameters) -> MarketSnapshot?
    /// sma-cross's precomputed columns when this provider is them (a backtest): found without a dynamic cast, which
    /// cost about 260 instructions at every cycle that runs.
    var smaCrossColumns: SMACrossColumns? { get }
}

extension SnapshotProvider {
    public var smaCrossColumns: SMACrossColumns? { nil }
}

/// The job's analysis: indicators, patterns and structure computed on the window of candles the cycle holds.
public struct WindowAnalyzer: SnapshotProvider {
    public init() {}
    public func snapshot(symbol: Symbol, candles: ArraySlice<Candle>, parameters: AnalysisParameters) -> MarketSnapshot? {
        SymbolAnalyzer.snapshot(candles: Array(candles), parameters: parameters)
    }
}

/// The backtest's analysis: every indicator, pattern and structure reading computed once over each symbol's whole
/// history, then read at the cycle's newest candle. Every reading at bar i uses bars ≤ i only (indicators and patterns
/// are causal; structure uses the pivots of the same `lookback` window the job would hold), so nothing comes from the
/// future — the look-ahead test proves it. The one difference from the job: recursive indicators (EMA, Wilder
/// smoothing) are seeded at the start of the history instead of the start of the window, which moves them by less
/// than 1e-7 relative after the warm-up. Memory: about 110 bytes per candle, nothing per cycle.
public final class PrecomputedAnalysis: SnapshotProvider, @unchecked Sendable {
    /// One symbol's readings bar by bar, a column per reading, and the patterns as a compressed list of the hits of
    /// each bar, by name. The columns live in `arena` (they are read for the whole backtest).
    struct Columns {
        let arena: ColumnArena
        let times: UnsafeBufferPointer<Int64>
        let close, emaFast, emaSlow, rsi, macdHistogram, bollingerUpper, bollingerMiddle, bollingerLower, atr, adx, volatility: UnsafeBufferPointer<Double>
        let breakout, regime: UnsafeBufferPointer<Int8>
        /// Hits of bar i are `hitPattern[hitStart[i]..<hitStart[i + 1]]` with their values in `hitValue`.
        let hitStart: UnsafeBufferPointer<Int32>
        let hitPattern: [UInt8]
        let hitValue: [Int16]
        /// The sum of the values of bar i's hits (what the scorer reads of them).
        let patternSum: UnsafeBufferPointer<Int32>

        /// Bytes of `arena` the columns of `n` bars take (alignment included).
        static func bytes(bars n: Int) -> Int {
            16 * ColumnArena.alignment + n * (12 * 8 + 2 * 1 + 4) + (n + 1) * 4
        }

        /// Whether every indicator the scorer reads has a value at bar `i` (nil snapshot otherwise: still warming up).
        @inline(__always) func isWarm(_ i: Int) -> Bool {
            emaFast[i].isFinite && emaSlow[i].isFinite && rsi[i].isFinite && macdHistogram[i].isFinite && bollingerUpper[i].isFinite
                && bollingerMiddle[i].isFinite && bollingerLower[i].isFinite && atr[i].isFinite && adx[i].isFinite
        }
    }

    /// Boxed, so that a lookup hands out one reference instead of a copy of the columns (a retain per array).
    private final class Stored: @unchecked Sendable {  // read only after init
        let columns: Columns
        init(_ columns: Columns) { self.columns = columns }

        /// The readings at the bar opened at `time`; nil when that bar was not precomputed, `.some(nil)` while an
        /// indicator still warms up.
        func snapshot(at time: Int64) -> MarketSnapshot?? {
            guard let i = PrecomputedAnalysis.index(of: time, in: columns.times) else { return nil }
            guard let snapshot = snapshotWithoutPatterns(at: i, time: time) else { return .some(nil) }
            var hits: [PatternHits.Element] = []
            let from = Int(columns.hitStart[i]), to = Int(columns.hitStart[i + 1])
            if from < to {
                hits.reserveCapacity(to - from)
                for k in from..<to { hits.append((PrecomputedAnalysis.patternNames[Int(columns.hitPattern[k])], Int(columns.hitValue[k]))) }
            }
            var full = snapshot
            full.patterns = PatternHits(sortedHits: hits)
            return full
        }

        /// The readings at bar `i` (opened at `time`) with an empty pattern list; nil while an indicator still warms up.
        @inline(__always) func snapshotWithoutPatterns(at i: Int, time: Int64) -> MarketSnapshot? {
            let c = columns
            guard c.isWarm(i) else { return nil }
            return MarketSnapshot(candleTime: time, close: c.close[i], emaFast: c.emaFast[i], emaSlow: c.emaSlow[i], rsi: c.rsi[i],
                                  macdHistogram: c.macdHistogram[i], bollingerUpper: c.bollingerUpper[i], bollingerMiddle: c.bollingerMiddle[i],
                                  bollingerLower: c.bollingerLower[i], atr: c.atr[i], adx: c.adx[i], volatility: c.volatility[i],
                                  patterns: PatternHits(sortedHits: []), breakout: Int(c.breakout[i]), regime: Int(c.regime[i]))
        }
    }
    private let columns: SymbolTable<Stored>
    let parameters: AnalysisParameters
    /// The window whose pivots the structure readings use.
    let lookback: Int
    private static let patternNames = CandlestickPattern.allCases.map(\.rawValue)

    /// Analyses `candles` (per symbol, oldest first; finite prices, as every candle source gives them) as a cycle
    /// holding the newest `lookback` candles would. `concurrently`: the symbols on several threads at once (nil: when
    /// the machine has more than one core); the columns are the same either way.
    public init(candles: [Symbol: [Candle]], parameters: AnalysisParameters, lookback: Int, concurrently: Bool? = nil) {
        self.parameters = parameters
        self.lookback = lookback
        // Every symbol's columns in one block (large: asked for huge pages, which spares a page fault per 4 KiB).
        let arena = ColumnArena(bytes: candles.values.reduce(0) { $0 + Columns.bytes(bars: $1.count) })
        let work = Array(candles)
        var analysed = [Columns?](repeating: nil, count: work.count)
        analysed.withUnsafeMutableBufferPointer { analysed in
            /// Each symbol's slot, written by one thread only.
            struct Slots: @unchecked Sendable { let slots: UnsafeMutableBufferPointer<Columns?> }
            let out = Slots(slots: analysed)
            let analyse = { @Sendable (k: Int) in out.slots[k] = Self.analyse(work[k].value, parameters, lookback: max(lookback, 1), arena: arena) }
            // Symbols at once on the machine's cores (each symbol's analysis is on its own: the CPU time is the same,
            // the wall time shorter).
            if work.count > 1, concurrently ?? (ProcessInfo.processInfo.activeProcessorCount > 1) {
                DispatchQueue.concurrentPerform(iterations: work.count, execute: analyse)
            } else {
                for k in work.indices { analyse(k) }
            }
        }
        var result = SymbolTable<Stored>()
        for (k, entry) in work.enumerated() { if let c = analysed[k] { result[entry.key] = Stored(c) } }
        columns = result
    }

    /// Whether this analysis is the one a backtest with `parameters` and `lookback` would make (on the same candles).
    public func isMade(with parameters: AnalysisParameters, lookback: Int) -> Bool {
        self.parameters == parameters && self.lookback == lookback
    }

    public func snapshot(symbol: Symbol, candles: ArraySlice<Candle>, parameters p: AnalysisParameters) -> MarketSnapshot? {
        let n = candles.count
        guard n > Self.minimumCandles(p), let last = candles.last else { return nil }
        guard p == parameters, let stored = columns[symbol] else {
            return SymbolAnalyzer.snapshot(candles: Array(candles), parameters: p)  // not precomputed: the job's way
        }
        return stored.snapshot(at: last.openTime) ?? SymbolAnalyzer.snapshot(candles: Array(candles), parameters: p)
    }

    /// What an idle backtest cycle reads of a symbol's analysis: the scorer's signal (without a model opinion, and
    /// with an empty `patterns` list: its score counts them), the ATR that sizes an entry and the volatility that
    /// sets the schedule. nil exactly where `snapshot` is nil.
    /// `bar`: where the newest candle probably is in the series this analysis was made from (checked).
    public func scoredSignal(symbol: Symbol, candles: ArraySlice<Candle>, bar: Int? = nil, parameters p: AnalysisParameters,
                             weights: ScoringWeights) -> (signal: Signal, atr: Double, volatility: Double)? {
        if p == parameters, let last = candles.last, candles.count > Self.minimumCandles(p), let stored = columns[symbol],
           let i = bar.flatMap({ stored.columns.times.indices.contains($0) && stored.columns.times[$0] == last.openTime ? $0 : nil })
               ?? Self.index(of: last.openTime, in: stored.columns.times),
           let snapshot = stored.snapshotWithoutPatterns(at: i, time: last.openTime) {
            let signal = SignalScorer.score(symbol: symbol, snapshot: snapshot, patternSum: Int(stored.columns.patternSum[i]), weights: weights)
            return (signal, snapshot.atr, snapshot.volatility)
        }
        guard let snapshot = self.snapshot(symbol: symbol, candles: candles, parameters: p) else { return nil }
        var signal = SignalScorer.score(symbol: symbol, snapshot: snapshot, weights: weights, detailed: false)
        signal.patterns = PatternHits(sortedHits: [])
        return (signal, snapshot.atr, snapshot.volatility)
    }

    /// Whether the eight values at `p` are all 0 (as four 64-bit words, which compiles to a few loads and ors).
    @inline(__always) static func allZero(_ p: UnsafePointer<Int32>) -> Bool {
        let raw = UnsafeRawPointer(p)
        return raw.loadUnaligned(as: UInt64.self) | raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            | raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self) == 0
    }

    /// The scorer's signals for `weights` (and no model opinion) at every bar of `symbols`, for the idle cycles to read
    /// by position in `symbols`; nil when `parameters` are not those of this analysis.
    public func signals(weights: ScoringWeights, symbols: [Symbol], parameters p: AnalysisParameters) -> PrecomputedSignals? {
        guard p == parameters else { return nil }
        let stride = MemoryLayout<PrecomputedSignals.Bar>.stride
        let arena = ColumnArena(bytes: symbols.reduce(0) { $0 + ColumnArena.alignment + (columns[$1]?.columns.times.count ?? 0) * stride })
        let series = symbols.map { symbol -> PrecomputedSignals.Series in
            guard let stored = columns[symbol] else { return PrecomputedSignals.Series(times: UnsafeBufferPointer(start: nil, count: 0), bars: UnsafeBufferPointer(start: nil, count: 0)) }
            let c = stored.columns
            let bars = arena.take(PrecomputedSignals.Bar.self, count: c.times.count)
            // The columns scored in place: the components of the snapshot `snapshotWithoutPatterns` would make.
            for i in c.times.indices {
                guard c.isWarm(i) else {
                    bars.initializeElement(at: i, to: PrecomputedSignals.Bar(score: .nan, atr: .nan, volatility: .nan))
                    continue
                }
                let components = SignalScorer.componentValues(
                    close: c.close[i], emaFast: c.emaFast[i], emaSlow: c.emaSlow[i], rsi: c.rsi[i], macdHistogram: c.macdHistogram[i],
                    bollingerUpper: c.bollingerUpper[i], bollingerMiddle: c.bollingerMiddle[i], atr: c.atr[i], breakout: Int(c.breakout[i]),
                    regime: Int(c.regime[i]), patternSum: Int(c.patternSum[i]), opinion: nil)
                bars.initializeElement(at: i, to: PrecomputedSignals.Bar(score: SignalScorer.combined(components, weights: weights), atr: c.atr[i],
                                                                         volatility: c.volatility[i]))
            }
            return PrecomputedSignals.Series(times: c.times, bars: UnsafeBufferPointer(bars))
        }
        return PrecomputedSignals(analysis: self, weights: weights, symbols: symbols, series: series, arena: arena)
    }

    /// Candles needed before the analysis of the newest is given: more than this many.
    static func minimumCandles(_ p: AnalysisParameters) -> Int { max(p.emaSlow, 35, p.bollingerPeriod, 2 * p.adxPeriod, p.volatilityWindow + 1) }

    static func index(of time: Int64, in times: UnsafeBufferPointer<Int64>) -> Int? {
        // Bars are usually evenly spaced: try where the spacing of the first two puts it, then search.
        if times.count > 1, time >= times[0] {
            let (step, stepOverflow) = times[1].subtractingReportingOverflow(times[0])
            let (offset, overflow) = time.subtractingReportingOverflow(times[0])
            if step > 0, !overflow, !stepOverflow {
                let guess = offset / step
                if guess < times.count, times[Int(guess)] == time { return Int(guess) }
            }
        }
        let lo = times.partitionPoint { $0 < time }
        return lo < times.count && times[lo] == time ? lo : nil
    }

    /// The columns of `candles`, in `arena` (one of their own if nil).
    static func analyse(_ candles: [Candle], _ p: AnalysisParameters, lookback: Int, arena: ColumnArena? = nil) -> Columns {
        let n = candles.count
        let arena = arena ?? ColumnArena(bytes: Columns.bytes(bars: n))
        /// A column of the arena holding `values`.
        func kept(_ values: [Double]) -> UnsafeBufferPointer<Double> {
            // Every indicator gives one value per bar: a shorter column would leave memory unwritten.
            precondition(values.count == n, "an indicator column of \(values.count) values for \(n) bars")
            let column = arena.take(Double.self, count: n)
            values.withUnsafeBufferPointer { values in
                if let from = values.baseAddress, let to = column.baseAddress { to.initialize(from: from, count: min(n, values.count)) }
            }
            return UnsafeBufferPointer(column)
        }
        let times = arena.take(Int64.self, count: n)
        for (i, candle) in candles.enumerated() { times[i] = candle.openTime }
        let (open, high, low, close) = SymbolAnalyzer.columns(candles)
        let emaFast = Indicators.ema(close, period: p.emaFast)
        let macd = Indicators.macd(close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9)
        let bands = Indicators.bollingerBands(close, period: p.bollingerPeriod, deviationsUp: p.bollingerK, deviationsDown: p.bollingerK)
        let atr = Indicators.atr(high: high, low: low, close: close, period: p.atrPeriod)
        let adx = Indicators.adx(high: high, low: low, close: close, period: p.adxPeriod)
        let volatility = SymbolAnalyzer.realizedVolatilities(close, window: p.volatilityWindow, barsPerYear: p.barsPerYear)

        // Patterns: every pattern over the whole history, kept as a list of hits per bar.
        let bars = PatternBars(open: open, high: high, low: low, close: close)
        var out = [Int32](repeating: 0, count: n)
        typealias Hit = (bar: Int32, code: UInt8, value: Int16)
        // hits[..<hitCount] are the hits found; the room after them is written ahead (uninitialised memory: grown
        // without filling it).
        var capacity = 2 * n + 64
        var hits = UnsafeMutablePointer<Hit>.allocate(capacity: capacity)
        defer { hits.deallocate() }
        var hitCount = 0
        // In name order, so that each bar's hits come out sorted by name (the counting sort below keeps the order).
        for (code, pattern) in CandlestickPattern.allCases.enumerated().sorted(by: { $0.element.rawValue < $1.element.rawValue }) {
            // `out` is all zeros here: the scan below puts back a zero wherever the pattern fired.
            pattern.compute(bars, into: &out)
            if capacity < hitCount + n {
                let larger = max(hitCount + n, 2 * capacity)
                let moved = UnsafeMutablePointer<Hit>.allocate(capacity: larger)
                moved.moveInitialize(from: hits, count: hitCount)
                hits.deallocate()
                hits = moved
                capacity = larger
            }
            let slots = hits
            out.withUnsafeMutableBufferPointer { values in
                guard let base = values.baseAddress else { return }
                // Eight bars at a time: most patterns fire on a few bars in a hundred. Where one of the eight
                // fired, each is written ahead and kept only if it fired (no branch to mispredict).
                var k = 0
                while k < n {
                    let chunk = min(8, n - k)
                    if chunk == 8, Self.allZero(base + k) {
                        k += 8
                        continue
                    }
                    for j in k..<(k + chunk) {
                        let value = base[j]
                        (slots + hitCount).initialize(to: (Int32(truncatingIfNeeded: j), UInt8(truncatingIfNeeded: code), Int16(clamping: value)))
                        hitCount += value != 0 ? 1 : 0
                        base[j] = 0
                    }
                    k += chunk
                }
            }
        }
        // Grouped by bar (a counting sort keeps each bar's hits in name order).
        let found = UnsafeBufferPointer(start: hits, count: hitCount)
        let hitStart = arena.take(Int32.self, count: n + 1)
        hitStart.initialize(repeating: 0)
        for hit in found { hitStart[Int(hit.bar) + 1] += 1 }
        for k in 0..<n { hitStart[k + 1] += hitStart[k] }
        var fill = Array(hitStart)
        var hitPattern = [UInt8](repeating: 0, count: hitCount), hitValue = [Int16](repeating: 0, count: hitCount)
        let patternSum = arena.take(Int32.self, count: n)
        patternSum.initialize(repeating: 0)
        for hit in found {
            let slot = Int(fill[Int(hit.bar)])
            fill[Int(hit.bar)] += 1
            hitPattern[slot] = hit.code
            hitValue[slot] = hit.value
            patternSum[Int(hit.bar)] += Int32(hit.value)
        }

        // Structure over the same window the job would hold.
        let breakout = arena.take(Int8.self, count: n), regime = arena.take(Int8.self, count: n)
        var structure = SlidingStructure(high: high, low: low, pivotWindow: p.pivotWindow)
        for i in 0..<n {
            let emaSlope = emaFast[i] - emaFast[max(0, i - 5)]
            let s = structure.summary(at: i, windowStart: max(0, i - lookback + 1), close: close, adx: adx[i], emaSlope: emaSlope, atr: atr[i],
                                      levels: false)
            breakout[i] = Int8(s.breakout)
            regime[i] = Int8(s.regime)
        }
        return Columns(arena: arena, times: UnsafeBufferPointer(times), close: kept(close), emaFast: kept(emaFast),
                       emaSlow: kept(Indicators.ema(close, period: p.emaSlow)), rsi: kept(Indicators.rsi(close, period: p.rsiPeriod)),
                       macdHistogram: kept(macd.histogram), bollingerUpper: kept(bands.upper), bollingerMiddle: kept(bands.middle),
                       bollingerLower: kept(bands.lower), atr: kept(atr), adx: kept(adx), volatility: kept(volatility),
                       breakout: UnsafeBufferPointer(breakout), regime: UnsafeBufferPointer(regime), hitStart: UnsafeBufferPointer(hitStart),
                       hitPattern: hitPattern, hitValue: hitValue, patternSum: UnsafeBufferPointer(patternSum))
    }
}

/// The scorer's signal at every bar of each symbol for one set of weights, without a model opinion: what the backtest's
/// idle cycles read of the analysis, found by the symbol's position and the bar's index (8 + 24 bytes a bar).
public final class PrecomputedSignals: @unchecked Sendable {  // read only after init
    struct Bar {
        /// NaN where the analysis has no precomputed snapshot (then the analysis is asked).
        var score, atr, volatility: Double
    }
    struct Series {
        /// Empty when the symbol was not precomputed.
        let times: UnsafeBufferPointer<Int64>
        /// In `arena`.
        let bars: UnsafeBufferPointer<Bar>
    }
    /// Holds the bars (the times are the analysis's).
    private let arena: ColumnArena
    let analysis: PrecomputedAnalysis
    let weights: ScoringWeights
    let symbols: [Symbol]
    let series: [Series]
    /// A window needs more candles than this (`PrecomputedAnalysis.minimumCandles`).
    private let minimumCandles: Int

    init(analysis: PrecomputedAnalysis, weights: ScoringWeights, symbols: [Symbol], series: [Series], arena: ColumnArena) {
        self.arena = arena
        self.analysis = analysis
        self.weights = weights
        self.symbols = symbols
        self.series = series
        minimumCandles = PrecomputedAnalysis.minimumCandles(analysis.parameters)
    }

    /// `PrecomputedAnalysis.scoredSignal` for `symbols[k]` on `candles` (whose newest candle is probably bar `bar` of
    /// the series analysed; checked), with the parameters the signals were made for.
    public func scoredSignal(_ k: Int, candles: ArraySlice<Candle>, bar: Int) -> (signal: Signal, atr: Double, volatility: Double)? {
        // The columns are read in place (no copy of a series, so no reference counting per call).
        if let last = candles.last, candles.count > minimumCandles, !series[k].times.isEmpty {
            let time = last.openTime
            let i = bar >= 0 && bar < series[k].times.count && series[k].times[bar] == time ? bar : PrecomputedAnalysis.index(of: time, in: series[k].times)
            if let i, case let b = series[k].bars[i], !b.score.isNaN {
                return (SignalScorer.signal(symbol: symbols[k], candleTime: time, score: b.score), b.atr, b.volatility)
            }
        }
        return analysis.scoredSignal(symbol: symbols[k], candles: candles, bar: bar, parameters: analysis.parameters, weights: weights)
    }

    /// `scoredSignal`, its signal written into `signal` (nil when there is none) and the ATR and the volatility
    /// returned: a signal already there is updated in place where the score was precomputed (no signal made and the
    /// old one destroyed: an idle cycle reads each symbol's at every bar).
    public func score(_ k: Int, candles: ArraySlice<Candle>, bar: Int, into signal: inout Signal?) -> (atr: Double, volatility: Double)? {
        if let last = candles.last, candles.count > minimumCandles, !series[k].times.isEmpty {
            let time = last.openTime
            let i = bar >= 0 && bar < series[k].times.count && series[k].times[bar] == time ? bar : PrecomputedAnalysis.index(of: time, in: series[k].times)
            if let i, case let b = series[k].bars[i], !b.score.isNaN {
                SignalScorer.write(&signal, symbol: symbols[k], candleTime: time, score: b.score)
                return (b.atr, b.volatility)
            }
        }
        let scored = analysis.scoredSignal(symbol: symbols[k], candles: candles, bar: bar, parameters: analysis.parameters, weights: weights)
        signal = scored?.signal
        return scored.map { ($0.atr, $0.volatility) }
    }
}

/// `ChartStructure.summary` evaluated bar after bar on a sliding window, with the window's pivots kept sorted instead
/// of found again: a pivot at j (its high above the `w` highs before and not below the `w` after) depends on bars
/// j−w…j+w only, so it is the same whether found in the window or in the whole history. Not copyable: its two pivot
/// lists are objects, which a copy would share while its window bounds moved apart.
struct SlidingStructure: ~Copyable {
    let high: [Double], low: [Double]
    let w: Int
    private var isHigh: [Bool], isLow: [Bool]
    /// Prices of the pivots in the current window, sorted.
    private let highs = SortedPrices(), lows = SortedPrices()
    /// Pivot indexes currently in the window: [from, to).
    private var from = 0, to = 0

    init(high: [Double], low: [Double], pivotWindow: Int) {
        self.high = high
        self.low = low
        w = pivotWindow
        let n = high.count
        isHigh = [Bool](repeating: false, count: n)
        isLow = isHigh
        guard w >= 1, n >= 2 * w + 1 else { return }
        for j in w..<(n - w) {
            var h = true, l = true
            for k in (j - w)..<j {
                if high[k] >= high[j] { h = false }
                if low[k] <= low[j] { l = false }
            }
            for k in (j + 1)...(j + w) {
                if high[k] > high[j] { h = false }
                if low[k] < low[j] { l = false }
            }
            isHigh[j] = h
            isLow[j] = l
        }
    }

    /// The summary at bar `i` for the window `windowStart...i`. `levels` false: only the breakout and the regime are
    /// sure, a level is looked for only on the side the close moved to by more than the breakout's margin (a support,
    /// at or below the previous close, can be broken only by a close below it by that much, and a resistance only by a
    /// close above it by that much), the other one left nil.
    mutating func summary(at i: Int, windowStart s: Int, close: [Double], adx: Double, emaSlope: Double, atr: Double,
                          levels: Bool = true) -> ChartStructure.Summary {
        let n = i - s + 1
        let reg = ChartStructure.regime(adx: adx, emaSlope: emaSlope)
        guard w >= 1, n >= 2 * w + 3, atr.isFinite, atr > 0 else { return ChartStructure.Summary(breakout: 0, regime: reg, support: nil, resistance: nil) }
        // Pivots known at the previous bar: j in [s + w, i − 1 − w].
        slide(from: s + w, to: i - w)
        let tolerance = 0.5 * atr, margin = 0.1 * atr
        let previous = close[i - 1], last = close[i]
        // A resistance is at or above the previous close, so `last > resistance + margin` needs `last > previous + margin`
        // (rounding is monotonic); a support at or below it, so `last < support − margin` needs `last < previous − margin`.
        let resistance = levels || last > previous + margin ? Self.nearestCluster(highs.prices, tolerance: tolerance, above: previous) : nil
        let support = levels || last < previous - margin ? Self.nearestCluster(lows.prices, tolerance: tolerance, below: previous) : nil
        var breakout = 0
        if let r = resistance, last > r.price + margin { breakout = 1 }
        else if let sup = support, last < sup.price - margin { breakout = -1 }
        return ChartStructure.Summary(breakout: breakout, regime: reg, support: support, resistance: resistance)
    }

    private mutating func slide(from newFrom: Int, to newTo: Int) {
        if newFrom < from || newFrom > to || newTo < to {  // not a forward slide: start again
            highs.removeAll()
            lows.removeAll()
            from = newFrom
            to = newFrom
        }
        while from < newFrom {
            if isHigh[from] { highs.remove(high[from]) }
            if isLow[from] { lows.remove(low[from]) }
            from += 1
        }
        while to < newTo {
            if isHigh[to] { highs.insert(high[to]) }
            if isLow[to] { lows.insert(low[to]) }
            to += 1
        }
    }

    /// How many of `sorted` come before `x`: those below it (`orEqual` false) or at or below it (`orEqual` true), as
    /// `partitionPoint` finds it, but with a select instead of a branch per step (the branch follows the prices, so it
    /// is mispredicted about every other step).
    @inline(__always) static func countBefore(_ x: Double, orEqual: Bool, in sorted: UnsafeBufferPointer<Double>) -> Int {
        guard let p = sorted.baseAddress, sorted.count > 0 else { return 0 }
        @inline(__always) func before(_ y: Double) -> Bool { orEqual ? y <= x : y < x }
        // The answer lies in base...base + n.
        var base = 0, n = sorted.count
        while n > 1 {
            let half = n / 2
            // A flag times the step (a branch on the flag would be mispredicted).
            base &+= half &* Int(UInt8(truncatingIfNeeded: before(p[base + half - 1]) ? 1 : 0))
            n -= half
        }
        return base &+ Int(UInt8(truncatingIfNeeded: before(p[base]) ? 1 : 0))
    }

    /// `ChartStructure.levels` on sorted prices, reduced to the lowest cluster at or above `above` / the highest at or below
    /// `below`. Clusters form from the lowest price up, so in general the walk starts at the bottom; but where two
    /// neighbours are more than `tolerance` apart (a gap), a new cluster surely starts (every mean so far is at most the
    /// lower neighbour). So the walk starts at the last gap before the reference and visits a few clusters only; the
    /// clusters it finds, sums included, are exactly those of a walk from the bottom.
    static func nearestCluster(_ sorted: [Double], tolerance: Double, above: Double? = nil, below: Double? = nil) -> ChartStructure.Level? {
        sorted.withUnsafeBufferPointer { nearestCluster($0, tolerance: tolerance, above: above, below: below) }
    }

    /// `nearestCluster` on prices in a buffer.
    static func nearestCluster(_ sorted: UnsafeBufferPointer<Double>, tolerance: Double, above: Double? = nil,
                               below: Double? = nil) -> ChartStructure.Level? {
        // Where to start is found with a little slack: a cluster's mean may lie an ulp outside its equal prices.
        if let above {
            let slack = 1e-9 * max(abs(above), tolerance)
            let p = countBefore(above - slack, orEqual: false, in: sorted)
            guard p < sorted.count else { return nil }  // every price, so every mean, is clearly below
            return walk(sorted, from: gap(sorted, tolerance, atOrBefore: p), tolerance: tolerance, above: above)
        }
        guard let below else { return nil }
        let q = countBefore(below + 1e-9 * max(abs(below), tolerance), orEqual: true, in: sorted)
        guard q > 0 else { return nil }  // every price, so every mean, is clearly above
        var start = gap(sorted, tolerance, atOrBefore: q - 1)
        if let found = walk(sorted, from: start, tolerance: tolerance, below: below) { return found }
        // The first cluster from `start` is already above: the answer lies lower, in the stretch between the gap before.
        while start > 0 {
            let previous = gap(sorted, tolerance, atOrBefore: start - 1)
            if let found = walk(sorted[previous..<start], from: nil, tolerance: tolerance, below: below) { return found }
            start = previous
        }
        return nil
    }

    /// The largest index b in 1...k where a new cluster surely starts (the same test the walk makes, so the walk takes
    /// that branch there), or 0.
    static func gap(_ sorted: UnsafeBufferPointer<Double>, _ tolerance: Double, atOrBefore k: Int) -> Int {
        var b = min(k, sorted.count - 1)
        while b > 0 {
            let price = sorted[b]
            if price - sorted[b - 1] - 1e-9 * max(abs(price), tolerance) > tolerance { return b }
            b -= 1
        }
        return 0
    }

    /// Clusters `prices[from...]` from `from` (which starts a cluster): the first with mean ≥ `above`, or the last with
    /// mean ≤ `below` before one above it.
    static func walk<Prices: RandomAccessCollection<Double>>(_ prices: Prices, from: Prices.Index?, tolerance: Double,
                                                             above: Double? = nil, below: Double? = nil) -> ChartStructure.Level? {
        var best: ChartStructure.Level?
        var sum = 0.0, count = 0
        var done = false
        func close() {
            guard count > 0 else { return }
            let level = ChartStructure.Level(price: sum / Double(count), touches: count)
            if let above {
                if level.price >= above {
                    best = level
                    done = true
                }
            } else if let below {
                if level.price <= below { best = level } else { done = true }
            }
        }
        var first = 0.0, previous = 0.0
        for price in prices[(from ?? prices.startIndex)...] {
            var joins = false
            if count > 0 {
                // The mean lies between the cluster's first and last price (prices ascend), so most prices are decided
                // without the division; only those within a rounding margin of the tolerance take the exact test.
                let margin = 1e-9 * max(abs(price), tolerance)
                if price - first + margin <= tolerance { joins = true }
                else if price - previous - margin > tolerance { joins = false }
                else { joins = abs(price - sum / Double(count)) <= tolerance }
            }
            if joins {
                sum += price
                count += 1
            } else {
                close()
                if done { return best }
                sum = price
                count = 1
                first = price
            }
            previous = price
        }
        close()
        return best
    }
}

/// Prices kept sorted in one buffer, for the pivots of a sliding window (a few dozen: an insertion or a removal moves
/// the prices above it by one place).
final class SortedPrices {
    private var base: UnsafeMutablePointer<Double>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The prices, ascending (valid until the next change).
    var prices: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: base, count: count) }

    func removeAll() { count = 0 }

    /// Inserts `x` before the first price not below it (where `Array.insert` at `partitionPoint { $0 < x }` puts it,
    /// for finite prices: with a NaN in the list the two searches part ways; candle sources refuse non-finite prices).
    func insert(_ x: Double) {
        assert(x.isFinite, "a pivot price that is not finite: \(x)")
        if count == capacity {
            let larger = UnsafeMutablePointer<Double>.allocate(capacity: 2 * capacity)
            larger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = larger
            capacity *= 2
        }
        let i = SlidingStructure.countBefore(x, orEqual: false, in: prices)
        (base + i + 1).moveInitialize(from: base + i, count: count - i)
        (base + i).initialize(to: x)
        count += 1
    }

    /// Removes one price equal to `x`, if there is one.
    func remove(_ x: Double) {
        let i = SlidingStructure.countBefore(x, orEqual: false, in: prices)
        guard i < count, base[i] == x else { return }
        (base + i).moveInitialize(from: base + i + 1, count: count - i - 1)
        count -= 1
    }
}

/// Memory for columns read as long as an analysis lives, taken one after the other from one block. A large block is
/// asked for transparent huge pages on Linux: the columns are written once from start to end, and one page fault per
/// 2 MiB instead of one per 4 KiB makes that first write several times cheaper.
final class ColumnArena: @unchecked Sendable {  // taken from while columns are made, read only after
    /// Each column starts on a multiple of this many bytes.
    static let alignment = 64
    private let base: UnsafeMutableRawPointer
    private let size: Int
    private var used = 0
    /// Symbols may be analysed at once.
    private let lock = NSLock()

    init(bytes: Int) {
        let hugePage = 2 << 20
        size = bytes >= hugePage ? (bytes + hugePage - 1) / hugePage * hugePage : max(bytes, Self.alignment)
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, size >= hugePage ? hugePage : Self.alignment, size) == 0, let raw else {
            fatalError("ColumnArena: cannot allocate \(size) bytes")
        }
        #if os(Linux)
        if size >= hugePage { _ = madvise(raw, size, Int32(MADV_HUGEPAGE)) }
        #endif
        base = raw
    }

    deinit { free(base) }

    /// Room for `count` values of `T` (uninitialised), aligned to `alignment`.
    func take<T>(_ type: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
        lock.lock()
        defer { lock.unlock() }
        let start = (used + Self.alignment - 1) / Self.alignment * Self.alignment
        let end = start + count * MemoryLayout<T>.stride
        precondition(MemoryLayout<T>.alignment <= Self.alignment && end <= size, "ColumnArena: \(end) bytes asked of \(size)")
        used = end
        return UnsafeMutableBufferPointer(start: (base + start).bindMemory(to: T.self, capacity: count), count: count)
    }
}
