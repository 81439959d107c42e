import Foundation
import Logging
import Brokers
import Storage
import Strategy
import TradingDomain

extension TradingCycle {
    /// Safe mode as the lockfile says it is now.
    struct SafeModeState {
        var active: Bool
        var until: Int64?
    }

    @inline(__always)
    func safeModeStatus(runID: RunID, now: Int64, log: Logger) async throws -> SafeModeState {
        switch safeModeLocks.read() {
        case .absent:
            return SafeModeState(active: false, until: nil)
        case let .unreadable(why):
            log.critical("safe-mode lock unreadable: staying in safe mode (fail closed); \(SafeModeLock.clearHint)", metadata: ["problem": "\(why)"])
            try await event(runID, now, .safeModeLockUnreadable, nil, "\(why); staying in safe mode (fail closed); \(SafeModeLock.clearHint)")
            return SafeModeState(active: true, until: nil)
        case let .present(lock):
            let until = lock.untilMs ?? now
            if now < until || !lock.autoResume {
                return SafeModeState(active: true, until: now < until ? until : nil)
            }
            let leftovers = try await sections.read { try $0.activePositions() }
            if !leftovers.isEmpty {
                // The closure is not finished: hold safe mode until it is.
                return SafeModeState(active: true, until: nil)
            }
            try safeModeLocks.remove()
            try await sections.write { ledger in
                try ledger.record(runID: runID, time: now, kind: .safeModeExited,
                                  message: "safe mode ended (cooldown until \(lock.until) passed; auto_resume)", data: ["trigger": lock.trigger])
                try ledger.setJobStatus(.running)
                // The drawdown protection measures from a fresh peak after safe mode (else it would trip again at once).
                try ledger.setEquityPeak(nil)
            }
            log.notice("safe mode ended: cooldown passed, resuming", metadata: ["until": "\(lock.until)"])
            return SafeModeState(active: false, until: nil)
        }
    }

    /// Writes the lockfile and records the entry; the closure itself follows in `emergencyClosure`.
    func enterSafeMode(runID: RunID, now: Int64, reason: String, trigger: String, log: Logger) async throws -> SafeModeState {
        let active = try await sections.read { try $0.activePositions() }
        let until = now + parameters.safeModeCooldownMs
        let lock = SafeModeLock(reason: reason, trigger: trigger, enteredAt: now, until: until, positionsClosed: [],
                                positionsPending: active.map(\.symbol), autoResume: parameters.safeModeAutoResume)
        try safeModeLocks.write(lock)
        try await sections.write { ledger in
            try ledger.record(runID: runID, time: now, kind: .safeModeEntered, message: "safe mode until \(lock.until): \(reason)",
                              data: ["trigger": trigger, "until": lock.until])
            try ledger.setJobStatus(.safeMode)
        }
        log.critical("entering safe mode: closing every position", metadata: ["trigger": "\(trigger)", "until": "\(lock.until)"])
        return SafeModeState(active: true, until: until)
    }

