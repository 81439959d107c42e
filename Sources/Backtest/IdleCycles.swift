import Foundation
import Cycle
import MarketData
import Storage
import Strategy
import TechnicalAnalysis
import TradingDomain

/// What an idle cycle leaves for the backtest's report.
struct IdleCycle {
    var equity: Money
    var cash: Money
    var inMarket: Bool
    var next: NextRun
}

/// Recognises the cycles in which the job's cycle can do nothing but record itself, and records them as it would,
/// without running it. A cycle is idle when, as of `now`: no safe-mode lock, no order whose outcome is open, every
/// symbol analysed (scoring: a snapshot), no protection trip on the facts the cycle would judge that the cycle would act
/// on (`ProtectionPlanner` plans no command for it: no block ending later than the one in force, no safe mode), every active position
/// monitored (or entered and so moved to monitoring) with something held, no exit and (scoring) no adjustment for it
/// but an add the sizing refuses, and no entry: every long signal above `strategy.min_confidence` of a symbol without a
/// position is refused by the cycle's gate (an entry block, the symbol's cooldown, no price, the sizing). Then the cycle would store each
/// position with its exit check advanced, record the run (its outcome ok and next-run interval), the equity point and
/// the peak, and nothing else: that is what `record` does, through the same ledger calls. Anything else runs the real
/// cycle. The decisions are made by the same functions the cycle calls (`SMACrossStrategy.signal`, the analysis,
/// `SignalScorer`, `ExitEvaluator`, `AdjustmentRules`, `PositionSizer`, `ProtectionEvaluator`, `RunIntervalPolicy`,
/// `ReplayMarket.currentPrice`) on the same window of candles, so results are those of running every
/// cycle (tested against runs without this, and against the SQLite state, which never skips).
///
/// Only for the in-memory state, and only when every series' open times are multiples of the timeframe (then the
/// cycle's window is the last `lookback` candles of the series closed at `now`).
final class IdleCycles {
    /// One symbol's history and its columns (a class with constants: a cycle reads them without copying or retaining
    /// each array).
    final class Series {
        let symbol: Symbol
        let candles: [Candle]
        /// `log(close[i] / close[i - 1])` at i ≥ 1 (empty: the volatility is computed from the closes).
        let logReturns: [Double]
        /// sma-cross's volatility at each bar (`volatilities`); empty: computed at each cycle.
        let volatility: [Double]
        /// sma-cross's crossing at each bar (`SMACrossStrategy.crossings`); empty: the signal is computed at each cycle.
        let crossings: [SMACrossStrategy.Crossing?]
        init(symbol: Symbol, candles: [Candle], logReturns: [Double] = [], volatility: [Double] = [], crossings: [SMACrossStrategy.Crossing?] = []) {
            self.symbol = symbol
            self.candles = candles
            self.logReturns = logReturns
            self.volatility = volatility
            self.crossings = crossings
        }
    }

    let parameters: CycleParameters
    let store: MemoryStateStore
    let locks: SafeModeLockInMemory
    let analyzer: any SnapshotProvider
    /// Scoring, when `analyzer` is the backtest's precomputed analysis: its signals, scored once per bar.
    let precomputed: PrecomputedSignals?
    let configHash: String
    let series: [Series]
    /// The strategy when it is the SMA crossover (its signal and fixed size are checked here); nil: the scoring strategy.
    let smaCross: SMACrossStrategy?

    // Per cycle, kept between cycles so that an idle one allocates nothing.
    // (One cycle at a time uses them: the runner's loop is sequential.)
    @exclusivity(unchecked) private var windows: [ArraySlice<Candle>]
    @exclusivity(unchecked) private var signals: [Signal?]
    /// Scoring: each symbol's ATR at this cycle's candle (what the sizing of an entry reads).
    @exclusivity(unchecked) private var lastATRs: [Double?]
    @exclusivity(unchecked) private var volatilities: [Double] = []
    /// The active positions as the cycle starts (copied out of the ledger, so that storing one does not copy the
    /// ledger's list) and as they are stored back.
    @exclusivity(unchecked) private var held: [Position] = []
    @exclusivity(unchecked) private var checked: [Position] = []
    /// `recordStretch`'s buffers, kept between its calls: each position's series, each series' position, and whether
    /// each position has levels.
    @exclusivity(unchecked) private var stretchHeldSeries: [Int] = [], stretchSeriesHeld: [Int] = [], stretchLeveled: [Bool] = []
    /// Per series, the end of the last cycle's window (cycles move forward, so the next one is found from there).
    @exclusivity(unchecked) private var ends: [Int]
    /// What was parsed from the job state and the wallet, and the ledger's change counts it was parsed at.
    /// `blocks`: the entry blocks stored (`block.<protection>` → until when), in force or not.
    @exclusivity(unchecked) private var parsed: (jobState: Int, wallet: Int, breakerSeen: Int, streakSince: Int64, cash: Money, latestBlock: Int64,
                                                 blocks: [String: Int64])?

