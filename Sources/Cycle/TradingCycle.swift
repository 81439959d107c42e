import Foundation
import Logging
import Synchronization
import Brokers
import MarketData
import Storage
import Strategy
import TradingDomain

/// Asks the language models for an opinion on a symbol (the LLM module behind it); nil = no opinion.
public protocol OpinionConsultant: Sendable {
    func opinion(runID: RunID, symbol: Symbol, candles: [Candle], snapshot: MarketSnapshot, technical: Signal, now: Int64) async -> ModelOpinion?
}

/// Set by SIGTERM/SIGINT: the cycle starts no new symbol or order once it is set (read with one atomic load).
public final class InterruptFlag: Sendable {
    private let signal = Atomic<Int32>(0)
    private let raisedOnce = DispatchSemaphore(value: 0)
    public init() {}
    public func raise(_ signal: Int32) {
        // The first signal is the one kept.
        if self.signal.compareExchange(expected: 0, desired: signal, ordering: .acquiringAndReleasing).exchanged { raisedOnce.signal() }
    }
    /// Blocks until a signal has been raised (used by the `sigterm-after-analysis` failpoint).
    func waitUntilRaised() { raisedOnce.wait(); raisedOnce.signal() }
    public var raised: Int32? {
        let value = signal.load(ordering: .acquiring)
        return value == 0 ? nil : value
    }
}

/// One orchestration cycle: reconcile, fetch closed candles, analyse every symbol concurrently (at most
/// `analysis.max_concurrent_analyses` at a time), manage positions (exits, adjustments), check the
/// protections and safe mode, enter new positions, choose the next run. "Now" comes from the caller.
/// The small async helpers a run calls are `@inline(__always)`: a call of a nonisolated async function that is not
/// inlined costs two executor hops, a few per cent of a backtest (`Benchmarks/hops.sh` counts them).
public final class TradingCycle: @unchecked Sendable {
    let parameters: CycleParameters
    let configHash: String
    let store: any StateStore
    /// `store`'s sections, called directly when it is in memory.
    let sections: StateSections
    let market: any MarketDataSource
    let broker: any Broker
    let consultant: (any OpinionConsultant)?
    let analyzer: any SnapshotProvider
    let safeModeLocks: any SafeModeLockStorage
    let logger: Logger
    /// Whether `logger` writes anything (a backtest's discards all: its runs skip setting the run id on it).
    let logs: Bool
    let interrupt: InterruptFlag
    let execution: OrderExecution
    /// Where to write the next run time for the cron/systemd wrapper (`<state>/next_run`; nil in backtests).
    let nextRunFile: String?
    /// Whether the audit trail (events, decision texts, run summaries) is kept: false in backtests, which skip building it.
    let audit: Bool
    /// The last account computed, with the run and the count of account changes it was computed at.
    let accountMemo = AccountMemo()
    /// The count of account changes at which a live wallet was last read from the venue (-1: not yet this run).
    let walletReadAt = Counter(-1)

    /// A value shared by the cycle's tasks.
    final class Counter: Sendable {
        private let value: Atomic<Int>
        init(_ value: Int) { self.value = Atomic(value) }
        func get() -> Int { value.load(ordering: .acquiring) }
        func set(_ newValue: Int) { value.store(newValue, ordering: .releasing) }
    }

    final class AccountMemo: Sendable {
        private let memo = Mutex<(runID: RunID, changes: Int, account: AccountState)?>(nil)
        func get(runID: RunID, changes: Int) -> AccountState? {
            memo.withLock { memo in memo.flatMap { $0.runID == runID && $0.changes == changes ? $0.account : nil } }
        }
        func set(_ account: AccountState, runID: RunID, changes: Int) { memo.withLock { $0 = (runID, changes, account) } }
    }

    /// The job's cycle: state in the SQLite database, the safe-mode lockfile and `next_run` in `stateDirectory`.
    public convenience init(parameters: CycleParameters, configHash: String, database: StateDatabase, stateDirectory: String,
                            market: any MarketDataSource, broker: any Broker, consultant: (any OpinionConsultant)? = nil,
                            logger: Logger, interrupt: InterruptFlag = InterruptFlag()) {
        self.init(parameters: parameters, configHash: configHash, store: database.store, market: market, broker: broker,
                  consultant: consultant, analyzer: WindowAnalyzer(), safeModeLocks: SafeModeLockFile(stateDirectory: stateDirectory),
                  nextRunFile: stateDirectory + "/next_run", logger: logger, interrupt: interrupt)
    }