    /// Cancels open orders and closes every position; idempotent across runs (leftovers are retried next run).
    /// Nothing is sent in a run whose reconciliation failed: what the venue holds is not known.
    func emergencyClosure(runID: RunID, now: Int64, results: SymbolTable<SymbolResult>, log: Logger) async throws -> Int {
        let execution = execution
        var orders = 0
        let active = try await sections.read { try $0.activePositions() }
        var closed: [Symbol] = [], pending: [Symbol] = []
        for stale in active {
            if interrupt.raised != nil || execution.gate.closedBecause != nil { pending.append(stale.symbol); continue }
            do {
                let cancelled = try await broker.cancelOpenOrders(symbol: stale.symbol)
                let step = await execution.lotStep(stale.symbol)
                let (fresh, working) = try await sections.write { ledger -> (Position?, Bool) in
                    for report in cancelled { try execution.apply(ledger, report: report, runID: runID, now: now, lotStep: step) }
                    return (try ledger.position(id: stale.id), try ledger.workingOrder(positionID: stale.id, excluding: nil) != nil)
                }
                switch try PositionPlanner.emergencyClosure(fresh, working: working, now: now, maxAdjustments: parameters.exits.maxAdjustments) {
                case .closed:
                    closed.append(stale.symbol)
                case .waitForWorkingOrder:
                    pending.append(stale.symbol)
                case let .closeEmpty(record, from, note):
                    try await storeClosedEmpty(record, from: from, runID: runID, now: now, note: note)
                    closed.append(stale.symbol)
                case let .sell(decided, from, transition):
                    guard let price = try await referencePrice(decided.symbol, results: results, now: now) else {
                        pending.append(decided.symbol)
                        continue
                    }
                    orders += 1
                    let report = try await execution.place(runID: runID, positionID: decided.id, symbol: decided.symbol, side: .sell,
                                                           purpose: .emergencyClose, quantity: decided.quantity, referencePrice: price, now: now) { ledger in
                        if transition {
                            try ledger.updatePosition(decided)
                            try execution.transitionEvent(ledger, runID: runID, now: now, decided, from: from, note: "emergency closure (safe mode)")
                        }
                        return decided
                    }
                    if report?.status == .filled { closed.append(decided.symbol) } else { pending.append(decided.symbol) }
                    Failpoint.hit("after-emergency-order")
                }
            } catch {
                pending.append(stale.symbol)
                log.error("emergency closure failed for a position; it will be retried next run", metadata: ["symbol": "\(stale.symbol)", "error": "\(error)"])
                try? await event(runID, now, .emergencyCloseFailed, stale.symbol, "\(error); retried next run")
            }
        }
        if case var .present(lock) = safeModeLocks.read() {
            // From the database, so a closure finished by a later run (after a crash) is reported whole.
            let since = lock.enteredAtMs ?? now
            let closedSince = try await sections.read { ledger in
                try ledger.closedPositions(since: since).filter { $0.exitReason == .safeMode }.map(\.symbol)
            }
            lock.positionsClosed = Array(Set(lock.positionsClosed + closed + closedSince)).sorted()
            lock.positionsPending = pending.sorted()
            try safeModeLocks.write(lock)
        }
        if !pending.isEmpty {
            try await event(runID, now, .emergencyClosePending, nil, "safe mode: \(pending.count) position(s) still to close: \(pending.sorted().map(\.rawValue).joined(separator: ", "))")
        }
        return orders
    }

    /// Entry blocks still in force: protection name → until.
    @inline(__always)
    func activeEntryBlocks(now: Int64) async throws -> [String: Int64] {
        try await sections.read { ledger in
            var blocks: [String: Int64] = [:]
            for (key, value) in try ledger.jobStates(prefix: "block.") {
                if let until = Int64(value), until > now { blocks[String(key.dropFirst("block.".count))] = until }
            }
            return blocks
        }
    }

    /// The account at this run's prices. Computed again only when an order was placed (or a record closed by hand)
    /// since the last time in the same run: the prices do not change within a run.
    @inline(__always)
    func accountState(runID: RunID, prices: SymbolTable<Double>) async throws -> AccountState {
        let changes = execution.accountChanges.count
        if let memo = accountMemo.get(runID: runID, changes: changes) { return memo }
        let account = try await computeAccountState(prices: prices)
        accountMemo.set(account, runID: runID, changes: changes)
        return account
    }