    init?(parameters: CycleParameters, candles: [Symbol: [Candle]], store: MemoryStateStore, locks: SafeModeLockInMemory,
          analyzer: any SnapshotProvider, configHash: String, consultant: Bool) {
        // Only the two strategies whose rules are restated here; any other runs every cycle.
        guard !consultant, parameters.lookback > 0, parameters.strategy is SMACrossStrategy || parameters.strategy is ScoringStrategy else { return nil }
        let step = parameters.timeframe.milliseconds
        var histories: [[Candle]] = []
        for symbol in parameters.symbols {
            guard let bars = candles[symbol], !bars.isEmpty, Timeframe.opensOnMultiples(bars, of: step) else { return nil }
            histories.append(bars)
        }
        var series: [Series] = []
        if let cross = parameters.strategy as? SMACrossStrategy {
            let columns = Self.smaCrossColumns(histories, cross, lookback: parameters.lookback, window: parameters.volatilityWindow,
                                               barsPerYear: parameters.timeframe.barsPerYear)
            for (k, symbol) in parameters.symbols.enumerated() {
                series.append(Series(symbol: symbol, candles: histories[k], volatility: columns[k].volatility, crossings: columns[k].crossings))
            }
        } else {
            for (k, symbol) in parameters.symbols.enumerated() { series.append(Series(symbol: symbol, candles: histories[k])) }
        }
        windows = Array(repeating: [], count: series.count)
        ends = Array(repeating: 0, count: series.count)
        signals = Array(repeating: nil, count: series.count)
        lastATRs = Array(repeating: nil, count: series.count)
        volatilities.reserveCapacity(series.count)
        self.parameters = parameters
        self.store = store
        self.locks = locks
        self.analyzer = analyzer
        self.precomputed = parameters.strategy is ScoringStrategy
            ? (analyzer as? PrecomputedAnalysis)?.signals(weights: parameters.weights, symbols: series.map(\.symbol), parameters: parameters.analysis) : nil
        self.configHash = configHash
        self.series = series
        self.smaCross = parameters.strategy as? SMACrossStrategy
    }

    /// sma-cross's columns of each history, `volatilities` and `crossings`: the same as computed one after another,
    /// each column computed on a thread of its own (they read the candles only).
    static func smaCrossColumns(_ histories: [[Candle]], _ cross: SMACrossStrategy, lookback: Int, window: Int, barsPerYear: Double)
        -> [(volatility: [Double], crossings: [SMACrossStrategy.Crossing?])] {
        guard !histories.isEmpty else { return [] }
        let volatility = UnsafeMutableBufferPointer<[Double]>.allocate(capacity: histories.count)
        let crossings = UnsafeMutableBufferPointer<[SMACrossStrategy.Crossing?]>.allocate(capacity: histories.count)
        volatility.initialize(repeating: [])
        crossings.initialize(repeating: [])
        defer {
            volatility.deinitialize().deallocate()
            crossings.deinitialize().deallocate()
        }
        let columns = ColumnSlots(volatility: volatility, crossings: crossings)
        DispatchQueue.concurrentPerform(iterations: 2 * histories.count) { job in
            let k = job / 2
            if job % 2 == 0 {
                columns.volatility[k] = volatilities(histories[k], lookback: lookback, window: window, barsPerYear: barsPerYear)
            } else {
                columns.crossings[k] = Self.crossings(histories[k], cross, lookback: lookback)
            }
        }
        return (0..<histories.count).map { (volatility[$0], crossings[$0]) }
    }

    /// Where `smaCrossColumns`' threads put the columns (each thread writes its own slot only).
    struct ColumnSlots: @unchecked Sendable {
        let volatility: UnsafeMutableBufferPointer<[Double]>
        let crossings: UnsafeMutableBufferPointer<[SMACrossStrategy.Crossing?]>
    }

    /// sma-cross's columns (`SMACrossColumns`) for the cycles that run, when every series has them.
    var columnsForCycles: SMACrossColumns? {
        guard smaCross != nil, series.allSatisfy({ !$0.crossings.isEmpty && !$0.volatility.isEmpty }) else { return nil }
        var columns: [Symbol: SMACrossColumns.Column] = [:]
        for s in series { columns[s.symbol] = SMACrossColumns.Column(candles: s.candles, crossings: s.crossings, volatility: s.volatility) }
        return SMACrossColumns(columns: columns, lookback: parameters.lookback)
    }