    /// A cycle on any state store (backtests: `MemoryStateStore`, precomputed analysis, the lock in memory).
    public init(parameters: CycleParameters, configHash: String, store: any StateStore,
                market: any MarketDataSource, broker: any Broker, consultant: (any OpinionConsultant)? = nil,
                analyzer: any SnapshotProvider, safeModeLocks: any SafeModeLockStorage, nextRunFile: String?,
                logger: Logger, interrupt: InterruptFlag = InterruptFlag()) {
        self.parameters = parameters
        self.configHash = configHash
        self.store = store
        sections = StateSections(store)
        self.market = market
        self.broker = broker
        self.consultant = consultant
        self.analyzer = analyzer
        self.safeModeLocks = safeModeLocks
        self.nextRunFile = nextRunFile
        audit = store.keepsAudit
        self.logger = logger
        logs = !(logger.handler is SwiftLogNoOpLogHandler)
        self.interrupt = interrupt
        let exits = parameters.exits, strategy = parameters.strategy
        let levels = { @Sendable (position: Position) throws(FixedPointError) -> (stop: Price, takeProfit: Price)? in
            try strategy.protectiveLevels(for: position, rules: exits)
        }
        execution = OrderExecution(store: store, broker: broker, quoteAsset: parameters.quoteAsset,
                                   maxAdjustments: parameters.exits.maxAdjustments, levels: levels, logger: logger)
    }

    /// One symbol's analysis in this run (a class: it is handed around, not copied).
    final class SymbolResult: @unchecked Sendable {
        let symbol: Symbol
        var candles: ArraySlice<Candle> = []
        /// Candles stored by this run (new since the previous one).
        var newCandles: Int = 0
        var snapshot: MarketSnapshot?
        var signal: Signal?
        var error: String?
        init(symbol: Symbol) { self.symbol = symbol }
    }

