import Foundation
import Logging
import MarketData
import Storage
import Strategy
import TradingDomain

extension TradingCycle {
    /// Fetches, stores and analyses every symbol in four steps: the newest stored candle of each (one read
    /// transaction), the new closed candles from the market (at most `analysis.max_concurrent_analyses` symbols at a
    /// time), the new candles stored and every window read back (one write transaction), then each window
    /// analysed (at most N at a time, on all cores) and, near the gate, the models consulted. Once the interrupt flag is
    /// set no further symbol is started; a symbol started is finished. A symbol that fails is reported and the others go on.
    /// Besides the configured symbols, those of open positions the configuration no longer names (`withHeldSymbols`) are
    /// analysed too, after them: their stops, targets and prices still need the candles (no entry is made in them).
    func analyseAll(runID: RunID, now: Int64, log: Logger) async -> [SymbolResult] {
        let timeframe = parameters.timeframe, lookback = parameters.lookback
        let limit = max(1, parameters.maxConcurrentAnalyses)
        let closedLimit = timeframe.lastClosedBarOpen(at: now)
        let configured = parameters.symbols

        // 1. The symbols (with the held ones no longer configured) and where each one's stored candles end.
        let symbols: [Symbol], newest: [Int64?]
        do {
            (symbols, newest) = try await sections.read { ledger in
                let all = try Self.withHeldSymbols(configured, ledger)
                return (all, try all.map { try ledger.newestCandleTime(symbol: $0, timeframe: timeframe) })
            }
        } catch {
            return configured.map { failed(SymbolResult(symbol: $0), error, log: log) }
        }

        // 2. The new closed candles of each symbol (the symbols not started when an interrupt came are left out).
        let market = self.market
        /// What a fetch gave, only the closed and new candles (without a copy when all are: the usual case).
        @Sendable func kept(_ fetched: Result<[Candle], any Error>, after: Int64?) -> Result<[Candle], any Error> {
            fetched.map { candles in
                func wanted(_ c: Candle) -> Bool { c.openTime <= closedLimit && c.openTime > (after ?? .min) }
                return candles.allSatisfy(wanted) ? candles : candles.filter(wanted)
            }
        }
        var results: [SymbolResult] = []
        var batches: [CandleBatch] = []
        results.reserveCapacity(symbols.count)
        batches.reserveCapacity(symbols.count)
        /// Symbol k's fetch: a result, and a batch to store when it gave candles.
        func add(_ k: Int, _ outcome: Result<[Candle], any Error>) {
            let result = SymbolResult(symbol: symbols[k])
            switch outcome {
            case let .success(fresh):
                result.newCandles = fresh.count
                results.append(result)
                batches.append(CandleBatch(symbol: symbols[k], candles: fresh))
            case let .failure(error):
                results.append(failed(result, error, log: log))
            }
        }
        if let immediate = market.immediate, limit == 1 || symbols.count <= 1 {
            // One symbol after another from a source that answers at once: no async call per symbol.
            for k in symbols.indices where interrupt.raised == nil {
                add(k, kept(Result { try immediate.closedCandlesNow(symbol: symbols[k], timeframe: timeframe, after: newest[k], limit: lookback, now: now) },
                            after: newest[k]))
            }
        } else {
            let fetched = await boundedMap(symbols.count, limit: limit) { k in
                do {
                    return kept(.success(try await market.closedCandles(symbol: symbols[k], timeframe: timeframe, after: newest[k], limit: lookback, now: now)),
                                after: newest[k])
                } catch {
                    return .failure(error)
                }
            }
            for (k, outcome) in fetched.enumerated() {
                if let outcome { add(k, outcome) }
            }
        }

        // 3 + 4. The new candles stored and every window read back in one write transaction (a window is read through
        // the `candle_blocks` cache, which that write keeps up to date), then each window analysed, at most N at a time.
        // The symbols stored are the results without an error so far, in order, one per batch.
        if store.pipelinesWindows && limit > 1 && batches.count > 1 {
            await storeAndAnalyseTogether(results.filter { $0.error == nil }, batches, runID: runID, now: now, limit: limit, log: log)
            return results
        }
        let first: [Result<ArraySlice<Candle>, any Error>]
        do {
            let toStore = batches
            first = try await sections.write { ledger in
                try ledger.storeCandles(toStore, timeframe: timeframe, window: lookback, upTo: closedLimit)
            }
        } catch {
            for r in results where r.error == nil { _ = failed(r, error, log: log) }
            return results
        }
        var k = 0
        for r in results where r.error == nil {
            switch first[k] {
            case let .success(candles):
                r.candles = candles
            case let .failure(error):
                _ = failed(r, error, log: log)
            }
            k += 1
        }
        // Every result still without an error has its window now.
        if limit == 1 || batches.count <= 1 {
            for r in results where r.error == nil { await analyse(r, runID: runID, now: now) }
        } else {
            let work = results.filter { $0.error == nil }
            _ = await boundedMap(work.count, limit: limit, startsAfterInterrupt: true) { k in await self.analyse(work[k], runID: runID, now: now) }
        }
        return results
    }

