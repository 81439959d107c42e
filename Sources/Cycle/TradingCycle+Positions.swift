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
            let leftovers = try await store.read { try $0.activePositions() }
            if !leftovers.isEmpty {
                // The closure is not finished: hold safe mode until it is.
                return SafeModeState(active: true, until: nil)
            }
            try safeModeLocks.remove()
            try await store.write { ledger in
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
        let active = try await store.read { try $0.activePositions() }
        let until = now + parameters.safeModeCooldownMs
        let lock = SafeModeLock(reason: reason, trigger: trigger, enteredAt: now, until: until, positionsClosed: [],
                                positionsPending: active.map(\.symbol), autoResume: parameters.safeModeAutoResume)
        try safeModeLocks.write(lock)
        try await store.write { ledger in
            try ledger.record(runID: runID, time: now, kind: .safeModeEntered, message: "safe mode until \(lock.until): \(reason)",
                              data: ["trigger": trigger, "until": lock.until])
            try ledger.setJobStatus(.safeMode)
        }
        log.critical("entering safe mode: closing every position", metadata: ["trigger": "\(trigger)", "until": "\(lock.until)"])
        return SafeModeState(active: true, until: until)
    }

    /// Cancels open orders and closes every position; idempotent across runs (leftovers are retried next run).
    /// Nothing is sent in a run whose reconciliation failed: what the venue holds is not known.
    func emergencyClosure(runID: RunID, now: Int64, results: [String: SymbolResult], log: Logger) async throws -> Int {
        let execution = execution
        var orders = 0
        let active = try await store.read { try $0.activePositions() }
        var closed: [String] = [], pending: [String] = []
        for stale in active {
            if interrupt.raised != nil || execution.gate.closedBecause != nil { pending.append(stale.symbol); continue }
            do {
                let cancelled = try await broker.cancelOpenOrders(symbol: stale.symbol)
                let step = await execution.lotStep(stale.symbol)
                let (fresh, working) = try await store.write { ledger -> (Position?, Bool) in
                    for report in cancelled { try execution.apply(ledger, report: report, runID: runID, now: now, lotStep: step) }
                    return (try ledger.position(id: stale.id), try ledger.orders(positionID: stale.id).contains { !$0.status.isFinal })
                }
                guard var position = fresh, position.state != .closed else { closed.append(stale.symbol); continue }
                if working {
                    // An order of it is still unresolved: it is asked first, next run.
                    pending.append(position.symbol)
                    continue
                }
                if position.quantity <= 0 {
                    // Nothing held (an entry never filled, or everything was sold): just close the record.
                    try await closeEmpty(position, otherwise: .safeMode, runID: runID, now: now, note: "closed with nothing held (safe mode)")
                    closed.append(position.symbol)
                    continue
                }
                guard let price = try await referencePrice(position.symbol, results: results, now: now) else {
                    pending.append(position.symbol)
                    continue
                }
                let from = position.state
                if from != .closing {
                    position.state = try PositionLifecycle.next(from: from, on: .beginExit(.safeMode), adjustments: position.adjustments,
                                                                maxAdjustments: parameters.exits.maxAdjustments)
                    position.exitReason = .safeMode
                }
                let decided = position
                orders += 1
                let report = try await execution.place(runID: runID, positionID: decided.id, symbol: decided.symbol, side: .sell,
                                                       purpose: .emergencyClose, quantity: decided.quantity, referencePrice: price, now: now) { ledger in
                    if from != .closing {
                        try ledger.updatePosition(decided)
                        try execution.transitionEvent(ledger, runID: runID, now: now, decided, from: from, note: "emergency closure (safe mode)")
                    }
                    return decided
                }
                if report?.status == .filled { closed.append(position.symbol) } else { pending.append(position.symbol) }
                Failpoint.hit("after-emergency-order")
            } catch {
                pending.append(stale.symbol)
                log.error("emergency closure failed for a position; it will be retried next run", metadata: ["symbol": "\(stale.symbol)", "error": "\(error)"])
                try? await event(runID, now, .emergencyCloseFailed, stale.symbol, "\(error); retried next run")
            }
        }
        if case var .present(lock) = safeModeLocks.read() {
            // From the database, so a closure finished by a later run (after a crash) is reported whole.
            let since = lock.enteredAtMs ?? now
            let closedSince = try await store.read { ledger in
                try ledger.closedPositions(since: since).filter { $0.exitReason == .safeMode }.map(\.symbol)
            }
            lock.positionsClosed = Array(Set(lock.positionsClosed + closed + closedSince)).sorted()
            lock.positionsPending = pending.sorted()
            try safeModeLocks.write(lock)
        }
        if !pending.isEmpty {
            try await event(runID, now, .emergencyClosePending, nil, "safe mode: \(pending.count) position(s) still to close: \(pending.sorted().joined(separator: ", "))")
        }
        return orders
    }

    /// Entry blocks still in force: protection name → until.
    func activeEntryBlocks(now: Int64) async throws -> [String: Int64] {
        try await store.read { ledger in
            var blocks: [String: Int64] = [:]
            for (key, value) in try ledger.jobStates(prefix: "block.") {
                if let until = Int64(value), until > now { blocks[String(key.dropFirst("block.".count))] = until }
            }
            return blocks
        }
    }

    /// The account at this run's prices. Computed again only when an order was placed (or a record closed by hand)
    /// since the last time in the same run: the prices do not change within a run.
    func accountState(runID: RunID, prices: [String: Double]) async throws -> AccountState {
        let changes = execution.accountChanges.count
        if let memo = accountMemo.get(runID: runID, changes: changes) { return memo }
        let account = try await computeAccountState(prices: prices)
        accountMemo.set(account, runID: runID, changes: changes)
        return account
    }

    /// The account from one snapshot: the wallet (for a live venue, its balances read again after this run's orders)
    /// and the open positions at this run's prices. A sell whose outcome is not known yet is counted as sold (its coins
    /// are not valued; the proceeds count once they are in the balances), so equity is never above the account's value.
    func computeAccountState(prices: [String: Double]) async throws -> AccountState {
        let quote = parameters.quoteAsset
        if broker.isLive {
            do {
                try await refreshLiveWallet()
            } catch {
                // The stored wallet stands in; the run records no equity from it (see `liveWalletIsCurrent`).
                logger.warning("the venue's balances could not be read again; the stored wallet is used", metadata: ["error": "\(error)"])
            }
        }
        let live = broker.isLive
        let (balances, positions, unsettledSells) = try await store.read { ledger -> ([String: Money], [Position], [Int64: Quantity]) in
            var sells: [Int64: Quantity] = [:]
            if live {
                for order in try ledger.unresolvedOrders() where order.side == .sell {
                    if let id = order.positionID { sells[id] = try (sells[id] ?? 0) + max(order.quantity - order.filledQuantity, 0) }
                }
            }
            return (try ledger.balances(), try ledger.activePositions(), sells)
        }
        let cash = balances[quote] ?? 0
        var exposure: Money = 0
        for position in positions {
            let price = prices[position.symbol].flatMap { try? Price(double: $0) } ?? position.entryPrice
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
        try await store.write { ledger in
            for (asset, _) in try ledger.balances() where balances.free[asset] == nil { try ledger.setBalance(asset: asset, free: 0) }
            for (asset, free) in balances.free { try ledger.setBalance(asset: asset, free: free) }
        }
        walletReadAt.set(changes)
        return balances
    }

    func protectionFacts(now: Int64, equity: Money) async throws -> ProtectionFacts {
        let lookback = parameters.protections.losingStreak.lookbackMilliseconds
        return try await store.write { ledger in
            // A venue circuit breaker that opened since the last check counts as a failure toward the error rate.
            let openings = try ledger.totalBreakerOpenings()
            let seen = try ledger.jobState("venue.breaker_openings_seen").flatMap { Int($0) } ?? 0
            if openings != seen { try ledger.setJobState("venue.breaker_openings_seen", "\(openings)") }
            let peak = max(try ledger.equityPeak() ?? equity, equity)
            let dayStart = try ledger.firstEquity(since: ProtectionEvaluator.utcDayStart(now)) ?? equity
            return ProtectionFacts(now: now, equity: equity, peakEquity: peak, dayStartEquity: dayStart,
                                   stopLossExits: try ledger.stopLossExits(since: max(now - lookback,
                                                                                             (try ledger.jobState("losing_streak.since").flatMap { Int64($0) } ?? 0) + 1)),
                                   consecutiveFailures: try ledger.consecutiveFailedRuns() + max(openings - seen, 0))
        }
    }

    /// The price a market order would trade at now.
    func referencePrice(_ symbol: String, results: [String: SymbolResult], now: Int64) async throws -> Price? {
        if let price = try? await market.currentPrice(symbol: symbol, timeframe: parameters.timeframe, now: now), let d = try? Price(double: price), d > 0 {
            return d
        }
        return results[symbol]?.candles.last.flatMap { try? Price(double: $0.close) }
    }

    // MARK: Positions

    /// Exits and adjustments for every active position. Every non-final state has a way forward here: an entry that
    /// ended without a fill is closed, an adjustment whose order is final returns to monitoring, a closing position
    /// with nothing left closes and one with something left sells it again. A position with an order still working
    /// places nothing (an exit decided meanwhile first cancels what is working at the venue).
    func managePositions(runID: RunID, now: Int64, results: [String: SymbolResult], lastPrices: [String: Double], safe: SafeModeState, blocks: [String: Int64],
                         decisions: inout [String: String], log: Logger) async throws -> (orders: Int, unused: Int) {
        let p = parameters
        let execution = execution
        var orders = 0
        let (active, unresolved) = try await store.read { ledger in (try ledger.activePositions(), try ledger.unresolvedOrders()) }
        var workingByPosition: [Int64: [OrderRow]] = [:]
        for order in unresolved { if let id = order.positionID { workingByPosition[id, default: []].append(order) } }
        for var position in active {
            if interrupt.raised != nil { break }
            let symbol = position.symbol
            let result = results[symbol]
            let candles = result?.candles ?? []
            if safe.active { continue }  // the emergency closure handles everything
            let working = workingByPosition[position.id] ?? []

            if position.quantity <= 0 {
                // An entry still unresolved waits for reconciliation; one that ended without a fill (a crash before its order
                // was final, an older state) is closed here. A closing position with nothing left closes.
                guard working.isEmpty else { continue }
                try await closeEmpty(position, otherwise: .takeProfit, runID: runID, now: now, note: "nothing held and no order working: closed")
                continue
            }

            // An adjustment whose order is final (its answer was applied by an earlier, interrupted run) is over.
            if position.state == .adjusting && working.isEmpty {
                try await move(&position, on: .finishAdjustment, runID: runID, now: now, note: "adjustment order final")
            }

            // OPEN → MONITORING on the first pass after the entry.
            if position.state == .open {
                try await move(&position, on: .startMonitoring, runID: runID, now: now, note: "monitoring stops and targets")
            }

            // A position left CLOSING (an exit that did not fill, or a remainder above the lot step) sells what it holds.
            if position.state == .closing {
                guard working.isEmpty, let price = try await referencePrice(symbol, results: results, now: now) else { continue }
                orders += 1
                if audit { decisions[symbol] = "retrying exit (\(position.exitReason?.rawValue ?? "exit"))" }
                _ = try await execution.place(runID: runID, position: position, side: .sell, purpose: .exit, quantity: position.quantity,
                                              referencePrice: price, now: now)
                continue
            }
            guard position.state == .monitoring else { continue }

            let check = ExitEvaluator.check(position, candles: candles, signal: result?.signal, now: now, rules: p.exits)
            position = check.position
            if let exit = check.exit {
                if !working.isEmpty {
                    // An entry or add still working at the venue is cancelled first; its answer is applied, and the exit
                    // goes out only once every order of the position is final (this run or the next).
                    guard execution.gate.closedBecause == nil, working.allSatisfy({ $0.status == .new || $0.status == .partiallyFilled }) else { continue }
                    let cancelled = try await broker.cancelOpenOrders(symbol: symbol)
                    let step = await execution.lotStep(symbol)
                    let positionID = position.id
                    let reloaded = try await store.write { ledger -> Position? in
                        for report in cancelled { try execution.apply(ledger, report: report, runID: runID, now: now, lotStep: step) }
                        return try ledger.position(id: positionID)
                    }
                    guard let reloaded, reloaded.state == .monitoring else { continue }
                    position.quantity = reloaded.quantity
                    position.cost = reloaded.cost
                    position.entryPrice = reloaded.entryPrice
                    position.realizedPnL = reloaded.realizedPnL
                    position.fees = reloaded.fees
                }
                let from = position.state
                position.state = try PositionLifecycle.next(from: from, on: .beginExit(exit.reason), adjustments: position.adjustments,
                                                            maxAdjustments: p.exits.maxAdjustments)
                position.exitReason = exit.reason
                let snapshot = position
                let note = !audit ? "" : "exit: \(exit.reason.rawValue)" + (exit.level.map { " at level \($0)" } ?? "") + " on candle \(Timestamp.rfc3339(exit.candleTime))"
                guard let price = try await referencePrice(symbol, results: results, now: now) else {
                    // No price to sell at: the decision is kept (CLOSING) and the next run sells.
                    try await store.write { ledger in
                        try ledger.updatePosition(snapshot)
                        try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
                    }
                    continue
                }
                if audit { decisions[symbol] = note }
                orders += 1
                _ = try await execution.place(runID: runID, positionID: snapshot.id, symbol: symbol, side: .sell, purpose: .exit,
                                              quantity: snapshot.quantity, referencePrice: price, now: now) { ledger in
                    try ledger.updatePosition(snapshot)
                    try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
                    try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: note, data: ["decision": "exit", "reason": exit.reason.rawValue])
                    return snapshot
                }
                log.info("exit", metadata: ["symbol": "\(symbol)", "reason": "\(exit.reason.rawValue)"])
                continue
            }

            // Adjustments (the reference strategy makes none; none while an order of the position is working).
            let addsAllowed = blocks.isEmpty
            if p.strategy != .scoring || !working.isEmpty {
                try await save(position)
                continue
            }
            if let last = candles.last,
               let adjustment = AdjustmentRules.decide(position, lastClose: last.close, signal: result?.signal, minConfidence: p.minConfidence,
                                                       rules: p.exits, addsAllowed: addsAllowed),
               let price = try await referencePrice(symbol, results: results, now: now) {
                var side = OrderSide.buy, purpose = OrderPurpose.add, quantity: Quantity = 0, why = ""
                switch adjustment {
                case let .add(q, reason):
                    let account = try await accountState(runID: runID, prices: lastPrices)
                    let sizing = PositionSizer.add(requestedQuantity: q, price: price, positionValue: try price.times(position.quantity, .halfEven), account: account, limits: p.limits)
                    guard let sized = sizing.quantity else {
                        if case let .none(reason) = sizing { if audit { decisions[symbol] = "hold (add refused: \(reason))" } }
                        try await save(position)
                        continue
                    }
                    quantity = sized
                    why = reason
                case let .partialTakeProfit(q, reason):
                    side = .sell
                    purpose = .partialTakeProfit
                    quantity = q
                    why = reason
                }
                let from = position.state
                position.state = try PositionLifecycle.next(from: from, on: .beginAdjustment, adjustments: position.adjustments, maxAdjustments: p.exits.maxAdjustments)
                position.adjustments += 1
                let snapshot = position
                let note = !audit ? "" : "adjustment \(position.adjustments)/\(p.exits.maxAdjustments): \(purpose.rawValue) \(quantity) — \(why)"
                if audit { decisions[symbol] = note }
                orders += 1
                // The adjustment and its order in one transaction; stops follow the basis when the order is final.
                _ = try await execution.place(runID: runID, positionID: snapshot.id, symbol: symbol, side: side, purpose: purpose, quantity: quantity,
                                              referencePrice: price, now: now) { ledger in
                    try ledger.updatePosition(snapshot)
                    try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
                    try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: note, data: ["decision": "adjust"])
                    return snapshot
                }
                continue
            }
            if audit { decisions[symbol] = "hold position (\(position.state.rawValue.lowercased()))" }
            try await save(position)
        }
        return (orders, 0)
    }

    /// Closes a position that holds nothing and has no order working, through the lifecycle: an entry that never filled
    /// as `entry_failed`; any other state by an exit (its own reason, else `otherwise`: everything was sold by an
    /// adjustment, or safe mode closes it).
    func closeEmpty(_ position: Position, otherwise: ExitReason, runID: RunID, now: Int64, note: String) async throws {
        var p = position
        let from = p.state
        let max = parameters.exits.maxAdjustments
        switch from {
        case .open:
            p.state = try PositionLifecycle.next(from: .open, on: .entryFailed, adjustments: p.adjustments, maxAdjustments: max)
            p.exitReason = .entryFailed
        case .monitoring, .adjusting:
            let reason = p.exitReason ?? otherwise
            let closing = try PositionLifecycle.next(from: from, on: .beginExit(reason), adjustments: p.adjustments, maxAdjustments: max)
            p.state = try PositionLifecycle.next(from: closing, on: .exitFilled, adjustments: p.adjustments, maxAdjustments: max)
            p.exitReason = reason
        case .closing:
            p.state = try PositionLifecycle.next(from: .closing, on: .exitFilled, adjustments: p.adjustments, maxAdjustments: max)
        case .closed:
            return
        }
        p.closedAt = now
        let snapshot = p
        let execution = execution
        execution.accountChanges.bump()
        try await store.write { ledger in
            try ledger.updatePosition(snapshot)
            try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
        }
    }

    /// Moves `position` through the lifecycle on `event` and stores it with its transition event (one transaction).
    func move(_ position: inout Position, on event: LifecycleEvent, runID: RunID, now: Int64, note: String) async throws {
        let from = position.state
        position.state = try PositionLifecycle.next(from: from, on: event, adjustments: position.adjustments,
                                                    maxAdjustments: parameters.exits.maxAdjustments)
        let snapshot = position
        let execution = execution
        try await store.write { ledger in
            try ledger.updatePosition(snapshot)
            try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
        }
    }

    func save(_ position: Position) async throws {
        try await store.write { ledger in try ledger.updatePosition(position) }
    }

    /// New entries for long signals above the confidence gate, within the limits.
    func enterPositions(runID: RunID, now: Int64, signals: [Signal], results: [String: SymbolResult], lastPrices: [String: Double], safe: SafeModeState, reconciled: Bool,
                        blocks: [String: Int64], decisions: inout [String: String], log: Logger) async throws -> Int {
        let p = parameters
        let execution = execution
        var orders = 0
        let (activeSymbols, lastExits) = try await store.read { ledger in
            (Set(try ledger.activePositions().map(\.symbol)), try ledger.lastExitBySymbol())
        }
        // Strongest signals first, so the limits favour them.
        for signal in signals.sorted(by: { $0.confidence > $1.confidence || ($0.confidence == $1.confidence && $0.symbol < $1.symbol) }) {
            if interrupt.raised != nil { break }
            let symbol = signal.symbol
            let conf = audit ? String(format: "%.3f", signal.confidence) : ""
            func skip(_ why: @autoclosure () -> String) async throws {
                guard audit else { return }
                let why = why()
                if decisions[symbol] == nil { decisions[symbol] = why }
                try await store.write { ledger in
                    try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: why, data: ["decision": "none", "confidence": conf])
                }
            }
            if activeSymbols.contains(symbol) { continue }
            guard signal.direction == .long else { try await skip("no entry: signal flat (confidence \(conf))"); continue }
            guard signal.confidence > p.minConfidence else {
                try await skip("no entry: confidence \(conf) not above min_confidence \(p.minConfidence)")
                continue
            }
            if let opinion = signal.opinion, opinion.action == .sell, opinion.confidence >= p.llmVetoConfidence {
                try await skip("no entry: vetoed by the models' sell opinion (confidence \(String(format: "%.2f", opinion.confidence)))")
                continue
            }
            if safe.active { try await skip("no entry: safe mode (confidence \(conf))"); continue }
            if !reconciled { try await skip("no entry: reconciliation failed this run"); continue }
            if let (name, until) = blocks.min(by: { $0.key < $1.key }) {
                try await skip("no entry: protection \(name) blocks entries until \(Timestamp.rfc3339(until)) (confidence \(conf))")
                continue
            }
            if ProtectionEvaluator.symbolCoolingDown(lastExit: lastExits[symbol], now: now, rules: p.protections) {
                try await skip("no entry: symbol cooldown after the exit at \(Timestamp.rfc3339(lastExits[symbol] ?? now))")
                continue
            }
            guard let snapshot = results[symbol]?.snapshot, let price = try await referencePrice(symbol, results: results, now: now) else {
                try await skip("no entry: no price")
                continue
            }
            let account = try await accountState(runID: runID, prices: lastPrices)
            let sizing: SizingDecision
            if case let .smaCross(_, _, fixed) = p.strategy {
                let notional = try price.times(fixed, .halfEven)
                sizing = try notional <= account.cash.divided(by: Fixed.one + p.limits.costRate, .down)
                    ? .order(quantity: fixed, notional: notional, boundBy: "fixed_quantity") : .none(reason: "cash: cannot pay for the fixed quantity")
            } else {
                sizing = PositionSizer.entry(price: price, atr: snapshot.atr, account: account, limits: p.limits)
            }
            guard case let .order(quantity, notional, boundBy) = sizing else {
                if case let .none(reason) = sizing { try await skip("no entry (confidence \(conf)): \(reason)") }
                continue
            }
            // Write-ahead: the position and its entry order are committed in one transaction before the request; stops and
            // targets are set again from the fill price when the order is final.
            var position = Position(id: 0, symbol: symbol, state: .open, quantity: 0, entryPrice: price, initialEntryPrice: price, cost: 0,
                                    stopPrice: nil, takeProfitPrice: nil, highestPrice: nil, atrAtEntry: snapshot.atr.isFinite ? snapshot.atr : 0, adjustments: 0,
                                    partialTakeProfitDone: false, openedAt: now, lastCheckedCandle: snapshot.candleTime)
            if p.strategy == .scoring {
                if let levels = try? p.exits.levels(for: position) {
                    position.stopPrice = levels.stop
                    position.takeProfitPrice = levels.takeProfit
                }
            }
            let note = !audit ? "" : "enter: confidence \(conf) > \(p.minConfidence); \(quantity) ≈ \(notional.text(decimals: 2)) \(p.quoteAsset) (bound by \(boundBy))"
            let draft = position
            if audit { decisions[symbol] = note }
            orders += 1
            _ = try await execution.place(runID: runID, positionID: nil, symbol: symbol, side: .buy, purpose: .entry, quantity: quantity,
                                          referencePrice: price, now: now) { ledger in
                var inserted = draft
                inserted.id = try ledger.insertPosition(draft)
                try ledger.record(runID: runID, time: now, kind: .decision, symbol: symbol, message: note,
                                  data: ["decision": "enter", "confidence": conf, "bound_by": boundBy])
                try ledger.record(runID: runID, time: now, kind: .transition, symbol: symbol, message: "position \(inserted.id) → OPEN",
                                  data: OrderExecution.transitionData(inserted, from: nil))
                return inserted
            }
            log.info("entry", metadata: ["symbol": "\(symbol)", "confidence": "\(conf)", "quantity": "\(quantity)"])
        }
        return orders
    }
}
