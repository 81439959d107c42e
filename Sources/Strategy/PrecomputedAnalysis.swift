import Foundation
import TechnicalAnalysis
import TradingDomain

/// Where the cycle gets a symbol's analysis at its newest closed candle.
public protocol SnapshotProvider: Sendable {
    func snapshot(symbol: Symbol, candles: ArraySlice<Candle>, parameters: AnalysisParameters) -> MarketSnapshot?
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
    /// One bar's readings (a cycle reads them all at once).
    struct Reading {
        var close, emaFast, emaSlow, rsi, macdHistogram, bollingerUpper, bollingerMiddle, bollingerLower, atr, adx, volatility: Double
        var breakout, regime: Int8
    }

    /// One symbol's readings bar by bar (patterns as a compressed list of the hits of each bar, by name).
    struct Columns {
        var times: [Int64]
        var readings: [Reading]
        /// Hits of bar i are `hitPattern[hitStart[i]..<hitStart[i + 1]]` with their values in `hitValue`.
        var hitStart: [Int32]
        var hitPattern: [UInt8]
        var hitValue: [Int16]
        /// The sum of the values of bar i's hits (what the scorer reads of them).
        var patternSum: [Int32]
    }

    /// Boxed, so that a lookup hands out one reference instead of a copy of the columns (a retain per array).
    private final class Stored: Sendable {
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
            let r = columns.readings[i]
            guard r.emaFast.isFinite, r.emaSlow.isFinite, r.rsi.isFinite, r.macdHistogram.isFinite, r.bollingerUpper.isFinite,
                  r.bollingerMiddle.isFinite, r.bollingerLower.isFinite, r.atr.isFinite, r.adx.isFinite else { return nil }
            return MarketSnapshot(candleTime: time, close: r.close, emaFast: r.emaFast, emaSlow: r.emaSlow, rsi: r.rsi,
                                  macdHistogram: r.macdHistogram, bollingerUpper: r.bollingerUpper, bollingerMiddle: r.bollingerMiddle,
                                  bollingerLower: r.bollingerLower, atr: r.atr, adx: r.adx, volatility: r.volatility,
                                  patterns: PatternHits(sortedHits: []), breakout: Int(r.breakout), regime: Int(r.regime))
        }
    }
    private let columns: SymbolTable<Stored>
    let parameters: AnalysisParameters
    private static let patternNames = CandlestickPattern.allCases.map(\.rawValue)

    /// Analyses `candles` (per symbol, oldest first) as a cycle holding the newest `lookback` candles would.
    public init(candles: [Symbol: [Candle]], parameters: AnalysisParameters, lookback: Int) {
        self.parameters = parameters
        var result = SymbolTable<Stored>()
        for (symbol, series) in candles { result[symbol] = Stored(Self.analyse(series, parameters, lookback: max(lookback, 1))) }
        columns = result
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
        let series = symbols.map { symbol -> PrecomputedSignals.Series in
            guard let stored = columns[symbol] else { return PrecomputedSignals.Series(times: [], bars: []) }
            let c = stored.columns
            var bars: [PrecomputedSignals.Bar] = []
            bars.reserveCapacity(c.times.count)
            for i in c.times.indices {
                guard let snapshot = stored.snapshotWithoutPatterns(at: i, time: c.times[i]) else {
                    bars.append(PrecomputedSignals.Bar(score: .nan, atr: .nan, volatility: .nan))
                    continue
                }
                let score = SignalScorer.combined(SignalScorer.componentValues(snapshot, patternSum: Int(c.patternSum[i]), opinion: nil), weights: weights)
                bars.append(PrecomputedSignals.Bar(score: score, atr: snapshot.atr, volatility: snapshot.volatility))
            }
            return PrecomputedSignals.Series(times: c.times, bars: bars)
        }
        return PrecomputedSignals(analysis: self, weights: weights, symbols: symbols, series: series)
    }

    /// Candles needed before the analysis of the newest is given: more than this many.
    static func minimumCandles(_ p: AnalysisParameters) -> Int { max(p.emaSlow, 35, p.bollingerPeriod, 2 * p.adxPeriod, p.volatilityWindow + 1) }

    static func index(of time: Int64, in times: [Int64]) -> Int? {
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

    static func analyse(_ candles: [Candle], _ p: AnalysisParameters, lookback: Int) -> Columns {
        let n = candles.count
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
        var hits: [(bar: Int32, code: UInt8, value: Int16)] = []
        var hitCount = 0  // hits[..<hitCount] are the hits found; the rest is room written ahead
        // In name order, so that each bar's hits come out sorted by name (the counting sort below keeps the order).
        for (code, pattern) in CandlestickPattern.allCases.enumerated().sorted(by: { $0.element.rawValue < $1.element.rawValue }) {
            // `out` is all zeros here: the scan below puts back a zero wherever the pattern fired.
            pattern.compute(bars, into: &out)
            if hits.count < hitCount + n { hits.append(contentsOf: repeatElement((bar: Int32(0), code: UInt8(0), value: Int16(0)), count: max(hitCount + n, 2 * hits.count) - hits.count)) }
            hits.withUnsafeMutableBufferPointer { found in
                out.withUnsafeMutableBufferPointer { values in
                    guard let base = values.baseAddress, let slots = found.baseAddress else { return }
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
                            slots[hitCount] = (Int32(truncatingIfNeeded: j), UInt8(truncatingIfNeeded: code), Int16(clamping: value))
                            hitCount += value != 0 ? 1 : 0
                            base[j] = 0
                        }
                        k += chunk
                    }
                }
            }
        }
        hits.removeLast(hits.count - hitCount)
        // Grouped by bar (a counting sort keeps each bar's hits in name order).
        var hitStart = [Int32](repeating: 0, count: n + 1)
        for hit in hits { hitStart[Int(hit.bar) + 1] += 1 }
        for k in 0..<n { hitStart[k + 1] += hitStart[k] }
        var fill = hitStart
        var hitPattern = [UInt8](repeating: 0, count: hits.count), hitValue = [Int16](repeating: 0, count: hits.count)
        var patternSum = [Int32](repeating: 0, count: n)
        for hit in hits {
            let slot = Int(fill[Int(hit.bar)])
            fill[Int(hit.bar)] += 1
            hitPattern[slot] = hit.code
            hitValue[slot] = hit.value
            patternSum[Int(hit.bar)] += Int32(hit.value)
        }

        // Structure over the same window the job would hold.
        var breakout = [Int8](repeating: 0, count: n), regime = [Int8](repeating: 0, count: n)
        var structure = SlidingStructure(high: high, low: low, pivotWindow: p.pivotWindow)
        for i in 0..<n {
            let emaSlope = emaFast[i] - emaFast[max(0, i - 5)]
            let s = structure.summary(at: i, windowStart: max(0, i - lookback + 1), close: close, adx: adx[i], emaSlope: emaSlope, atr: atr[i],
                                      levels: false)
            breakout[i] = Int8(s.breakout)
            regime[i] = Int8(s.regime)
        }
        let emaSlow = Indicators.ema(close, period: p.emaSlow), rsi = Indicators.rsi(close, period: p.rsiPeriod)
        var readings: [Reading] = []
        readings.reserveCapacity(n)
        for i in 0..<n {
            readings.append(Reading(close: close[i], emaFast: emaFast[i], emaSlow: emaSlow[i], rsi: rsi[i], macdHistogram: macd.histogram[i],
                                    bollingerUpper: bands.upper[i], bollingerMiddle: bands.middle[i], bollingerLower: bands.lower[i],
                                    atr: atr[i], adx: adx[i], volatility: volatility[i], breakout: breakout[i], regime: regime[i]))
        }
        return Columns(times: candles.map(\.openTime), readings: readings, hitStart: hitStart, hitPattern: hitPattern, hitValue: hitValue,
                       patternSum: patternSum)
    }
}