    /// sma-cross's crossing per bar, for the cycle whose window ends at that bar: `SMACrossStrategy.crossings` when the
    /// window (`lookback` candles) holds the `slow + 1` closes the signal reads, else empty (the signal is computed at
    /// each cycle).
    static func crossings(_ candles: [Candle], _ cross: SMACrossStrategy, lookback: Int) -> [SMACrossStrategy.Crossing?] {
        lookback > cross.slow ? SMACrossStrategy.crossings(candles, fast: cross.fast, slow: cross.slow) : []
    }

    /// sma-cross's signal for the window `window` of series `s` ending at `end` (exclusive), as `SMACrossStrategy.signal`
    /// gives it: from the stored crossings when there are any.
    @inline(__always)
    static func crossSignal(_ s: Series, window: ArraySlice<Candle>, end: Int, cross: SMACrossStrategy) -> Signal? {
        guard !s.crossings.isEmpty else {
            return SMACrossStrategy.signal(symbol: s.symbol, candles: window, fast: cross.fast, slow: cross.slow, detailed: false)
        }
        guard end > 0, let crossing = s.crossings[end - 1] else { return nil }
        return crossing.signal(symbol: s.symbol, candle: s.candles[end - 1], fast: .nan, slow: .nan, detailed: false)
    }

    /// `RunIntervalPolicy.marketVolatility(values)` (the median of the finite values; nil without any), sorting `values`
    /// in place instead of copying them.
    static func marketVolatility(_ values: inout [Double]) -> Double? {
        if values.count == 1 { return values[0].isFinite ? values[0] : nil }
        values.removeAll { !$0.isFinite }
        guard !values.isEmpty else { return nil }
        values.sort()
        let mid = values.count / 2
        return values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
    }

