import Foundation
import Logging
import Brokers
import Cycle
import MarketData
import Storage
import Strategy
import TradingDomain

/// A closed trade of a backtest, with the reference file's columns (bar indexes of the fills in the input).
public struct BacktestTrade: Sendable, Equatable {
    public var symbol: Symbol
    public var entryTime: Int64
    public var exitTime: Int64
    public var entryBar: Int
    public var exitBar: Int
    public var size: Quantity
    public var entryPrice: Price
    public var exitPrice: Price
    public var fees: Money
    public var pnl: Money
    /// Why the position was closed (`stop_loss`, `signal_reversed`, …).
    public var exitReason: String = ""
}

/// An order a backtest's cycle placed: when, what and at what average fill price.
public struct BacktestDecision: Sendable, Equatable, CustomStringConvertible {
    public var time: Int64
    public var symbol: Symbol
    public var side: OrderSide
    public var purpose: OrderPurpose
    public var quantity: Quantity
    public var price: Price?
    public var description: String {
        "\(Timestamp.rfc3339(time)) \(symbol.rawValue) \(side.rawValue) \(purpose.rawValue) \(quantity) at \(price?.description ?? "-")"
    }
}

/// What a backtest produced.
public struct BacktestResult: Sendable {
    public var trades: [BacktestTrade]
    /// The equity curve's figures (the points themselves go to `equityOut` when asked for).
    public var equity: EquityStats
    /// A bounded sample of the equity curve for charts (empty unless `chartPoints` was given).
    public var equityChart: [EquityPoint] = []
    /// One chart point per this many cycles.
    public var equityChartStride = 1
    public var runsPerInterval: [Int64: Int]
    public var cycles: Int
    public var cyclesInMarket: Int
    /// How many of the cycles were idle, recorded without running the cycle (`IdleCycles`).
    public var idleCycles = 0
    /// How many of the idle cycles were recorded in runs (`IdleCycles.recordStretch`).
    public var stretchCycles = 0
    public var startingCash: Money
    /// Buy and hold over the same period, equal weights across the symbols, no fees: per symbol the close of the
    /// newest bar closed at the first cycle (or its first bar, when none was) to the close of the newest bar closed
    /// at the last, the symbols' returns averaged.
    public var buyAndHoldReturn = 0.0
    /// Every order the cycles placed, oldest first (only when `BacktestRunner.recordsDecisions`).
    public var decisions: [BacktestDecision] = []
    /// Wall-clock seconds of the precomputed analysis and of the cycles (not part of the deterministic output).
    public var analysisSeconds: Double = 0
    public var cycleSeconds: Double = 0
}

/// Drives the real `TradingCycle` over history with a simulated clock: the candles replayed by `ReplayMarket`, the
/// paper broker, and state of its own — in memory by default (`MemoryStateStore`, the safe-mode lock in memory), or an
/// SQLite state directory when one is given (never the live one). Both run the same code and give the same result.
/// The analysis is computed once per symbol over the whole history (`PrecomputedAnalysis`) and read at each cycle's
/// newest candle. Time advances as the live job is scheduled — each cycle's own next run — or, with `everyCandle`, at
/// the open of every bar (so bar i is closed and market orders fill at bar i+1's open).
public struct BacktestRunner: Sendable {
    public var parameters: CycleParameters
    public var paper: PaperSettings
    /// Per symbol, oldest first with strictly increasing open times (as every source gives them: the CSV parser
    /// refuses anything else).
    public var candles: [Symbol: [Candle]]
    public var from: Int64?
    public var to: Int64?
    public var everyCandle: Bool
    /// An analysis of these same candles made beforehand (shared by the trials of `tradejob optimize`); used when it
    /// was made with this run's analysis parameters and lookback, else the run makes its own.
    public var precomputed: PrecomputedAnalysis?
    /// Whether the result lists every order placed (`BacktestResult.decisions`), as the look-ahead check compares them.
    public var recordsDecisions = false
    /// Whether cycles in which nothing can happen are recorded without running the cycle (`IdleCycles`; in-memory
    /// state only). Off only to compare with the run of every cycle.
    var skipsIdleCycles = true
    /// Every candle: whether runs of idle cycles in which only the prices move are recorded together
    /// (`IdleCycles.recordStretch`) instead of one `record` each. Off only to compare with the cycle-by-cycle way.
    var skipsIdleStretches = true