    /// The account from one snapshot: the wallet (for a live venue, its balances read again after this run's orders)
    /// and the open positions at this run's prices (a symbol without one: its newest stored close). A sell whose outcome
    /// is not known yet is counted as sold (its coins are not valued; the proceeds count once they are in the balances),
    /// so equity is never above the account's value.
    @inline(__always)
    func computeAccountState(prices: SymbolTable<Double>) async throws -> AccountState {
        let quote = parameters.quoteAsset
        if broker.isLive {
            do {
                try await refreshLiveWallet()
            } catch {
                // The stored wallet stands in; the run records no equity from it (see `liveWalletIsCurrent`).
                logger.warning("the venue's balances could not be read again; the stored wallet is used", metadata: ["error": "\(error)"])
            }
        }
        let live = broker.isLive, timeframe = parameters.timeframe
        let (cash, positions, unsettledSells) = try await sections.read { ledger -> (Money, [Position], [Int64: Quantity]) in
            var sells: [Int64: Quantity] = [:]
            if live {
                for order in try ledger.unresolvedOrders() where order.side == .sell {
                    if let id = order.positionID { sells[id] = try (sells[id] ?? 0) + max(order.quantity - order.filledQuantity, 0) }
                }
            }
            return (try ledger.balance(asset: quote) ?? 0, try ledger.activePositions(), sells)
        }
        // A symbol without a price this run (its candles could not be fetched): its newest stored close.
        var runPrices = prices
        let unpriced = positions.map(\.symbol).filter { prices[$0] == nil }
        if !unpriced.isEmpty {
            let stored = try await sections.read { ledger in
                try unpriced.map { try ledger.candleWindow(symbol: $0, timeframe: timeframe, limit: 1, upTo: .max).last?.close }
            }
            for (symbol, close) in zip(unpriced, stored) { if let close { runPrices[symbol] = close } }
        }
        var exposure: Money = 0
        for position in positions {
            // This run's price, else the newest stored close, else (nothing stored) the entry price.
            let price = runPrices[position.symbol].flatMap { try? Price(double: $0) } ?? position.entryPrice
            let held = try max(position.quantity - (unsettledSells[position.id] ?? 0), 0)
            exposure = try exposure + price.times(held, .halfEven)
        }
        return AccountState(equity: try cash + exposure, cash: cash, exposure: exposure, openPositions: positions.count)
    }

    /// Whether the wallet is the venue's balances as of the run's last order (always true for the paper broker).
    var liveWalletIsCurrent: Bool { !broker.isLive || walletReadAt.get() == execution.accountChanges.count }

    /// A live account's wallet is the venue's balances: read again whenever an order may have changed them since the
    /// last read (once per run otherwise). Assets the venue no longer lists are set to zero.
    @discardableResult
    func refreshLiveWallet(force: Bool = false) async throws -> Balances? {
        let changes = execution.accountChanges.count
        guard force || walletReadAt.get() != changes else { return nil }
        let balances = try await broker.balances()
        try await sections.write { ledger in
            for (asset, _) in try ledger.balances() where balances.free[asset] == nil { try ledger.setBalance(asset: asset, free: 0) }
            for (asset, free) in balances.free { try ledger.setBalance(asset: asset, free: free) }
        }
        walletReadAt.set(changes)
        return balances
    }

    /// The facts the protections judge. `judged`: whether the protections are evaluated on them — only then are the
    /// venue breaker's new openings marked as counted (facts read for the run's report leave them to the next check).
    @inline(__always)
    func protectionFacts(now: Int64, equity: Money, judged: Bool = true) async throws -> ProtectionFacts {
        let lookback = parameters.protections.losingStreak.lookbackMilliseconds
        return try await sections.write { ledger in
            // A venue circuit breaker that opened since the last check counts as a failure toward the error rate.
            let openings = try ledger.totalBreakerOpenings()
            let seen = try ledger.jobState("venue.breaker_openings_seen").flatMap { Int($0) } ?? 0
            if judged && openings != seen { try ledger.setJobState("venue.breaker_openings_seen", "\(openings)") }
            let peak = max(try ledger.equityPeak() ?? equity, equity)
            let dayStart = try ledger.firstEquity(since: ProtectionEvaluator.utcDayStart(now)) ?? equity
            return ProtectionFacts(now: now, equity: equity, peakEquity: peak, dayStartEquity: dayStart,
                                   stopLossExits: try ledger.stopLossExits(since: max(now - lookback,
                                                                                             (try ledger.jobState("losing_streak.since").flatMap { Int64($0) } ?? 0) + 1)),
                                   consecutiveFailures: try ledger.consecutiveFailedRuns() + max(openings - seen, 0))
        }
    }