    /// Per bar i, `realizedVolatility` of the window of the cycle whose newest candle is bar i (the `lookback` candles
    /// up to i), NaN where that is nil: computed once per series with the same values summed in the same order (the
    /// newest `window` log returns oldest first, then their squared deviations from the mean), the bars side by side a
    /// block at a time (each block's log returns in a buffer of its size: the `window − 1` before the block are taken
    /// again, the same values). Empty when a close is not positive (then each cycle computes it from the closes).
    static func volatilities(_ candles: [Candle], lookback: Int, window: Int, barsPerYear: Double, blockSize: Int = 1024) -> [Double] {
        guard candles.allSatisfy({ $0.close > 0 }) else { return [] }
        let n = candles.count
        var out = [Double](repeating: .nan, count: n)
        guard window >= 2, n > 1 else { return out }
        // Return i is log(close[i] / close[i − 1]); bar i has a figure when its window holds more than `window` candles.
        let first = max(window, lookback > window ? 1 : n)  // the first bar with min(lookback, i + 1) > window
        guard first < n else { return out }
        let scale = sqrt(barsPerYear)
        let divisor = Double(window), squaresDivisor = Double(window - 1)
        let size = max(1, blockSize)
        // The block's returns: local index q is return block − window + 1 + q.
        var returns = [Double](repeating: 0, count: size + window - 1)
        var means = [Double](repeating: 0, count: size), squares = [Double](repeating: 0, count: size)
        candles.withUnsafeBufferPointer { bars in
            returns.withUnsafeMutableBufferPointer { r in
                means.withUnsafeMutableBufferPointer { mean in
                    squares.withUnsafeMutableBufferPointer { square in
                        out.withUnsafeMutableBufferPointer { o in
                            for block in stride(from: first, to: n, by: size) {
                                let count = min(size, n - block), from = block - window + 1
                                for q in 0..<(count + window - 1) { r[q] = log(bars[from + q].close / bars[from + q - 1].close) }
                                guard let logReturns = UnsafePointer(r.baseAddress), let meanSums = mean.baseAddress, let squareSums = square.baseAddress else { return }
                                // The returns i − window + 1 … i, oldest first (bar block + b: local b + k).
                                WindowSums.sums(logReturns, count: count, period: window, into: meanSums)
                                for b in 0..<count { mean[b] /= divisor }
                                WindowSums.squaredDeviations(logReturns, means: UnsafePointer(meanSums), count: count, period: window, into: squareSums)
                                for b in 0..<count { o[block + b] = sqrt(square[b] / squaresDivisor) * scale }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// RunIntervalPolicy.realizedVolatility of the window's last `window + 1` closes ending at bar `last`, from the
    /// stored log returns (the same values summed in the same order, so the same result).
    static func realizedVolatility(_ s: Series, last: Int, count: Int, window: Int, barsPerYear: Double) -> Double? {
        guard window >= 2, count > window else { return nil }
        guard !s.logReturns.isEmpty else {
            let closes = s.candles[(last + 1 - count)...last].suffix(window + 1).map(\.close)
            return RunIntervalPolicy.realizedVolatility(closes: closes, window: window, barsPerYear: barsPerYear)
        }
        let first = last - window + 1
        var sum = 0.0
        for i in first...last { sum += s.logReturns[i] }
        let mean = sum / Double(window)
        var squares = 0.0
        for i in first...last { squares += (s.logReturns[i] - mean) * (s.logReturns[i] - mean) }
        return sqrt(squares / Double(window - 1)) * sqrt(barsPerYear)
    }

    /// Scoring: the signal the cycle's analysis and `SignalScorer` give on `window` (its `patterns` list may be left
    /// empty: nothing here reads it), written into `signals[k]`, with the ATR and the volatility returned; nil where the
    /// analysis gives no snapshot. (`bar`: the window's newest candle's index in the series.)
    private func score(_ k: Int, window: ArraySlice<Candle>, bar: Int) -> (atr: Double, volatility: Double)? {
        if let precomputed { return precomputed.score(k, candles: window, bar: bar, into: &signals[k]) }
        let symbol = series[k].symbol
        guard let snapshot = analyzer.snapshot(symbol: symbol, candles: window, parameters: parameters.analysis) else { return nil }
        signals[k] = SignalScorer.score(symbol: symbol, snapshot: snapshot, weights: parameters.weights, detailed: false)
        return (snapshot.atr, snapshot.volatility)
    }

    /// The price a market order would trade at now, as the cycle's `referencePrice` finds it: the replayed market's
    /// current price when it is positive, else the last close of the window.
    private func referencePrice(_ k: Int, now: Int64) -> Price? {
        if let raw = ReplayMarket.currentPrice(series[k].candles, timeframe: parameters.timeframe, now: now), let price = try? Price(double: raw), price > 0 {
            return price
        }
        return windows[k].last.flatMap { try? Price(double: $0.close) }
    }

    /// The direction and confidence of `signals[k]`, read in place (a copy of a signal retains its texts and tables).
    @inline(__always)
    static func directionAndConfidence(_ signals: [Signal?], _ k: Int) -> (SignalDirection, Double)? {
        signals.withUnsafeBufferPointer { buffer -> (SignalDirection, Double)? in
            switch buffer[k] {
            case .none: return nil
            case let .some(signal): return (signal.direction, signal.confidence)
            }
        }
    }

    /// Whether the signal of `crossing` (`SMACrossStrategy.Crossing.signal`) is long above `minConfidence`: what makes
    /// a symbol without a position an entry candidate, read without building the signal.
    @inline(__always)
    static func isEntryCandidate(_ crossing: SMACrossStrategy.Crossing, minConfidence: Double) -> Bool {
        switch crossing {
        case .up: return 1 > minConfidence
        case .above: return 0 > minConfidence
        case .down, .notAbove: return false
        }
    }

    /// Whether `ExitEvaluator.check` can exit `position` only on the signal: no stop, no target, no trailing stop, no
    /// holding limit.
    static func hasNoLevels(_ position: Position, rules: ExitRules) -> Bool {
        !rules.trailingStop && rules.maxHoldingMilliseconds <= 0 && position.stopPrice == nil && position.takeProfitPrice == nil
    }

    /// Whether the signal of `crossing` makes `ExitEvaluator.check` exit a position without levels (flat, at least
    /// `exitConfidence`), read without building the signal.
    @inline(__always)
    static func exitsOn(_ crossing: SMACrossStrategy.Crossing, exitConfidence: Double) -> Bool {
        switch crossing {
        case .down: return 1 >= exitConfidence
        case .notAbove: return 0 >= exitConfidence
        case .up, .above: return false
        }
    }

    /// sma-cross, every candle: records the cycles at `times` (the bar opens that follow an idle cycle, in order) for as
    /// long as each is idle with nothing but the signal and the prices moving: no entry candidate and no exit, with
    /// the safe-mode lock, the orders, the job state, the wallet and the active positions as the last idle cycle left
    /// them (only the positions' exit checks advance), no protection enabled and no adjustments. For those cycles
    /// `record` would find the same facts again; here they are checked once and each cycle only reads its candles,
    /// its crossing, its volatility and its exit check (`ExitEvaluator.check`, as the cycle calls it), and stores
    /// what `record` stores (the positions once, at the end: nothing reads them in between). Returns how many cycles it
    /// recorded and how many of them held a position; it stops before the first cycle it cannot vouch for, which then
    /// goes through `record` (and the real cycle when not idle). `acts`: that cycle has an entry candidate or an exit
    /// signal, so it almost surely acts (`record` would find it not idle unless the entry gate refuses): the caller
    /// runs the real cycle for it at once, which gives the same result either way.
    func recordStretch(times: ArraySlice<Int64>, recorder: EquityRecorder) throws -> (count: Int, inMarket: Int, acts: Bool) {
        guard smaCross != nil, !times.isEmpty, !parameters.strategy.makesAdjustments,
              series.allSatisfy({ !$0.crossings.isEmpty && !$0.volatility.isEmpty }) else { return (0, 0, false) }
        let rules = parameters.protections
        guard !(rules.maxDrawdown.enabled || rules.dailyLoss.enabled || rules.losingStreak.enabled || rules.errorRate.enabled) else { return (0, 0, false) }
        guard case .absent = locks.read() else { return (0, 0, false) }
        let windowLength = parameters.lookback, timeframe = parameters.timeframe, exits = parameters.exits
        let schedule = parameters.schedule, minConfidence = parameters.minConfidence
        return try store.withMemoryLedger { ledger -> (count: Int, inMarket: Int, acts: Bool) in
            guard !ledger.hasUnresolvedOrders, let known = parsed, known.jobState == ledger.jobStateChanges, known.wallet == ledger.walletChanges,
                  try ledger.totalBreakerOpenings() == known.breakerSeen else { return (0, 0, false) }
            held.removeAll(keepingCapacity: true)
            if !ledger.hasNoActivePositions { held.append(contentsOf: try ledger.activePositions()) }
            // Each position's series, and each series' position (at most one per symbol: the cycle enters a symbol once).
            // Taken out of the instance (so that they are uniquely referenced here) and put back at the end.
            var heldSeries: [Int] = [], seriesHeld: [Int] = [], leveled: [Bool] = []
            swap(&heldSeries, &stretchHeldSeries)
            swap(&seriesHeld, &stretchSeriesHeld)
            swap(&leveled, &stretchLeveled)
            heldSeries.removeAll(keepingCapacity: true)
            seriesHeld.removeAll(keepingCapacity: true)
            leveled.removeAll(keepingCapacity: true)
            defer { (stretchHeldSeries, stretchSeriesHeld, stretchLeveled) = (heldSeries, seriesHeld, leveled) }
            for _ in series.indices { seriesHeld.append(-1) }
            for (j, position) in held.enumerated() {
                guard position.state == .monitoring, position.quantity > 0,
                      let k = series.firstIndex(where: { $0.symbol == position.symbol }), seriesHeld[k] < 0 else { return (0, 0, false) }
                heldSeries.append(k)
                seriesHeld[k] = j
            }
            let cash = known.cash
            var nextEnds = ends
            var count = 0, acts = false
            // A position without stop, target, trailing stop or holding limit exits only on the signal: decided from
            // the crossing, its candles checked once the cycle is idle. Any other is checked by `ExitEvaluator` into
            // `checked` (every held series has a signal, or the run stops).
            for position in held { leveled.append(!Self.hasNoLevels(position, rules: exits)) }
            checked.removeAll(keepingCapacity: true)
            checked.append(contentsOf: held)
            // Each series' columns, and what the loop reads and moves of each held position, taken out once (the
            // loop then copies no position and retains no series).
            let columns = series.map { SMACrossColumns.Column(candles: $0.candles, crossings: $0.crossings, volatility: $0.volatility) }
            var marks = held.indices.map { j in ExitCheckMark(held[j], candles: columns[heldSeries[j]].candles) }
            let policy = schedule
            // This cycle's volatilities: the first in `firstVolatility` (most runs have one symbol), the others after it
            // in `volatilities`.
            var firstVolatility = Double.nan, signalsSeen = 2
            bars: for now in times {
                let bound = timeframe.lastClosedBarOpen(at: now)
                if signalsSeen > 1 { volatilities.removeAll(keepingCapacity: true) }
                var signalCount = 0
                for k in columns.indices {
                    // The series' candles read in place (a local copy of the array would be retained and released
                    // at every cycle).
                    var end = ends[k]
                    let count = columns[k].candles.count
                    guard end <= count, end == 0 || columns[k].candles[end - 1].openTime <= bound else { break bars }
                    while end < count, columns[k].candles[end].openTime <= bound { end += 1 }
                    nextEnds[k] = end
                    let j = seriesHeld[k]
                    guard end > 0, let crossing = columns[k].crossings[end - 1] else {
                        // No signal: nothing to enter (a held position goes through `record`).
                        if j >= 0 { break bars }
                        continue
                    }
                    signalCount += 1
                    if signalCount == 1 { firstVolatility = columns[k].volatility[end - 1] } else {
                        if signalCount == 2 { volatilities.append(firstVolatility) }
                        volatilities.append(columns[k].volatility[end - 1])
                    }
                    if j < 0 {
                        // An entry candidate goes through `record` (the cycle's gate decides).
                        if Self.isEntryCandidate(crossing, minConfidence: minConfidence) { acts = true; break bars }
                    } else if !leveled[j] {
                        if Self.exitsOn(crossing, exitConfidence: exits.exitConfidence) { acts = true; break bars }
                    } else {
                        let s = series[k]
                        let candles = columns[k].candles
                        let signal = crossing.signal(symbol: s.symbol, candle: candles[end - 1], fast: .nan, slow: .nan, detailed: false)
                        let check = ExitEvaluator.check(held[j], candles: candles[max(0, end - windowLength)..<end], signal: signal, now: now, rules: exits)
                        guard check.exit == nil else { acts = true; break bars }
                        checked[j] = check.position
                    }
                }
                // Idle. The account at this cycle's closes (each window's newest candle), valued as `record` values it.
                var exposure: Money = 0
                for j in marks.indices {
                    let k = heldSeries[j], end = nextEnds[k]
                    let price = (end > 0 ? try? Price(double: columns[k].candles[end - 1].close) : nil) ?? marks[j].entryPrice
                    exposure = try exposure + price.times(marks[j].quantity, .halfEven)
                }
                let equity = try cash + exposure
                swap(&ends, &nextEnds)
                for j in marks.indices {
                    if leveled[j] {
                        held[j] = checked[j]
                    } else {
                        let k = heldSeries[j]
                        marks[j].check(from: max(0, ends[k] - windowLength), to: ends[k])
                    }
                }
                signalsSeen = signalCount
                let volatility = signalCount == 0 ? nil : signalCount == 1 ? (firstVolatility.isFinite ? firstVolatility : nil)
                    : Self.marketVolatility(&volatilities)
                let interval = RunIntervalPolicy.intervalSeconds(RunIntervalPolicy.cadence(volatility: volatility, policy: policy), policy: policy)
                ledger.recordIdleRun(time: now, configHash: configHash, equity: equity, cash: cash, intervalSeconds: interval)
                try recorder.add(time: now, equity: equity, cash: cash, safeMode: false)
                count += 1
            }
            // The positions as the last recorded cycle checked them (nothing reads them in between).
            if count > 0 {
                for j in held.indices {
                    if !leveled[j] { marks[j].apply(to: &held[j]) }
                    try ledger.updatePosition(held[j])
                }
            }
            return (count, held.isEmpty ? 0 : count, acts)
        }
    }

    /// Records the cycle at `now` if it is idle; nil: it is not, run the real cycle.
    func record(now: Int64) throws -> IdleCycle? {
        guard case .absent = locks.read() else { return nil }
        let bound = parameters.timeframe.lastClosedBarOpen(at: now)
        let windowLength = parameters.lookback
        return try store.withMemoryLedger { ledger -> IdleCycle? in
            guard !ledger.hasUnresolvedOrders else { return nil }
            held.removeAll(keepingCapacity: true)
            if !ledger.hasNoActivePositions { held.append(contentsOf: try ledger.activePositions()) }
            let positions = held
            // Monitored, or just entered (the cycle moves it OPEN → MONITORING first), with something held.
            for position in positions where !(position.state == .monitoring || position.state == .open) || position.quantity <= 0 { return nil }

            // The analysis, symbol by symbol in the cycle's order.
            volatilities.removeAll(keepingCapacity: true)
            var signalCount = 0, candidates = 0
            for k in series.indices {
                let s = series[k]
                // The candles opened at or before `bound`: on from the last cycle's end when it moved forward, else searched.
                var end = ends[k]
                if end <= s.candles.count, end == 0 || s.candles[end - 1].openTime <= bound {
                    while end < s.candles.count, s.candles[end].openTime <= bound { end += 1 }
                } else {
                    end = ReplayMarket.lowerBound(s.candles, bound &+ 1)
                }
                ends[k] = end
                let window = s.candles[max(0, end - windowLength)..<end]
                if let cross = smaCross {
                    let signal = Self.crossSignal(s, window: window, end: end, cross: cross)
                    if signal != nil, !window.isEmpty {
                        volatilities.append(s.volatility.isEmpty
                            ? Self.realizedVolatility(s, last: end - 1, count: window.count, window: parameters.volatilityWindow, barsPerYear: parameters.timeframe.barsPerYear) ?? .nan
                            : s.volatility[end - 1])
                    }
                    signals[k] = consume signal
                } else {
                    // Written over the last cycle's signal, in place.
                    guard let scored = score(k, window: window, bar: end - 1) else { return nil }
                    lastATRs[k] = scored.atr
                    volatilities.append(scored.volatility)
                }
                if let (direction, confidence) = Self.directionAndConfidence(signals, k) {
                    signalCount += 1
                    if direction == .long, confidence > parameters.minConfidence, !positions.contains(where: { $0.symbol == s.symbol }) {
                        candidates += 1
                    }
                }
                windows[k] = window
            }

            // The account at this cycle's prices, and the protections on it.
            // Parsed again only what moved: the job state (a cycle that runs changes it) or the wallet (an order).
            if var known = parsed, known.jobState == ledger.jobStateChanges {
                if known.wallet != ledger.walletChanges {
                    known.wallet = ledger.walletChanges
                    known.cash = try ledger.balance(asset: parameters.quoteAsset) ?? 0
                    parsed = known
                }
            } else {
                var blocks: [String: Int64] = [:]
                for (key, value) in try ledger.jobStates(prefix: "block.") {
                    if let until = Int64(value) { blocks[String(key.dropFirst("block.".count))] = until }
                }
                parsed = (ledger.jobStateChanges, ledger.walletChanges,
                          try ledger.jobState("venue.breaker_openings_seen").flatMap { Int($0) } ?? 0,
                          try ledger.jobState("losing_streak.since").flatMap { Int64($0) } ?? 0,
                          try ledger.balance(asset: parameters.quoteAsset) ?? 0,
                          blocks.values.max() ?? .min, blocks)
            }
            guard let known = parsed else { return nil }
            let cash = known.cash
            var exposure: Money = 0
            for position in positions {
                let close = series.firstIndex { $0.symbol == position.symbol }.flatMap { windows[$0].last?.close }
                let price = close.flatMap { try? Price(double: $0) } ?? position.entryPrice
                exposure = try exposure + price.times(max(position.quantity, 0), .halfEven)
            }
            let equity = try cash + exposure
            let openings = try ledger.totalBreakerOpenings()
            let seen = known.breakerSeen
            guard openings == seen else { return nil }
            // Each protection trips only when enabled: with none enabled (sma-cross), none trips whatever the facts.
            let rules = parameters.protections
            if rules.maxDrawdown.enabled || rules.dailyLoss.enabled || rules.losingStreak.enabled || rules.errorRate.enabled {
                let lookback = rules.losingStreak.lookbackMilliseconds
                let streakSince = known.streakSince
                let facts = ProtectionFacts(now: now, equity: equity, peakEquity: max(try ledger.equityPeak() ?? equity, equity),
                                            dayStartEquity: try ledger.firstEquity(since: ProtectionEvaluator.utcDayStart(now)) ?? equity,
                                            stopLossExits: try ledger.stopLossExits(since: max(now - lookback, streakSince + 1)),
                                            consecutiveFailures: try ledger.consecutiveFailedRuns())
                let trips = ProtectionEvaluator.evaluate(facts, rules: rules, reasons: false)
                // A trip makes the cycle act only when `ProtectionPlanner` turns it into a command: a block that ends
                // later than the one in force, or safe mode. One that changes nothing (the day's loss still past its
                // limit, entries already blocked until midnight) leaves the cycle as idle as no trip.
                if !trips.isEmpty {
                    guard ProtectionPlanner.plan(trips, blocks: known.blocks.filter { $0.value > now }, safeModeActive: false, equityUncertain: false).isEmpty
                    else { return nil }
                }
            }
            let entriesBlocked = known.latestBlock > now
            let account = AccountState(equity: equity, cash: cash, exposure: exposure, openPositions: positions.count)

            // Entry candidates: idle only if the cycle's gate refuses each (an entry block, the symbol's cooldown, no
            // price, or the sizing), as `enterPositions` checks them.
            if candidates > 0 {
                let lastExits = try ledger.lastExitBySymbol()
                for k in series.indices {
                    guard let (direction, confidence) = Self.directionAndConfidence(signals, k), direction == .long, confidence > parameters.minConfidence,
                          !positions.contains(where: { $0.symbol == series[k].symbol }) else { continue }
                    if entriesBlocked || ProtectionEvaluator.symbolCoolingDown(lastExit: lastExits[series[k].symbol], now: now, rules: parameters.protections) { continue }
                    guard let price = referencePrice(k, now: now) else { continue }
                    let sizing: SizingDecision
                    if let cross = smaCross {
                        guard let notional = try? price.times(cross.quantity, .halfEven), let room = try? cash.divided(by: Fixed.one + parameters.limits.costRate, .down) else { return nil }
                        if notional <= room { return nil }
                        continue
                    } else {
                        guard let atr = lastATRs[k] else { continue }
                        sizing = PositionSizer.entry(price: price, atr: atr, account: account, limits: parameters.limits)
                    }
                    if sizing.quantity != nil { return nil }
                }
            }

            // Exits and adjustments of the positions.
            checked.removeAll(keepingCapacity: true)
            if !positions.isEmpty {
                let addsAllowed = !entriesBlocked
                for var position in positions {
                    guard let k = series.firstIndex(where: { $0.symbol == position.symbol }) else { return nil }
                    if position.state == .open {
                        guard let state = try? PositionLifecycle.next(from: .open, on: .startMonitoring, adjustments: position.adjustments,
                                                                      maxAdjustments: parameters.exits.maxAdjustments) else { return nil }
                        position.state = state
                    }
                    // The signal lent to the rules in place (a copy of a signal costs more than most of their checks).
                    let check = signals.withUnsafeBufferPointer { ExitEvaluator.check(position, candles: windows[k], signal: $0[k], now: now, rules: parameters.exits) }
                    guard check.exit == nil else { return nil }
                    if parameters.strategy.makesAdjustments, let last = windows[k].last,
                       let adjustment = signals.withUnsafeBufferPointer({
                           AdjustmentRules.decide(check.position, lastClose: last.close, signal: $0[k], minConfidence: parameters.minConfidence,
                                                  rules: parameters.exits, addsAllowed: addsAllowed, reasons: false)
                       }),
                       let price = referencePrice(k, now: now) {
                        // Idle only for an add the sizing refuses (the cycle then just stores the position).
                        guard case let .add(quantity, _) = adjustment, let value = try? price.times(check.position.quantity, .halfEven),
                              PositionSizer.add(requestedQuantity: quantity, price: price, positionValue: value, account: account, limits: parameters.limits).quantity == nil
                        else { return nil }
                    }
                    checked.append(check.position)
                }
            }

            // Idle: what the cycle would store.
            let volatility = Self.marketVolatility(&volatilities)
            let next = RunIntervalPolicy.choose(volatility: volatility, now: now, timeframe: parameters.timeframe, policy: parameters.schedule, notLaterThan: nil)
            let runID = try ledger.startRun(startedAt: now, configHash: configHash)
            for position in checked { try ledger.updatePosition(position) }
            try ledger.recordEquity(time: now, runID: runID, equity: equity, cash: cash, safeMode: false)
            if try ledger.equityPeak().map({ equity > $0 }) ?? true { try ledger.setEquityPeak(equity) }
            try ledger.finishRun(id: runID, endedAt: now, outcome: .ok, volatility: volatility, next: (next.intervalSeconds, "", next.at),
                                 symbolsAnalysed: signalCount, symbolsFailed: [], summary: "")
            // The job status stays as the last cycle left it: running (no safe mode, no interruption).
            return IdleCycle(equity: equity, cash: cash, inMarket: !positions.isEmpty, next: next)
        }
    }
}

/// What a run of idle cycles reads and moves of a held position: its value's terms, and what
/// `ExitEvaluator.check` moves for a position without levels (`IdleCycles.hasNoLevels`) (the last checked candle, the highest
/// price), kept apart from the position so that no cycle copies it.
struct ExitCheckMark {
    let quantity: Quantity
    let entryPrice: Price
    var lastChecked: Int64
    var highest: Price?
    /// A candle high whose price is `highest` (NaN: none known yet). A high not above it cannot raise `highest`, since
    /// `Price(double:)` never orders two doubles the other way round, so it is not converted.
    var highestFrom = Double.nan
    /// The index of the series' first candle opened after `lastChecked` (the candles are in ascending order).
    var unchecked: Int

    /// The held series' candles (held here, so that checking them retains nothing at each cycle).
    let candles: [Candle]

    init(_ position: Position, candles: [Candle]) {
        self.candles = candles
        quantity = max(position.quantity, 0)
        entryPrice = position.entryPrice
        lastChecked = position.lastCheckedCandle
        highest = position.highestPrice
        unchecked = candles.upperBound(of: position.lastCheckedCandle) { $0.openTime }
    }

    /// What `ExitEvaluator.check` does to a position without levels on the window `candles[from..<to]`: each candle it
    /// has not checked moves `lastChecked` and, when its low and high are prices, the highest price.
    mutating func check(from: Int, to: Int) {
        var i = max(from, unchecked)
        while i < to {
            let candle = candles[i]
            i += 1
            lastChecked = candle.openTime
            guard (try? Price(double: candle.low)) != nil else { continue }
            if candle.high <= highestFrom { continue }
            guard let high = try? Price(double: candle.high) else { continue }
            if highest.map({ high > $0 }) ?? true { highest = high }
            if high == highest { highestFrom = candle.high }
        }
        unchecked = max(unchecked, to)
    }

    /// `position` with what the checks moved.
    func apply(to position: inout Position) {
        position.lastCheckedCandle = lastChecked
        position.highestPrice = highest
    }
}