/// The scorer's signal at every bar of each symbol for one set of weights, without a model opinion: what the backtest's
/// idle cycles read of the analysis, found by the symbol's position and the bar's index (8 + 24 bytes a bar).
public final class PrecomputedSignals: Sendable {
    struct Bar {
        /// NaN where the analysis has no precomputed snapshot (then the analysis is asked).
        var score, atr, volatility: Double
    }
    struct Series {
        /// Empty when the symbol was not precomputed.
        let times: [Int64]
        let bars: [Bar]
    }
    let analysis: PrecomputedAnalysis
    let weights: ScoringWeights
    let symbols: [Symbol]
    let series: [Series]
    /// A window needs more candles than this (`PrecomputedAnalysis.minimumCandles`).
    private let minimumCandles: Int

    init(analysis: PrecomputedAnalysis, weights: ScoringWeights, symbols: [Symbol], series: [Series]) {
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
/// j−w…j+w only, so it is the same whether found in the window or in the whole history.
struct SlidingStructure {
    let high: [Double], low: [Double]
    let w: Int
    private var isHigh: [Bool], isLow: [Bool]
    /// Prices of the pivots in the current window, sorted.
    private var highs: [Double] = [], lows: [Double] = []
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
        let resistance = levels || last > previous + margin ? Self.nearestCluster(highs, tolerance: tolerance, above: previous) : nil
        let support = levels || last < previous - margin ? Self.nearestCluster(lows, tolerance: tolerance, below: previous) : nil
        var breakout = 0
        if let r = resistance, last > r.price + margin { breakout = 1 }
        else if let sup = support, last < sup.price - margin { breakout = -1 }
        return ChartStructure.Summary(breakout: breakout, regime: reg, support: support, resistance: resistance)
    }

    private mutating func slide(from newFrom: Int, to newTo: Int) {
        if newFrom < from || newFrom > to || newTo < to {  // not a forward slide: start again
            highs = []
            lows = []
            from = newFrom
            to = newFrom
        }
        while from < newFrom {
            if isHigh[from] { Self.remove(high[from], from: &highs) }
            if isLow[from] { Self.remove(low[from], from: &lows) }
            from += 1
        }
        while to < newTo {
            if isHigh[to] { Self.insert(high[to], into: &highs) }
            if isLow[to] { Self.insert(low[to], into: &lows) }
            to += 1
        }
    }

    private static func position(_ x: Double, in sorted: [Double]) -> Int { sorted.partitionPoint { $0 < x } }
    private static func insert(_ x: Double, into sorted: inout [Double]) { sorted.insert(x, at: position(x, in: sorted)) }
    private static func remove(_ x: Double, from sorted: inout [Double]) {
        let i = position(x, in: sorted)
        if i < sorted.count, sorted[i] == x { sorted.remove(at: i) }
    }

    /// `ChartStructure.levels` on sorted prices, reduced to the lowest cluster at or above `above` / the highest at or below
    /// `below`. Clusters form from the lowest price up, so in general the walk starts at the bottom; but where two
    /// neighbours are more than `tolerance` apart (a gap), a new cluster surely starts (every mean so far is at most the
    /// lower neighbour). So the walk starts at the last gap before the reference and visits a few clusters only; the
    /// clusters it finds, sums included, are exactly those of a walk from the bottom.
    static func nearestCluster(_ sorted: [Double], tolerance: Double, above: Double? = nil, below: Double? = nil) -> ChartStructure.Level? {
        // Where to start is found with a little slack: a cluster's mean may lie an ulp outside its equal prices.
        if let above {
            let slack = 1e-9 * max(abs(above), tolerance)
            let p = sorted.partitionPoint { $0 < above - slack }
            guard p < sorted.count else { return nil }  // every price, so every mean, is clearly below
            return walk(sorted, from: gap(sorted, tolerance, atOrBefore: p), tolerance: tolerance, above: above)
        }
        guard let below else { return nil }
        let q = sorted.partitionPoint { $0 <= below + 1e-9 * max(abs(below), tolerance) }
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
    static func gap(_ sorted: [Double], _ tolerance: Double, atOrBefore k: Int) -> Int {
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