    /// Runs the cycle as of `now` (epoch ms). Errors that end the cycle are thrown after the run is recorded as failed.
    public func run(now: Int64) async throws -> CycleReport {
        // Phase times are for the job's metrics; backtests (no audit trail) skip reading the clock.
        let timed = audit
        func clock() -> UInt64 { timed ? DispatchTime.now().uptimeNanoseconds : 0 }
        let clockStart = clock()
        var phases = CyclePhases()
        func phaseEnd(_ phase: WritableKeyPath<CyclePhases, Double>, _ start: UInt64) {
            if timed { phases[keyPath: phase] += Double(clock() - start) / 1e9 }
        }
        var notes: [String] = []
        var decisions: [Symbol: String] = [:]
        var placed = 0
        var fillsCount = 0
        let hash = configHash

        // Start the run record.
        let (runID, previousHash): (RunID, String?) = try await sections.write { ledger in
            let previous = try ledger.lastConfigHash()
            let abandoned = try ledger.markAbandonedRuns(endedAt: now)
            let id = try ledger.startRun(startedAt: now, configHash: hash)
            for old in abandoned {
                try ledger.record(runID: id, time: now, kind: .runAbandoned, message: "run \(old) never finished (the process died); its work is reconciled now")
            }
            try ledger.setJobStatus(.starting)
            if let previous, previous != hash {
                try ledger.record(runID: id, time: now, kind: .configChanged, message: "configuration changed since the previous run (hash \(previous) → \(hash))")
            }
            return (id, previous)
        }
        var log = logger
        if logs { log[metadataKey: "run_id"] = "\(runID)" }
        let configChanged = previousHash != nil && previousHash != hash
        if configChanged { log.notice("configuration changed since the previous run; the new one applies from this cycle", metadata: ["config_hash": "\(hash)"]) }

        do {
            // 1. Reconcile with the broker: resolve orders whose outcome is not final.
            var t = clock()
            var reconciled = true
            var credentialsRefused: String?
            do {
                let result = try await execution.resolveUnresolved(runID: runID, now: now)
                fillsCount += result.fills
                if result.unresolved > 0 { notes.append("\(result.unresolved) order(s) still open at the venue") }
                let account = try await reconcileAccount(runID: runID, now: now)
                fillsCount += account.fills
                if account.unexplained > 0 { notes.append("\(account.unexplained) order(s), trade(s) or balance(s) at the venue the database does not explain") }
            } catch {
                reconciled = false
                // Nothing new at all this run: what the venue holds is not known.
                execution.gate.close("reconciliation failed this run: \(error)")
                if (error as? any CredentialsRefusal)?.refusesCredentials == true { credentialsRefused = "\(error)" }
                notes.append("reconciliation failed: \(error); no new orders this run")
                log.error("reconciliation failed; no new entries this run", metadata: ["error": "\(error)"])
                try await event(runID, now, .reconcileFailed, nil, "reconciliation failed: \(error)")
            }
            phaseEnd(\.reconcile, t)
            try await sections.write { ledger in try ledger.setJobStatus(.running) }

            // 2. Safe mode from the lockfile.
            var safe = try await safeModeStatus(runID: runID, now: now, log: log)

            // 3 + 4. Fetch and analyse every symbol, at most N at a time.
            t = clock()
            let results = await analyseAll(runID: runID, now: now, log: log)
            phaseEnd(\.analyse, t)
            if let point = Failpoint.active, point == "sigterm-after-analysis" || point == "sigint-after-analysis" {
                kill(getpid(), point == "sigint-after-analysis" ? SIGINT : SIGTERM)
                interrupt.waitUntilRaised()
            }
            var failed: [Symbol: String] = [:]
            var signals: [Signal] = []
            signals.reserveCapacity(results.count)
            // Found by a scan of the symbols (cheaper than hashing them for the usual handful).
            var bySymbol = SymbolTable<SymbolResult>()
            var lastPrices = SymbolTable<Double>()
            for r in results {
                bySymbol[r.symbol] = r
                if let close = r.candles.last?.close { lastPrices[r.symbol] = close }
                if let e = r.error { failed[r.symbol] = e }
                if let s = r.signal { signals.append(s) }
            }
            signals.sort { $0.symbol < $1.symbol }
            // Symbols analysed only because a position in them is open (the configuration no longer names them): their
            // positions are managed until they close, and no entry is made in them.
            var entrySignals = signals
            if results.count > parameters.symbols.count {
                let heldOnly = results.map(\.symbol).filter { !parameters.symbols.contains($0) }
                entrySignals.removeAll { heldOnly.contains($0.symbol) }
                notes.append("open position(s) in \(heldOnly.map(\.rawValue).joined(separator: ", ")), no longer configured: managed until closed, no new entries")
                log.warning("managing positions in symbols the configuration no longer names", metadata: ["symbols": "\(heldOnly.map(\.rawValue).joined(separator: ","))"])
            }
            let storedSignals = signals
            let failedSymbols = failed
            // Without the audit trail neither is kept (`Ledger.keepsAudit`): no section for them.
            if audit { try await sections.write { ledger in
                for s in storedSignals { try ledger.insertSignal(runID: runID, signal: s) }
                // By symbol, so that the events come in the same order every run (a dictionary's order is not).
                for (symbol, error) in failedSymbols.sorted(by: { $0.key < $1.key }) {
                    try ledger.record(runID: runID, time: now, kind: .symbolFailed, symbol: symbol, message: error)
                }
            } }

            // 5. Manage open positions (exits, then adjustments).
            t = clock()
            var blocks = try await activeEntryBlocks(now: now)
            // Protections first: they judge the account as the run finds it (a breach closes everything in safe mode).
            var judged = try await applyProtections(runID: runID, now: now, prices: lastPrices, safe: &safe, blocks: &blocks, log: log)
            var judgedAt = placed
            if interrupt.raised == nil {
                let managed = try await managePositions(runID: runID, now: now, results: bySymbol, lastPrices: lastPrices, safe: safe, blocks: blocks,
                                                        decisions: &decisions, log: log)
                placed += managed.orders
            }
            phaseEnd(\.decide, t)

            // 6. Protections again, with this run's exits counted (a losing streak may have just happened). Without an
            // order since the first check the account is the same, and what it tripped is already applied.
            if placed != judgedAt {
                judged = try await applyProtections(runID: runID, now: now, prices: lastPrices, safe: &safe, blocks: &blocks, log: log)
                judgedAt = placed
            }
            if safe.active {
                t = clock()
                placed += try await emergencyClosure(runID: runID, now: now, results: bySymbol, log: log)
                phaseEnd(\.execute, t)
            }

            // 7. New entries.
            t = clock()
            if interrupt.raised == nil {
                let entries = try await enterPositions(runID: runID, now: now, signals: entrySignals, results: bySymbol, lastPrices: lastPrices, safe: safe, reconciled: reconciled,
                                                       blocks: blocks, decisions: &decisions, log: log)
                placed += entries
            }
            phaseEnd(\.execute, t)

            // 8. Equity, next run, finish.
            if placed != judgedAt {
                let account = try await accountState(runID: runID, prices: lastPrices)
                // For the report only: a breaker opening during this run's orders is judged at the next run's check.
                judged = (account, try await protectionFacts(now: now, equity: account.equity, judged: false))
            }
            let (account, facts) = judged
            // (The median of one symbol's figure is that figure when finite: no list built for it.)
            let volatility = results.count == 1 ? results[0].snapshot.flatMap { $0.volatility.isFinite ? $0.volatility : nil }
                : RunIntervalPolicy.marketVolatility(results.compactMap { $0.snapshot?.volatility })
            let next = RunIntervalPolicy.choose(volatility: volatility, now: now, timeframe: parameters.timeframe, policy: parameters.schedule,
                                                notLaterThan: safe.active ? safe.until : nil)
            let interrupted = interrupt.raised
            let outcome: RunOutcome = credentialsRefused != nil ? .failed : interrupted != nil ? .interrupted : failed.isEmpty ? .ok : .partial
            let (runFills, positions) = try await sections.read { ledger in (try ledger.fillCount(runID: runID), try ledger.activePositions()) }
            let fillsTotal = fillsCount + runFills
            let peak = max(facts.peakEquity, account.equity)
            var report = CycleReport(runID: runID, startedAt: now, endedAt: now, outcome: outcome, symbolsAnalysed: signals.count,
                                     failedSymbols: failed, signals: signals, ordersPlaced: placed, fills: fillsTotal, openPositions: positions,
                                     cash: account.cash, equity: account.equity, peakEquity: peak, safeMode: safe.active,
                                     volatility: volatility, nextRun: next, phases: phases, decisions: decisions,
                                     configChanged: configChanged, notes: notes)
            let summary = audit ? report.summary : ""
            let equity = account.equity, cash = account.cash, safeActive = safe.active
            // Equity from a stale live wallet (the balances could not be read after this run's orders) is not recorded.
            let equityKnown = liveWalletIsCurrent
            let analysedCount = report.symbolsAnalysed, failedNames = failed.keys.sorted(), decisionsText = audit ? Self.json(decisions) : ""
            try await sections.write { ledger in
                if equityKnown {
                    try ledger.recordEquity(time: now, runID: runID, equity: equity, cash: cash, safeMode: safeActive)
                    // The persisted peak the drawdown protection measures from (removed when safe mode ends).
                    let peak = try ledger.equityPeak()
                    if peak.map({ equity > $0 }) ?? true { try ledger.setEquityPeak(equity) }
                }
                try ledger.finishRun(id: runID, endedAt: now, outcome: outcome, volatility: volatility,
                                next: (next.intervalSeconds, audit ? next.reason : "", next.at), symbolsAnalysed: analysedCount,
                                symbolsFailed: failedNames, summary: summary)
                try ledger.setJobStatus(interrupted != nil ? .stopping : safeActive ? .safeMode : .running)
                if !decisionsText.isEmpty { try ledger.setJobState("last_decisions", decisionsText) }
                try ledger.record(runID: runID, time: now, kind: .runFinished, message: "\(outcome.rawValue); next run \(Timestamp.rfc3339(next.at)) (\(next.cadence.rawValue)): \(next.reason)")
            }
            // Atomic but not synced: the file is only `--if-due`'s shortcut (the run's `next_run_at`, committed above, is
            // the schedule), and an old or unreadable one after a power loss makes the next tick run the cycle.
            if let nextRunFile { try AtomicFile.write(Timestamp.rfc3339(next.at) + "\n", to: nextRunFile, sync: false) }
            report.endedAt = now
            report.credentialsRefused = credentialsRefused
            phases.total = Double(clock() - clockStart) / 1e9
            report.phases = phases
            return report
        } catch {
            let message = "\(error)"
            try? await sections.write { ledger in
                try ledger.finishRun(id: runID, endedAt: now, outcome: .failed, volatility: nil, next: nil,
                                symbolsAnalysed: 0, symbolsFailed: [], summary: "failed: \(message)")
                try ledger.record(runID: runID, time: now, kind: .cycleFailed, message: message)
            }
            throw error
        }
    }