    /// The price a market order would trade at now.
    @inline(__always)
    func referencePrice(_ symbol: Symbol, results: SymbolTable<SymbolResult>, now: Int64) async throws -> Price? {
        let price = if let immediate = market.immediate { try? immediate.currentPriceNow(symbol: symbol, timeframe: parameters.timeframe, now: now) }
            else { try? await market.currentPrice(symbol: symbol, timeframe: parameters.timeframe, now: now) }
        if let price, let d = try? Price(double: price), d > 0 {
            return d
        }
        return results[symbol]?.candles.last.flatMap { try? Price(double: $0.close) }
    }

    // MARK: Positions

    /// The rules the planner decides with, from the parameters as they are now.
    var planningRules: PlanningRules {
        return PlanningRules(strategy: parameters.strategy, exits: parameters.exits, limits: parameters.limits, protections: parameters.protections, minConfidence: parameters.minConfidence,
                             llmVetoConfidence: parameters.llmVetoConfidence, quoteAsset: parameters.quoteAsset, detailed: audit)
    }

    /// Exits and adjustments for every active position: `PositionPlanner` decides, this carries the commands out (the
    /// I/O: prices, the account, cancels at the venue, and the writes, each decision with its order in one transaction).
    /// Every non-final state has a way forward: an entry that ended without a fill is closed, an adjustment whose order
    /// is final returns to monitoring, a closing position with nothing left closes and one with something left sells it
    /// again. A position with an order still working places nothing (an exit decided meanwhile first cancels what is
    /// working at the venue).
    func managePositions(runID: RunID, now: Int64, results: SymbolTable<SymbolResult>, lastPrices: SymbolTable<Double>, safe: SafeModeState, blocks: [String: Int64],
                         decisions: inout [Symbol: String], log: Logger) async throws -> (orders: Int, unused: Int) {
        let rules = planningRules
        let execution = execution
        var orders = 0
        let (active, unresolved) = try await sections.read { ledger in (try ledger.activePositions(), try ledger.unresolvedOrders()) }
        var workingByPosition: [Int64: [OrderStatus]] = [:]
        for order in unresolved { if let id = order.positionID { workingByPosition[id, default: []].append(order.status) } }
        positions: for stored in active {
            if interrupt.raised != nil { break }
            let symbol = stored.symbol
            let result = results[symbol]
            let snapshot = PositionSnapshot(position: stored, workingOrders: workingByPosition[stored.id] ?? [], candles: result?.candles ?? [],
                                            signal: result?.signal)
            let commands = try PositionPlanner.plan(snapshot, now: now, safeMode: safe.active, entriesBlocked: !blocks.isEmpty, rules: rules)
            for command in commands {
                switch command {
                case let .transition(position, from, note):
                    try await sections.write { ledger in
                        try ledger.updatePosition(position)
                        try execution.transitionEvent(ledger, runID: runID, now: now, position, from: from, note: note)
                    }
                case let .closeEmpty(closed, from, note):
                    try await storeClosedEmpty(closed, from: from, runID: runID, now: now, note: note)
                case let .retryExit(position):
                    guard let price = try await referencePrice(symbol, results: results, now: now) else { continue positions }
                    orders += 1
                    if audit { decisions[symbol] = "retrying exit (\(position.exitReason?.rawValue ?? "exit"))" }
                    _ = try await execution.place(runID: runID, position: position, side: .sell, purpose: .exit, quantity: position.quantity,
                                                  referencePrice: price, now: now)
                case var .exit(exit):
                    if exit.cancelWorkingFirst {
                        // An entry or add still working at the venue is cancelled first; its answer is applied, and the exit
                        // goes out only once every order of the position is final (this run or the next).
                        guard execution.gate.closedBecause == nil else { continue positions }
                        let cancelled = try await broker.cancelOpenOrders(symbol: symbol)
                        let step = await execution.lotStep(symbol)
                        let positionID = exit.position.id
                        let reloaded = try await sections.write { ledger -> Position? in
                            for report in cancelled { try execution.apply(ledger, report: report, runID: runID, now: now, lotStep: step) }
                            return try ledger.position(id: positionID)
                        }
                        guard let reloaded, reloaded.state == .monitoring else { continue positions }
                        exit.position.quantity = reloaded.quantity
                        exit.position.cost = reloaded.cost
                        exit.position.entryPrice = reloaded.entryPrice
                        exit.position.realizedPnL = reloaded.realizedPnL
                        exit.position.fees = reloaded.fees
                    }
                    let decided = exit
                    guard let price = try await referencePrice(symbol, results: results, now: now) else {
                        // No price to sell at: the decision is kept (CLOSING) and the next run sells.
                        try await sections.write { ledger in
                            try ledger.updatePosition(decided.position)
                            try execution.transitionEvent(ledger, runID: runID, now: now, decided.position, from: decided.from, note: decided.note)
                        }
                        continue positions
                    }
                    if audit { decisions[symbol] = decided.note }
                    orders += 1
                    _ = try await execution.place(runID: runID, positionID: decided.position.id, symbol: symbol, side: .sell, purpose: .exit,
                                                  quantity: decided.position.quantity, referencePrice: price, now: now) { ledger in
                        try ledger.updatePosition(decided.position)
                        try execution.transitionEvent(ledger, runID: runID, now: now, decided.position, from: decided.from, note: decided.note)
                        try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: decided.note,
                                          data: ["decision": "exit", "reason": decided.reason.rawValue])
                        return decided.position
                    }
                    log.info("exit", metadata: ["symbol": "\(symbol)", "reason": "\(decided.reason.rawValue)"])
                case let .adjust(planned):
                    guard let price = try await referencePrice(symbol, results: results, now: now) else {
                        if let note = PositionPlanner.holdNote(planned.held, rules: rules) { decisions[symbol] = note }
                        try await save(planned.held)
                        continue
                    }
                    let account = planned.needsAccount ? try await accountState(runID: runID, prices: lastPrices) : nil
                    switch try PositionPlanner.size(planned, price: price, account: account, rules: rules) {
                    case let .failure(refused):
                        if let note = refused.decision { decisions[symbol] = note }
                        try await save(planned.held)
                    case let .success(sized):
                        if audit { decisions[symbol] = sized.note }
                        orders += 1
                        // The adjustment and its order in one transaction; stops follow the basis when the order is final.
                        _ = try await execution.place(runID: runID, positionID: sized.position.id, symbol: symbol, side: sized.side, purpose: sized.purpose,
                                                      quantity: sized.quantity, referencePrice: price, now: now) { ledger in
                            try ledger.updatePosition(sized.position)
                            try execution.transitionEvent(ledger, runID: runID, now: now, sized.position, from: sized.from, note: sized.note)
                            try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: sized.note, data: ["decision": "adjust"])
                            return sized.position
                        }
                    }
                case let .hold(position, decision):
                    if let decision { decisions[symbol] = decision }
                    try await save(position)
                }
            }
        }
        return (orders, 0)
    }

    /// Stores a record closed with nothing held, with its transition event (the account changes with it).
    func storeClosedEmpty(_ closed: Position, from: PositionState, runID: RunID, now: Int64, note: String) async throws {
        let execution = execution
        execution.accountChanges.bump()
        try await sections.write { ledger in
            try ledger.updatePosition(closed)
            try execution.transitionEvent(ledger, runID: runID, now: now, closed, from: from, note: note)
        }
    }

    @inline(__always)
    func save(_ position: Position) async throws {
        try await sections.write { ledger in try ledger.updatePosition(position) }
    }

    /// New entries for long signals above the confidence gate, within the limits: `EntryPlanner` decides, this carries
    /// the commands out (prices, the account, and the write-ahead of each new position with its entry order).
    func enterPositions(runID: RunID, now: Int64, signals: [Signal], results: SymbolTable<SymbolResult>, lastPrices: SymbolTable<Double>, safe: SafeModeState, reconciled: Bool,
                        blocks: [String: Int64], decisions: inout [Symbol: String], log: Logger) async throws -> Int {
        let rules = planningRules
        let execution = execution
        var orders = 0
        let (activeSymbols, lastExits) = try await sections.read { ledger in
            (Set(try ledger.activePositions().map(\.symbol)), try ledger.lastExitBySymbol())
        }
        let snapshot = EntrySnapshot(signals: signals, activeSymbols: activeSymbols, lastExits: lastExits, safeMode: safe.active,
                                     reconciled: reconciled, blocks: blocks)
        // Decisions that place no order are written together, in one transaction before the next order's (so the events
        // keep their order) and one at the end; a decision with an order is written with the order's intent.
        var skipped: [(symbol: Symbol, why: String, conf: String)] = []
        func skip(_ symbol: Symbol, _ why: String, _ conf: String) {
            if decisions[symbol] == nil { decisions[symbol] = why }
            skipped.append((symbol, why, conf))
        }
        @inline(__always)
        func writeSkipped() async throws {
            guard !skipped.isEmpty else { return }
            let written = skipped
            skipped.removeAll()
            try await sections.write { ledger in
                for s in written {
                    try ledger.record(runID: runID, time: now, kind: .decision, symbol: s.symbol, message: s.why, data: ["decision": "none", "confidence": s.conf])
                }
            }
        }
        do {
            for command in EntryPlanner.plan(snapshot, now: now, rules: rules) {
                if interrupt.raised != nil { break }
                switch command {
                case let .skip(symbol, why, conf):
                    skip(symbol, why, conf)
                case let .consider(signal):
                    let symbol = signal.symbol
                    let conf = audit ? EntryPlanner.confidenceText(signal) : ""
                    guard let analysis = results[symbol]?.snapshot, let price = try await referencePrice(symbol, results: results, now: now) else {
                        if audit { skip(symbol, "no entry: no price", conf) }
                        continue
                    }
                    let account = try await accountState(runID: runID, prices: lastPrices)
                    let entry: PlannedEntry
                    switch try EntryPlanner.order(signal, snapshot: analysis, price: price, account: account, now: now, rules: rules) {
                    case let .failure(refused):
                        if let why = refused.decision { skip(symbol, why, conf) }
                        continue
                    case let .success(planned):
                        entry = planned
                    }
                    if audit { decisions[symbol] = entry.note }
                    orders += 1
                    try await writeSkipped()
                    _ = try await execution.place(runID: runID, positionID: nil, symbol: symbol, side: .buy, purpose: .entry, quantity: entry.quantity,
                                                  referencePrice: price, now: now) { ledger in
                        var inserted = entry.position
                        inserted.id = try ledger.insertPosition(entry.position)
                        try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: entry.note,
                                          data: ["decision": "enter", "confidence": conf, "bound_by": entry.boundBy])
                        try ledger.record(runID: runID, time: now, kind: .transition, symbol: symbol, message: "position \(inserted.id) → OPEN",
                                          data: OrderExecution.transitionData(inserted, from: nil))
                        return inserted
                    }
                    log.info("entry", metadata: ["symbol": "\(symbol)", "confidence": "\(conf)", "quantity": "\(entry.quantity)"])
                }
            }
        } catch {
            // What was decided before the failure is still recorded.
            try? await writeSkipped()
            throw error
        }
        try await writeSkipped()
        return orders
    }
}