    public init(parameters: CycleParameters, paper: PaperSettings, candles: [Symbol: [Candle]], from: Int64? = nil, to: Int64? = nil, everyCandle: Bool) {
        self.parameters = parameters
        self.paper = paper
        self.candles = candles
        self.from = from
        self.to = to
        self.everyCandle = everyCandle
    }

    /// Runs the backtest; `stateDirectory` nil keeps the state in memory. The equity curve is written to `equityOut`
    /// (CSV, put in place when the run is over) as it is produced; `chartPoints` > 0 also keeps a sample of it of at
    /// most that many points (and the last) for charts.
    public func run(stateDirectory: String? = nil, equityOut: String? = nil, chartPoints: Int = 0) async throws -> BacktestResult {
        // The analysis is a lookup here: symbols one after another, without starting tasks.
        var parameters = self.parameters
        parameters.maxConcurrentAnalyses = 1
        let store: any StateStore
        let locks: any SafeModeLockStorage
        var memory: (store: MemoryStateStore, locks: SafeModeLockInMemory)?
        if let stateDirectory {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
            store = try StateDatabase(path: stateDirectory + "/tradejob.sqlite", durable: false).store
            locks = SafeModeLockFile(stateDirectory: stateDirectory)
        } else {
            let memoryStore = MemoryStateStore(candleRetention: parameters.lookback), memoryLocks = SafeModeLockInMemory()
            store = memoryStore
            locks = memoryLocks
            memory = (memoryStore, memoryLocks)
        }
        let broker = PaperBroker(store: store, settings: paper)
        try broker.ensureFunded()
        let market = ReplayMarket(name: "backtest", candles: candles)
        var logger = Logger(label: "backtest") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        let analysisStart = DispatchTime.now().uptimeNanoseconds
        let analyzer: any SnapshotProvider = !parameters.strategy.readsIndicators ? WindowAnalyzer()
            : precomputed.flatMap { $0.isMade(with: parameters.analysis, lookback: parameters.lookback) ? $0 : nil }
                ?? PrecomputedAnalysis(candles: candles, parameters: parameters.analysis, lookback: parameters.lookback)
        let configHash = "backtest"
        let idle = skipsIdleCycles ? memory.flatMap { memory in
            IdleCycles(parameters: parameters, candles: candles, store: memory.store, locks: memory.locks, analyzer: analyzer,
                       configHash: configHash, consultant: false)
        } : nil
        // sma-cross: the cycles that run read their crossing and volatility from the idle cycles' columns.
        let cycle = TradingCycle(parameters: parameters, configHash: configHash, store: store, market: market, broker: broker,
                                 analyzer: idle?.columnsForCycles ?? analyzer, safeModeLocks: locks, nextRunFile: nil, logger: logger)
        let step = parameters.timeframe.milliseconds
        let opens = Self.openTimes(candles)
        guard let firstOpen = opens.first, let lastOpen = opens.last else { return emptyResult() }
        let recorder = try EquityRecorder(csvPath: equityOut, chartPoints: chartPoints)
        var cycles = 0, inMarket = 0, idleCount = 0, stretchCount = 0
        /// One cycle at `now`, recorded: whether a position is open after it, and its next run. An idle one is recorded
        /// without a suspension point (most cycles are idle).
        func runCycle(at now: Int64) async throws -> (inMarket: Bool, next: Int64?) {
            if let idle, let done = try idle.record(now: now) {
                idleCount += 1
                try recorder.add(time: now, equity: done.equity, cash: done.cash, safeMode: false)
                return (done.inMarket, done.next.at)
            }
            return try await runWholeCycle(at: now)
        }
        func runWholeCycle(at now: Int64) async throws -> (inMarket: Bool, next: Int64?) {
            let report = try await cycle.run(now: now)
            try recorder.add(time: report.startedAt, equity: report.equity, cash: report.cash, safeMode: report.safeMode)
            return (!report.openPositions.isEmpty, report.nextRun?.at)
        }
        let cyclesStart = DispatchTime.now().uptimeNanoseconds
        let start = max(from ?? firstOpen, firstOpen + step)  // the first cycle sees bar 0 closed
        let end = min(to ?? (lastOpen + step), lastOpen + step)
        if everyCandle {
            let first = opens.partitionPoint(where: { $0 < start }), last = opens.partitionPoint(where: { $0 <= end })
            var i = first
            while i < last {
                let t = opens[i]
                i += 1
                cycles += 1
                if let idle, let done = try idle.record(now: t) {
                    idleCount += 1
                    try recorder.add(time: t, equity: done.equity, cash: done.cash, safeMode: false)
                    if done.inMarket { inMarket += 1 }
                    // The idle cycles that follow with nothing but the prices moving, recorded together.
                    if skipsIdleStretches, i < last {
                        let stretch = try idle.recordStretch(times: opens[i..<last], recorder: recorder)
                        i += stretch.count
                        cycles += stretch.count
                        idleCount += stretch.count
                        inMarket += stretch.inMarket
                        stretchCount += stretch.count
                        // The cycle it stopped at acts (an entry candidate or an exit): run at once, without asking `record`.
                        if stretch.acts, i < last {
                            let acting = opens[i]
                            i += 1
                            cycles += 1
                            if try await runWholeCycle(at: acting).inMarket { inMarket += 1 }
                        }
                    }
                    continue
                }
                if try await runWholeCycle(at: t).inMarket { inMarket += 1 }
            }
            if lastOpen + step <= end, lastOpen + step > (opens.last ?? 0) {
                let done = try await runCycle(at: lastOpen + step)
                cycles += 1
                if done.inMarket { inMarket += 1 }
            }
        } else {
            var now = start
            while now <= end {
                let done = try await runCycle(at: now)
                cycles += 1
                if done.inMarket { inMarket += 1 }
                guard let next = done.next, next > now else { break }
                now = next
            }
        }
        let cyclesEnd = DispatchTime.now().uptimeNanoseconds
        try recorder.finish()
        var result = try await collect(store: store, equity: recorder.stats, cycles: cycles, inMarket: inMarket)
        result.idleCycles = idleCount
        result.stretchCycles = stretchCount
        result.buyAndHoldReturn = Self.buyAndHoldReturn(candles, start: start, end: end, step: step)
        result.equityChart = recorder.sampler?.sample ?? []
        result.equityChartStride = recorder.sampler?.stride ?? 1
        result.analysisSeconds = Double(cyclesStart - analysisStart) / 1e9
        result.cycleSeconds = Double(cyclesEnd - cyclesStart) / 1e9
        return result
    }