    /// Evaluates the protections on the persisted facts and applies their actions: an entry block (persisted in
    /// `job_state`) or safe mode. A losing streak counts only stop-loss exits after its previous trip, so one
    /// streak trips once. Returns the account and facts it judged.
    @discardableResult
    func applyProtections(runID: RunID, now: Int64, prices: SymbolTable<Double>, safe: inout SafeModeState, blocks: inout [String: Int64],
                          log: Logger) async throws -> (AccountState, ProtectionFacts) {
        let account = try await accountState(runID: runID, prices: prices)
        let facts = try await protectionFacts(now: now, equity: account.equity)
        let trips = ProtectionEvaluator.evaluate(facts, rules: parameters.protections)
        var equityUncertain = false
        if broker.isLive, trips.contains(where: { ProtectionPlanner.judgesEquity($0.name) }),
           let open = try await sections.read({ try $0.unresolvedOrders() }).first {
            equityUncertain = true
            try await event(runID, now, .protectionDeferred, nil,
                            "drawdown and daily loss not judged this run: order \(open.clientOrderID) is \(open.status.rawValue), so equity is uncertain")
        }
        for command in ProtectionPlanner.plan(trips, blocks: blocks, safeModeActive: safe.active, equityUncertain: equityUncertain) {
            switch command {
            case let .blockEntries(trip):
                blocks[trip.name.rawValue] = trip.until
                try await sections.write { ledger in
                    try ledger.setJobState("block.\(trip.name)", "\(trip.until)")
                    if trip.name == .losingStreak { try ledger.setJobState("losing_streak.since", "\(now)") }
                    try ledger.record(runID: runID, time: now, kind: .protectionTriggered,
                                      message: "\(trip.name): \(trip.reason); entries blocked until \(Timestamp.rfc3339(trip.until))",
                                      data: ["protection": trip.name.rawValue, "action": trip.action.rawValue, "until": Timestamp.rfc3339(trip.until)])
                }
                log.warning("protection triggered: entries blocked", metadata: ["protection": "\(trip.name)", "until": "\(Timestamp.rfc3339(trip.until))"])
            case let .enterSafeMode(trip):
                try await sections.write { ledger in
                    if trip.name == .losingStreak { try ledger.setJobState("losing_streak.since", "\(now)") }
                    try ledger.record(runID: runID, time: now, kind: .protectionTriggered, message: "\(trip.name): \(trip.reason); entering safe mode",
                                      data: ["protection": trip.name.rawValue, "action": trip.action.rawValue])
                }
                safe = try await enterSafeMode(runID: runID, now: now, reason: trip.reason, trigger: trip.name.rawValue, log: log)
            }
        }
        return (account, facts)
    }

    /// The decisions as a JSON object by symbol, keys sorted: `JSONEncoder`'s bytes (`CompactJSON`), without its set-up.
    static func json(_ value: [Symbol: String]) -> String {
        CompactJSON.object(Dictionary(uniqueKeysWithValues: value.map { ($0.key.rawValue, $0.value) }))
    }

    @inline(__always)
    func event(_ runID: RunID, _ now: Int64, _ kind: EventKind, _ symbol: Symbol?, _ message: String) async throws {
        try await sections.write { ledger in try ledger.record(runID: runID, time: now, kind: kind, symbol: symbol, message: message) }
    }
}
