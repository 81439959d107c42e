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

    func safeModeStatus(runID: Int64, now: Int64, log: Logger) async throws -> SafeModeState {
        switch safeModeLocks.read() {
        case .absent:
            return SafeModeState(active: false, until: nil)
        case let .unreadable(why):
            log.critical("safe-mode lock unreadable: staying in safe mode (fail closed); \(SafeModeLock.clearHint)", metadata: ["problem": "\(why)"])
            try await event(runID, now, "safe_mode_lock_unreadable", nil, "\(why); staying in safe mode (fail closed); \(SafeModeLock.clearHint)")
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
                try ledger.record(runID: runID, time: now, kind: "safe_mode_exited",
                                  message: "safe mode ended (cooldown until \(lock.until) passed; auto_resume)", data: ["trigger": lock.trigger])
                try ledger.setJobState("job.state", "RUNNING")
                // The drawdown protection measures from a fresh peak after safe mode (else it would trip again at once).
                try ledger.setEquityPeak(nil)
            }
            log.notice("safe mode ended: cooldown passed, resuming", metadata: ["until": "\(lock.until)"])
            return SafeModeState(active: false, until: nil)
        }
    }

    /// Writes the lockfile and records the entry; the closure itself follows in `emergencyClosure`.
    func enterSafeMode(runID: Int64, now: Int64, reason: String, trigger: String, log: Logger) async throws -> SafeModeState {
        let active = try await store.read { try $0.activePositions() }
        let until = now + parameters.safeModeCooldownMs
        let lock = SafeModeLock(reason: reason, trigger: trigger, enteredAt: now, until: until, positionsClosed: [],
                                positionsPending: active.map(\.symbol), autoResume: parameters.safeModeAutoResume)
        try safeModeLocks.write(lock)
        try await store.write { ledger in
            try ledger.record(runID: runID, time: now, kind: "safe_mode_entered", message: "safe mode until \(lock.until): \(reason)",
                              data: ["trigger": trigger, "until": lock.until])
            try ledger.setJobState("job.state", "SAFE_MODE")
        }
        log.critical("entering safe mode: closing every position", metadata: ["trigger": "\(trigger)", "until": "\(lock.until)"])
        return SafeModeState(active: true, until: until)
    }

    /// Cancels open orders and closes every position; idempotent across runs (leftovers are retried next run).
    func emergencyClosure(runID: Int64, now: Int64, results: [String: SymbolResult], log: Logger) async throws -> Int {
        var orders = 0
        let active = try await store.read { try $0.activePositions() }
        var closed: [String] = [], pending: [String] = []
        for var position in active {
            if interrupt.raised != nil { pending.append(position.symbol); continue }
            do {
                _ = try await broker.cancelOpenOrders(symbol: position.symbol)
                if position.quantity <= 0 {
                    // Nothing held (an entry never filled): just close the record.
                    position.state = .closed
                    position.closedAt = now
                    position.exitReason = position.exitReason ?? .safeMode
                    execution.accountChanges.bump()
                    let p = position
                    try await store.write { ledger in try ledger.updatePosition(p) }
                    closed.append(position.symbol)
                    continue
                }
                if position.state != .closing {
                    let from = position.state
                    position.state = try PositionLifecycle.next(from: from, on: .beginExit(.safeMode), adjustments: position.adjustments,
                                                                maxAdjustments: parameters.exits.maxAdjustments)
                    position.exitReason = .safeMode
                    let p = position
                    try await store.write { ledger in
                        try ledger.updatePosition(p)
                        try execution.transitionEvent(ledger, runID: runID, now: now, p, from: from, note: "emergency closure (safe mode)")
                    }
                }
                guard let price = try await referencePrice(position.symbol, results: results, now: now) else {
                    pending.append(position.symbol)
                    continue
                }
                orders += 1
                let report = try await execution.place(runID: runID, position: position, side: .sell, purpose: .emergencyClose,
                                                       quantity: position.quantity, referencePrice: price, now: now)
                if report?.status == .filled { closed.append(position.symbol) } else { pending.append(position.symbol) }
                Failpoint.hit("after-emergency-order")
            } catch {
                pending.append(position.symbol)
                log.error("emergency closure failed for a position; it will be retried next run", metadata: ["symbol": "\(position.symbol)", "error": "\(error)"])
                try? await event(runID, now, "emergency_close_failed", position.symbol, "\(error); retried next run")
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
            try await event(runID, now, "emergency_close_pending", nil, "safe mode: \(pending.count) position(s) still to close: \(pending.sorted().joined(separator: ", "))")
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
    func accountState(runID: Int64, prices: [String: Double]) async throws -> AccountState {
        let changes = execution.accountChanges.count
        if let memo = accountMemo.get(runID: runID, changes: changes) { return memo }
        let account = try await computeAccountState(prices: prices)
        accountMemo.set(account, runID: runID, changes: changes)
        return account
    }

    func computeAccountState(prices: [String: Double]) async throws -> AccountState {
        let quote = parameters.quoteAsset
        let (balances, positions) = try await store.read { ledger in (try ledger.balances(), try ledger.activePositions()) }
        let cash = balances[quote] ?? 0
        var exposure: Decimal = 0
        for position in positions {
            let price = prices[position.symbol].flatMap(Money.decimal) ?? position.entryPrice
            exposure += position.quantity * price
        }
        exposure = Money.round(exposure, scale: 8)
        return AccountState(equity: cash + exposure, cash: cash, exposure: exposure, openPositions: positions.count)
    }

    func protectionFacts(now: Int64, equity: Decimal) async throws -> ProtectionFacts {
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
    func referencePrice(_ symbol: String, results: [String: SymbolResult], now: Int64) async throws -> Decimal? {
        if let price = try? await market.currentPrice(symbol: symbol, timeframe: parameters.timeframe, now: now), let d = Money.decimal(price), d > 0 {
            return d
        }
        return results[symbol]?.candles.last.flatMap { Money.decimal($0.close) }
    }

    // MARK: Positions

    /// Exits and adjustments for every active position.
    func managePositions(runID: Int64, now: Int64, results: [String: SymbolResult], lastPrices: [String: Double], safe: SafeModeState, blocks: [String: Int64],
                         decisions: inout [String: String], log: Logger) async throws -> (orders: Int, unused: Int) {
        let p = parameters
        var orders = 0
        let active = try await store.read { try $0.activePositions() }
        for var position in active {
            if interrupt.raised != nil { break }
            let symbol = position.symbol
            let result = results[symbol]
            let candles = result?.candles ?? []
            if safe.active { continue }  // the emergency closure handles everything

            // An entry that never filled (its order is still unresolved) is left to reconciliation.
            if position.quantity <= 0 { continue }

            // OPEN → MONITORING on the first pass after the entry.
            if position.state == .open {
                let from = position.state
                position.state = try PositionLifecycle.next(from: .open, on: .startMonitoring, adjustments: position.adjustments, maxAdjustments: p.exits.maxAdjustments)
                let snapshot = position
                try await store.write { ledger in
                    try ledger.updatePosition(snapshot)
                    try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: "monitoring stops and targets")
                }
            }

            // A position left CLOSING (an exit that did not fill) retries its exit.
            if position.state == .closing {
                guard let price = try await referencePrice(symbol, results: results, now: now) else { continue }
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
                let from = position.state
                position.state = try PositionLifecycle.next(from: from, on: .beginExit(exit.reason), adjustments: position.adjustments,
                                                            maxAdjustments: p.exits.maxAdjustments)
                position.exitReason = exit.reason
                let snapshot = position
                let note = !audit ? "" : "exit: \(exit.reason.rawValue)" + (exit.level.map { " at level \(Money.text(Money.round($0, scale: 8)))" } ?? "") + " on candle \(Timestamp.rfc3339(exit.candleTime))"
                try await store.write { ledger in
                    try ledger.updatePosition(snapshot)
                    try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
                    try ledger.record(runID: runID, time: now, kind: "decision", symbol: symbol, message: note, data: ["decision": "exit", "reason": exit.reason.rawValue])
                }
                if audit { decisions[symbol] = note }
                guard let price = try await referencePrice(symbol, results: results, now: now) else { continue }
                orders += 1
                _ = try await execution.place(runID: runID, position: position, side: .sell, purpose: .exit, quantity: position.quantity,
                                              referencePrice: price, now: now)
                log.info("exit", metadata: ["symbol": "\(symbol)", "reason": "\(exit.reason.rawValue)"])
                continue
            }

            // Adjustments (the reference strategy makes none).
            let addsAllowed = blocks.isEmpty
            if p.strategy != .scoring {
                try await save(position)
                continue
            }
            if let last = candles.last,
               let adjustment = AdjustmentRules.decide(position, lastClose: last.close, signal: result?.signal, minConfidence: p.minConfidence,
                                                       rules: p.exits, addsAllowed: addsAllowed),
               let price = try await referencePrice(symbol, results: results, now: now) {
                var side = OrderSide.buy, purpose = OrderPurpose.add, quantity: Decimal = 0, why = ""
                switch adjustment {
                case let .add(q, reason):
                    let account = try await accountState(runID: runID, prices: lastPrices)
                    let sizing = PositionSizer.add(requestedQuantity: q, price: price, positionValue: position.quantity * price, account: account, limits: p.limits)
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
                let note = !audit ? "" : "adjustment \(position.adjustments)/\(p.exits.maxAdjustments): \(purpose.rawValue) \(Money.text(quantity)) — \(why)"
                try await store.write { ledger in
                    try ledger.updatePosition(snapshot)
                    try execution.transitionEvent(ledger, runID: runID, now: now, snapshot, from: from, note: note)
                    try ledger.record(runID: runID, time: now, kind: "decision", symbol: symbol, message: note, data: ["decision": "adjust"])
                }
                if audit { decisions[symbol] = note }
                orders += 1
                _ = try await execution.place(runID: runID, position: position, side: side, purpose: purpose, quantity: quantity,
                                              referencePrice: price, now: now)
                // Stops follow the basis after an adjustment.
                try await store.write { ledger in
                    if var updated = try ledger.position(id: snapshot.id) {
                        let levels = p.exits.levels(for: updated)
                        updated.stopPrice = levels.stop
                        updated.takeProfitPrice = levels.takeProfit
                        try ledger.updatePosition(updated)
                    }
                }
                continue
            }
            if audit { decisions[symbol] = "hold position (\(position.state.rawValue.lowercased()))" }
            try await save(position)
        }
        return (orders, 0)
    }

    func save(_ position: Position) async throws {
        try await store.write { ledger in try ledger.updatePosition(position) }
    }

    /// New entries for long signals above the confidence gate, within the limits.
    func enterPositions(runID: Int64, now: Int64, signals: [Signal], results: [String: SymbolResult], lastPrices: [String: Double], safe: SafeModeState, reconciled: Bool,
                        blocks: [String: Int64], decisions: inout [String: String], log: Logger) async throws -> Int {
        let p = parameters
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
                    try ledger.record(runID: runID, time: now, kind: "decision", symbol: symbol, message: why, data: ["decision": "none", "confidence": conf])
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
                sizing = fixed * price <= account.cash / (1 + p.limits.costRate)
                    ? .order(quantity: fixed, notional: fixed * price, boundBy: "fixed_quantity") : .none(reason: "cash: cannot pay for the fixed quantity")
            } else {
                sizing = PositionSizer.entry(price: price, atr: snapshot.atr, account: account, limits: p.limits)
            }
            guard case let .order(quantity, notional, boundBy) = sizing else {
                if case let .none(reason) = sizing { try await skip("no entry (confidence \(conf)): \(reason)") }
                continue
            }
            // Write-ahead: the position and its entry order are committed before the request.
            var position = Position(id: 0, symbol: symbol, state: .open, quantity: 0, entryPrice: price, initialEntryPrice: price, cost: 0,
                                    stopPrice: nil, takeProfitPrice: nil, highestPrice: nil, atrAtEntry: snapshot.atr.isFinite ? snapshot.atr : 0, adjustments: 0,
                                    partialTakeProfitDone: false, openedAt: now, lastCheckedCandle: snapshot.candleTime)
            let usesStops = p.strategy == .scoring
            if usesStops {
                let levels = p.exits.levels(for: position)
                position.stopPrice = levels.stop
                position.takeProfitPrice = levels.takeProfit
            }
            let note = !audit ? "" : "enter: confidence \(conf) > \(p.minConfidence); \(Money.text(quantity)) ≈ \(Money.text(Money.round(notional, scale: 2))) \(p.quoteAsset) (bound by \(boundBy))"
            let draft = position
            position.id = try await store.write { ledger in
                let id = try ledger.insertPosition(draft)
                try ledger.record(runID: runID, time: now, kind: "decision", symbol: symbol, message: note,
                                  data: ["decision": "enter", "confidence": conf, "bound_by": boundBy])
                try ledger.record(runID: runID, time: now, kind: "transition", symbol: symbol, message: "position \(id) → OPEN",
                                  data: ["position_id": "\(id)", "to": "OPEN"])
                return id
            }
            if audit { decisions[symbol] = note }
            orders += 1
            let report = try await execution.place(runID: runID, position: position, side: .buy, purpose: .entry, quantity: quantity,
                                                   referencePrice: price, now: now)
            // Stops from the actual fill price.
            if report?.status == .filled, usesStops {
                let positionID = position.id
                try await store.write { ledger in
                    if var filled = try ledger.position(id: positionID) {
                        let levels = p.exits.levels(for: filled)
                        filled.stopPrice = levels.stop
                        filled.takeProfitPrice = levels.takeProfit
                        filled.highestPrice = filled.entryPrice
                        try ledger.updatePosition(filled)
                    }
                }
            }
            log.info("entry", metadata: ["symbol": "\(symbol)", "confidence": "\(conf)", "quantity": "\(Money.text(quantity))"])
        }
        return orders
    }
}