    /// Buy and hold over this backtest's period (what `run` reports as `BacktestResult.buyAndHoldReturn`).
    public var buyAndHoldReturn: Double {
        let step = parameters.timeframe.milliseconds
        guard let firstOpen = candles.values.compactMap(\.first?.openTime).min(), let lastOpen = candles.values.compactMap(\.last?.openTime).max() else { return 0 }
        return Self.buyAndHoldReturn(candles, start: max(from ?? firstOpen, firstOpen + step), end: min(to ?? (lastOpen + step), lastOpen + step), step: step)
    }

    /// Buy and hold from cycle time `start` to `end` (see `BacktestResult.buyAndHoldReturn`); 0 without a symbol that
    /// has a positive close at the start.
    public static func buyAndHoldReturn(_ candles: [Symbol: [Candle]], start: Int64, end: Int64, step: Int64) -> Double {
        var sum = 0.0, count = 0
        for series in candles.values where !series.isEmpty {
            // The newest bar closed by t: the last with open + step ≤ t.
            func newest(by t: Int64) -> Int { ReplayMarket.lowerBound(series, t - step + 1) - 1 }
            let first = max(newest(by: start), 0), last = newest(by: end)
            guard last >= first else { continue }
            let open = series[first].close, close = series[last].close
            guard open > 0 else { continue }
            sum += close / open - 1
            count += 1
        }
        return count > 0 ? sum / Double(count) : 0
    }