    /// Steps 3 and 4 overlapped: each window the write transaction reads is handed to the analysis at once (at most
    /// `limit` readings at a time), while the transaction goes on storing and reading the next symbols. Nothing of it is
    /// used before the transaction commits: the results, the failures and their log lines are then those of the plain
    /// order (a failed transaction fails every symbol it stored, and its readings are dropped), and the models are
    /// consulted only then.
    func storeAndAnalyseTogether(_ stored: [SymbolResult], _ batches: [CandleBatch], runID: RunID, now: Int64, limit: Int, log: Logger) async {
        let timeframe = parameters.timeframe, lookback = parameters.lookback, closedLimit = timeframe.lastClosedBarOpen(at: now)
        let strategy = parameters.strategy, analyzer = self.analyzer, settings = parameters.strategySettings(detailed: audit)
        let store = self.store
        let (windows, delivery) = AsyncStream.makeStream(of: (Int, Result<ArraySlice<Candle>, any Error>).self)
        async let written: (any Error)? = {
            defer { delivery.finish() }
            do {
                try await store.writeAside { ledger in
                    try ledger.storeCandles(batches, timeframe: timeframe, window: lookback, upTo: closedLimit) { k, outcome in delivery.yield((k, outcome)) }
                }
                return nil
            } catch {
                return error
            }
        }()
        var outcomes = [Result<ArraySlice<Candle>, any Error>?](repeating: nil, count: batches.count)
        var readings = [StrategyReading?](repeating: nil, count: batches.count)
        await withTaskGroup(of: (Int, StrategyReading).self) { group in
            var running = 0
            for await (k, outcome) in windows {
                outcomes[k] = outcome
                guard case let .success(candles) = outcome else { continue }
                if running == limit, let (j, reading) = await group.next() {
                    readings[j] = reading
                    running -= 1
                }
                let symbol = batches[k].symbol
                group.addTask { (k, strategy.read(symbol: symbol, candles: candles, analyzer: analyzer, settings: settings)) }
                running += 1
            }
            for await (j, reading) in group { readings[j] = reading }
        }
        if let error = await written {
            for r in stored { _ = failed(r, error, log: log) }
            return
        }
        var readable: [(SymbolResult, StrategyReading)] = []
        readable.reserveCapacity(stored.count)
        for (k, r) in stored.enumerated() {
            switch outcomes[k] {
            case let .success(candles)?:
                r.candles = candles
                if let reading = readings[k] { readable.append((r, reading)) }
            case let .failure(error)?:
                _ = failed(r, error, log: log)
            case nil:
                // The write ended before it handed this window over (the task was cancelled): reported, never silently dropped.
                _ = failed(r, CancellationError(), log: log)
            }
        }
        let work = readable
        if consultant == nil || !parameters.llmEnabled || !strategy.consultsModels {
            for (r, reading) in work { await settle(r, reading, runID: runID, now: now) }
        } else {
            _ = await boundedMap(work.count, limit: limit, startsAfterInterrupt: true) { k in await self.settle(work[k].0, work[k].1, runID: runID, now: now) }
        }
    }

    /// The strategy's reading of one symbol's window, and the models' opinion near the gate.
    @inline(__always)
    func analyse(_ result: SymbolResult, runID: RunID, now: Int64) async {
        let reading = parameters.strategy.read(symbol: result.symbol, candles: result.candles, analyzer: analyzer, settings: parameters.strategySettings(detailed: audit))
        await settle(result, reading, runID: runID, now: now)
    }

    /// `reading` (of `result.candles`) recorded in `result`, with the models' opinion near the gate.
    @inline(__always)
    func settle(_ result: SymbolResult, _ reading: StrategyReading, runID: RunID, now: Int64) async {
        let symbol = result.symbol
        result.snapshot = reading.snapshot
        if let problem = reading.problem {
            result.error = problem
            return
        }
        var signal = reading.signal
        if let consultant, parameters.llmEnabled, parameters.strategy.consultsModels, let technical = signal, let snapshot = reading.snapshot,
           abs(technical.confidence - parameters.minConfidence) <= parameters.llmConsultBand {
            let settings = parameters.strategySettings(detailed: audit)
            if let opinion = await consultant.opinion(runID: runID, symbol: symbol, candles: Array(result.candles), snapshot: snapshot, technical: technical, now: now),
               let revised = parameters.strategy.signal(symbol: symbol, snapshot: snapshot, opinion: opinion, settings: settings) {
                signal = revised
            }
        }
        result.signal = signal
    }

    /// `configured`, then the symbols of open positions not among them (in the order the positions were opened): a
    /// position outlives its symbol's removal from the configuration and is still managed until it closes.
    static func withHeldSymbols(_ configured: [Symbol], _ ledger: any Ledger) throws -> [Symbol] {
        var all = configured
        for position in try ledger.activePositions() where !all.contains(position.symbol) { all.append(position.symbol) }
        return all
    }

    /// Marks `result` failed with `error` and logs it.
    func failed(_ result: SymbolResult, _ error: any Error, log: Logger) -> SymbolResult {
        result.error = "\(error)"
        var l = log
        l[metadataKey: "symbol"] = "\(result.symbol)"
        l.error("symbol failed; the others go on", metadata: ["error": "\(error)"])
        return result
    }

    /// `body` for 0..<count, at most `limit` at a time, in index order in the result. Items not started because the
    /// interrupt flag was set are nil (unless `startsAfterInterrupt`). One at a time runs inline, without tasks.
    func boundedMap<T: Sendable>(_ count: Int, limit: Int, startsAfterInterrupt: Bool = false,
                                 _ body: @escaping @Sendable (Int) async -> T) async -> [T?] {
        var out = [T?](repeating: nil, count: count)
        let interrupt = self.interrupt
        func mayStart() -> Bool { startsAfterInterrupt || interrupt.raised == nil }
        if limit == 1 || count <= 1 {
            for k in 0..<count where mayStart() { out[k] = await body(k) }
            return out
        }
        return await withTaskGroup(of: (Int, T).self) { group in
            var next = 0
            func launch() {
                guard next < count, mayStart() else { return }
                let k = next
                next += 1
                group.addTask { (k, await body(k)) }
            }
            for _ in 0..<min(limit, count) { launch() }
            while let (k, value) = await group.next() {
                out[k] = value
                launch()
            }
            return out
        }
    }
}