    /// The most common spacing of consecutive bars over all the series (the smaller of equally common ones); nil
    /// without two bars in a series. A run of one spacing is counted at once (bars are mostly evenly spaced): the same
    /// counts as one by one.
    public static func mostCommonSpacing(_ candles: [Symbol: [Candle]]) -> Int64? {
        var counts: [Int64: Int] = [:]
        for series in candles.values where series.count > 1 {
            series.withUnsafeBufferPointer { bars in
                var spacing = bars[1].openTime - bars[0].openTime, run = 0
                for i in 1..<bars.count {
                    let gap = bars[i].openTime - bars[i - 1].openTime
                    if gap != spacing {
                        counts[spacing, default: 0] += run
                        spacing = gap
                        run = 0
                    }
                    run += 1
                }
                counts[spacing, default: 0] += run
            }
        }
        return counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })?.key
    }

    /// Every bar's open time across the symbols, ascending, once each: the series (each ascending) merged one by one.
    static func openTimes(_ candles: [Symbol: [Candle]]) -> [Int64] {
        if candles.count == 1, let series = candles.first?.value {
            // One series: its open times, when they increase (in one pass).
            var increasing = true
            let times = [Int64](unsafeUninitializedCapacity: series.count) { out, count in
                series.withUnsafeBufferPointer { bars in
                    var previous = Int64.min
                    for i in bars.indices {
                        let t = bars[i].openTime
                        if i > 0, t <= previous { increasing = false }
                        out[i] = t
                        previous = t
                    }
                }
                count = series.count
            }
            if increasing { return times }
        }
        var times: [Int64] = []
        for series in candles.values {
            var merged: [Int64] = []
            merged.reserveCapacity(max(times.count, series.count))
            var i = 0, j = 0
            while i < times.count || j < series.count {
                let next = j == series.count || (i < times.count && times[i] <= series[j].openTime) ? times[i] : series[j].openTime
                if merged.last != next { merged.append(next) }
                while i < times.count, times[i] == next { i += 1 }
                while j < series.count, series[j].openTime == next { j += 1 }
            }
            times = merged
        }
        return times
    }

    func emptyResult() -> BacktestResult {
        BacktestResult(trades: [], equity: EquityStats(), runsPerInterval: [:], cycles: 0, cyclesInMarket: 0, startingCash: paper.startingCash)
    }

    func collect(store: any StateStore, equity: EquityStats, cycles: Int, inMarket: Int) async throws -> BacktestResult {
        let bars = candles
        let startingCash = paper.startingCash
        let recordsDecisions = recordsDecisions
        return try await store.read { ledger in
            var trades: [BacktestTrade] = []
            // The series of the last symbol looked up (most backtests have one).
            var seriesSymbol: Symbol?, series: [Candle] = []
            for p in try ledger.closedPositions(since: 0) where p.exitReason != .entryFailed {
                // The position's fills, its orders oldest first, read in place: the first buy, the last sell, the bought
                // quantity and the fees (each sum in the fills' order).
                var entryTime: Int64?, exit: (time: Int64, price: Price)?
                var size = Quantity.zero, fees = Money.zero
                var overflow: (any Error)?  // thrown only for a position that is a trade
                for order in try ledger.orders(positionID: p.id) {
                    for fill in try ledger.fills(clientOrderID: order.clientOrderID) {
                        do {
                            if fill.side == .buy {
                                if entryTime == nil { entryTime = fill.time }
                                size = try size + fill.quantity
                            } else {
                                exit = (fill.time, fill.price)
                            }
                            fees = try fees + fill.fee
                        } catch {
                            overflow = overflow ?? error
                        }
                    }
                }
                guard let entryTime, let exit else { continue }
                if let overflow { throw overflow }
                if seriesSymbol != p.symbol {
                    seriesSymbol = p.symbol
                    series = bars[p.symbol] ?? []
                }
                func bar(_ t: Int64) -> Int {
                    let i = ReplayMarket.lowerBound(series, t + 1) - 1
                    return max(0, i)
                }
                trades.append(BacktestTrade(symbol: p.symbol, entryTime: entryTime, exitTime: exit.time, entryBar: bar(entryTime), exitBar: bar(exit.time),
                                            size: size, entryPrice: p.initialEntryPrice, exitPrice: p.exitPrice ?? exit.price,
                                            fees: fees, pnl: p.realizedPnL,
                                            exitReason: p.exitReason?.rawValue ?? ""))
            }
            trades.sort { ($0.entryTime, $0.symbol) < ($1.entryTime, $1.symbol) }
            var result = BacktestResult(trades: trades, equity: equity,
                                        runsPerInterval: try ledger.runsByInterval(), cycles: cycles, cyclesInMarket: inMarket, startingCash: startingCash)
            if recordsDecisions {
                var orders: [OrderRow] = []
                for p in try ledger.closedPositions(since: 0) + ledger.activePositions() { orders += try ledger.orders(positionID: p.id) }
                orders.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
                result.decisions = orders.map {
                    BacktestDecision(time: $0.createdAt, symbol: $0.symbol, side: $0.side, purpose: $0.purpose, quantity: $0.quantity, price: $0.averagePrice)
                }
            }
            return result
        }
    }
}
