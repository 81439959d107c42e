import Foundation
import Logging
import Synchronization
import Brokers
import Storage
import TradingDomain

/// Sends orders exactly once and moves positions on from the venue's answers.
///
/// The rules it keeps, whatever crashes or faults come between two steps:
/// - **Write-ahead, with the decision.** A decision's state change (a new position, an exit, an adjustment) and its
///   order, `PENDING_SUBMIT` with a deterministic client order id (position, leg, attempt), are committed in one
///   transaction before the request. A crash leaves either neither or both, and the next run resolves the order.
/// - **One working order per position.** No order is written for a position while any of its orders is not final
///   (`PENDING_SUBMIT`, `UNKNOWN`, `NEW`, `PARTIALLY_FILLED`); and none at all once the run's reconciliation failed.
/// - **Unknown outcomes are asked, never re-sent.** An order the venue does not know is taken as never placed only
///   after the venue's booking window (`Broker.bookingWindowMs`) has passed since its sender was gone.
/// - **A position closes only when all of its orders are final** and what it holds is below the venue's lot step
///   (dust, recorded with its asset and quantity). A fill that arrives for a closed position re-opens it to sell.
final class OrderExecution: Sendable {
    /// Bumped by every order placed (and by the cycle when it closes a record by hand), so that a run knows when the
    /// account it computed may have changed.
    final class AccountChanges: Sendable {
        private let changes = Atomic<Int>(0)
        func bump() { changes.wrappingAdd(1, ordering: .acquiringAndReleasing) }
        var count: Int { changes.load(ordering: .acquiring) }
    }

    /// Closed once the run's reconciliation failed: from then on the run sends no order at all.
    final class OrderGate: Sendable {
        private let why = Mutex<String?>(nil)
        func close(_ reason: String) { why.withLock { if $0 == nil { $0 = reason } } }
        var closedBecause: String? { why.withLock { $0 } }
    }

    /// Why `place` wrote and sent nothing.
    struct NotSent: Error, CustomStringConvertible {
        let description: String
    }

    let accountChanges = AccountChanges()
    let gate = OrderGate()
    let store: any StateStore
    /// `store`'s sections, called directly when it is in memory.
    let sections: StateSections
    let broker: any Broker
    let quoteAsset: String
    let maxAdjustments: Int
    /// Stop and target for a position after an entry or adjustment filled (nil: the strategy uses none).
    let levels: (@Sendable (Position) throws(FixedPointError) -> (stop: Price, takeProfit: Price)?)?
    let logger: Logger

    init(store: any StateStore, broker: any Broker, quoteAsset: String, maxAdjustments: Int,
         levels: (@Sendable (Position) throws(FixedPointError) -> (stop: Price, takeProfit: Price)?)? = nil, logger: Logger) {
        self.store = store
        sections = StateSections(store)
        self.broker = broker
        self.quoteAsset = quoteAsset
        self.maxAdjustments = maxAdjustments
        self.levels = levels
        self.logger = logger
    }

    convenience init(database: StateDatabase, broker: any Broker, quoteAsset: String, maxAdjustments: Int, logger: Logger) {
        self.init(store: database.store, broker: broker, quoteAsset: quoteAsset, maxAdjustments: maxAdjustments, logger: logger)
    }

    /// Places a market order for `position` as it is stored (no state change with it).
    func place(runID: RunID, position: Position, side: OrderSide, purpose: OrderPurpose, quantity: Quantity,
               referencePrice: Price, now: Int64) async throws -> OrderReport? {
        try await place(runID: runID, positionID: position.id, symbol: position.symbol, side: side, purpose: purpose, quantity: quantity,
                        referencePrice: referencePrice, now: now) { _ in position }
    }

    /// Commits `decision` (the decision's state change; it returns the position the order is for) together with the
    /// order's write-ahead row, then sends the order and applies the answer. Returns the order's report when the venue
    /// answered; nil when the outcome is unknown or nothing was sent (then `decision` was not applied either).
    ///
    /// - Parameter positionID: the position's id, or nil for a new position that `decision` inserts.
    func place(runID: RunID, positionID: Int64?, symbol: Symbol, side: OrderSide, purpose: OrderPurpose, quantity: Quantity,
               referencePrice: Price, now: Int64, decision: @escaping @Sendable (any Ledger) throws -> Position) async throws -> OrderReport? {
        let written: (id: ClientOrderID, position: Position)
        do {
            if let why = gate.closedBecause { throw NotSent(description: why) }
            written = try await sections.write { ledger in
                if let positionID, let working = try ledger.workingOrder(positionID: positionID, excluding: nil) {
                    throw NotSent(description: "order \(working.clientOrderID) of this position is still \(working.status.rawValue)")
                }
                let position = try decision(ledger)
                let leg = purpose == .add || purpose == .partialTakeProfit ? position.adjustments : 0
                let attempt = (try ledger.lastAttempt(positionID: position.id, purpose: purpose, leg: leg) ?? 0) + 1
                let id = ClientOrderID.make(positionID: position.id, purpose: purpose, leg: leg, attempt: attempt)
                try ledger.insertPendingOrder(clientOrderID: id, runID: runID, positionID: position.id, symbol: position.symbol, side: side,
                                              purpose: purpose, leg: leg, attempt: attempt, quantity: quantity, referencePrice: referencePrice, now: now)
                try ledger.record(runID: runID, time: now, kind: .orderPending, symbol: position.symbol,
                                  message: "\(purpose.rawValue) \(side.rawValue) \(quantity) \(position.symbol) as \(id)",
                                  data: ["client_order_id": id.rawValue, "position_id": "\(position.id)"])
                return (id, position)
            }
        } catch let notSent as NotSent {
            logger.warning("order not sent", metadata: ["run_id": "\(runID)", "symbol": "\(symbol)", "purpose": "\(purpose.rawValue)",
                                                        "reason": "\(notSent.description)"])
            try await sections.write { ledger in
                try ledger.record(runID: runID, time: now, kind: .orderNotSent, symbol: symbol,
                                  message: "\(purpose.rawValue) \(side.rawValue) not sent: \(notSent.description)")
            }
            return nil
        }
        accountChanges.bump()
        Failpoint.hit("after-write-ahead")
        let clientOrderID = written.id
        let request = OrderRequest(clientOrderID: clientOrderID, symbol: symbol, side: side, quantity: quantity, referencePrice: referencePrice)
        let outcome: SubmitOutcome
        do {
            outcome = try await broker.submit(request, now: now)
        } catch {
            outcome = .unknown("\(error)")
        }
        Failpoint.hit("after-submit")
        var log = logger
        if log.logLevel <= .warning {  // the metadata only for a logger that writes these (backtests log nothing)
            log[metadataKey: "run_id"] = "\(runID)"
            log[metadataKey: "symbol"] = "\(symbol)"
            log[metadataKey: "order_id"] = "\(clientOrderID)"
        }
        switch outcome {
        case let .answered(report):
            let step = await lotStep(symbol)
            _ = try await sections.write { ledger in try apply(ledger, report: report, runID: runID, now: now, lotStep: step) }
            log.info("order \(report.status.rawValue.lowercased())", metadata: ["purpose": "\(purpose.rawValue)", "side": "\(side.rawValue)",
                                                                             "quantity": "\(quantity)"])
            return report
        case let .unknown(message):
            log.warning("order outcome unknown; it will be queried before anything is resent", metadata: ["error": "\(message)"])
            try await sections.write { ledger in
                try ledger.updateOrder(clientOrderID: clientOrderID, status: .unknown, venueOrderID: nil, filledQuantity: nil, averagePrice: nil,
                                       reason: message, now: now)
                try ledger.record(runID: runID, time: now, kind: .orderUnknown, symbol: symbol,
                                  message: "\(clientOrderID): outcome unknown (\(message)); it will be queried before anything is resent",
                                  data: ["client_order_id": clientOrderID.rawValue])
            }
            return nil
        }
    }

    /// The venue's lot step for `symbol` (nil when it cannot be learned now: then no remainder counts as dust).
    @inline(__always)
    func lotStep(_ symbol: Symbol) async -> Quantity? {
        await broker.lotStep(symbol: symbol)
    }

    /// Resolves every order whose outcome is not final by asking the venue (step 0 of a cycle). Returns the
    /// number of orders still unresolved (unknown or open) afterwards.
    @inline(__always)
    func resolveUnresolved(runID: RunID, now: Int64) async throws -> (unresolved: Int, fills: Int) {
        let pending = try await sections.read { try $0.unresolvedOrders() }
        var stillOpen = 0
        var newFills = 0
        let window = broker.bookingWindowMs
        for order in pending {
            let outcome = try await broker.query(clientOrderID: order.clientOrderID, symbol: order.symbol)
            let report: OrderReport
            switch outcome {
            case let .found(found):
                report = found
                if !found.status.isFinal { stillOpen += 1 }
            case .notFound:
                // The process that may have sent it was gone when the next run started; the venue books nothing whose
                // timestamp is older than its window. Until then the order may still appear: keep asking.
                let senderGoneAt = try await sections.read { try $0.runStarted(after: order.runID) } ?? now
                if window > 0 && now - senderGoneAt < window {
                    stillOpen += 1
                    continue
                }
                report = OrderReport(clientOrderID: order.clientOrderID, status: .rejected,
                                     reason: "the venue has no such order: it was never placed")
            }
            let step = await lotStep(order.symbol)
            newFills += try await sections.write { ledger in try apply(ledger, report: report, runID: runID, now: now, lotStep: step) }
        }
        return (stillOpen, newFills)
    }

    /// Applies a venue report to the order, its fills and its position, in the caller's transaction. Returns new fills.
    @discardableResult
    func apply(_ ledger: any Ledger, report: OrderReport, runID: RunID, now: Int64, lotStep: Quantity?) throws -> Int {
        guard let order = try ledger.order(clientOrderID: report.clientOrderID) else {
            try ledger.record(runID: runID, time: now, kind: .unexplainedOrder, message: "venue reports \(report.clientOrderID), unknown to the database")
            return 0
        }
        var position = try order.positionID.flatMap { try ledger.position(id: $0) }
        let wasClosed = position?.state == .closed
        var newFills = 0
        for fill in report.fills where try ledger.insertFill(fill, runID: runID) {
            newFills += 1
            if fill.side == .buy { try position?.applyBuy(fill, quoteAsset: quoteAsset) } else { try position?.applySell(fill, quoteAsset: quoteAsset) }
            try ledger.record(runID: runID, time: now, kind: .fill, symbol: fill.symbol,
                              message: "\(order.purpose.rawValue) \(fill.side.rawValue) \(fill.quantity) @ \(fill.price) fee \(fill.fee) \(fill.feeAsset)",
                              data: ["client_order_id": fill.clientOrderID.rawValue, "trade_id": fill.tradeID.rawValue, "purpose": order.purpose.rawValue])
        }
        let all = try ledger.fills(clientOrderID: order.clientOrderID)
        let filled = try all.totalQuantity()
        let average = try all.averagePrice()
        // The status moves only as `OrderStatusTransitions` allows: a report that would move it backwards (a stale
        // answer after a newer one) keeps the stored status, and the refused move is recorded. Its fills count all the same.
        var status = report.status
        if !OrderStatusTransitions.allows(from: order.status, to: report.status) {
            let refused = IllegalOrderStatusMove(clientOrderID: order.clientOrderID, from: order.status, to: report.status)
            logger.warning("order status move refused; the stored status is kept", metadata: ["run_id": "\(runID)", "order_id": "\(order.clientOrderID)",
                                                                                           "from": "\(order.status.rawValue)", "to": "\(report.status.rawValue)"])
            try ledger.record(runID: runID, time: now, kind: .orderStatusRejected, symbol: order.symbol,
                              message: "\(refused); \(order.status.rawValue) kept",
                              data: ["client_order_id": order.clientOrderID.rawValue, "from": order.status.rawValue, "to": report.status.rawValue])
            status = order.status
        }
        try ledger.updateOrder(clientOrderID: order.clientOrderID, status: status, venueOrderID: report.venueOrderID,
                               filledQuantity: filled, averagePrice: average, reason: report.reason, now: now)
        if status != order.status {
            try ledger.record(runID: runID, time: now, kind: .order(status), symbol: order.symbol,
                              message: "\(order.clientOrderID) \(status.rawValue)" + (report.reason.map { ": \($0)" } ?? ""),
                              data: ["client_order_id": order.clientOrderID.rawValue])
        }
        guard var p = position else { return newFills }
        if wasClosed, newFills > 0 {
            if p.quantity > 0 {
                // A late execution of one of its orders: the position holds coins again and sells them.
                p.state = try PositionLifecycle.next(from: .closed, on: .lateFill, adjustments: p.adjustments, maxAdjustments: maxAdjustments)
                p.closedAt = nil
                try transitionEvent(ledger, runID: runID, now: now, p, from: .closed, note: "late fill of \(order.clientOrderID): \(p.quantity) to sell")
            }
            try ledger.updatePosition(p)
            return newFills
        }
        guard status.isFinal else {
            try ledger.updatePosition(p)
            return newFills
        }
        // The order is final. The position moves on only when none of its orders is still working.
        let othersWorking = try ledger.workingOrder(positionID: p.id, excluding: order.clientOrderID) != nil
        switch order.purpose {
        case .entry:
            if p.quantity <= 0 {
                if p.state == .open && !othersWorking {
                    p.state = try PositionLifecycle.next(from: .open, on: .entryFailed, adjustments: p.adjustments, maxAdjustments: maxAdjustments)
                    p.closedAt = now
                    p.exitReason = .entryFailed
                    try transitionEvent(ledger, runID: runID, now: now, p, from: .open, note: "entry failed: \(report.reason ?? status.rawValue)")
                }
            } else {
                p.initialEntryPrice = p.entryPrice
                if p.highestPrice == nil { p.highestPrice = p.entryPrice }
                setLevels(&p)
            }
        case .add, .partialTakeProfit:
            if order.purpose == .partialTakeProfit, filled > 0 { p.partialTakeProfitDone = true }
            setLevels(&p)
            if p.state == .adjusting && !othersWorking {
                p.state = try PositionLifecycle.next(from: .adjusting, on: .finishAdjustment, adjustments: p.adjustments, maxAdjustments: maxAdjustments)
                try transitionEvent(ledger, runID: runID, now: now, p, from: .adjusting, note: "adjustment \(status.rawValue.lowercased())")
            }
        case .exit, .emergencyClose:
            guard p.state == .closing, !othersWorking else { break }
            let belowStep = lotStep.map { $0 > 0 && p.quantity < $0 } ?? false
            // An exit refused unsent as smaller than the venue's smallest order (a partial fill's rest worth less than
            // the minimum notional) would be refused again at every run.
            let belowMinimum = status == .rejected && report.belowVenueMinimum
            if p.quantity > 0, belowStep || belowMinimum {
                // The venue cannot sell it: dust, left in the account and recorded with its amount.
                let asset = p.symbol.baseAsset(quotedIn: quoteAsset) ?? p.symbol.rawValue
                var data = ["asset": asset, "quantity": p.quantity.description, "position_id": "\(p.id)",
                            "below": belowStep ? "lot_step" : "smallest_order"]
                if let lotStep { data["lot_step"] = lotStep.description }
                let why = belowStep ? "below its lot step \(lotStep?.description ?? "")" : "below its smallest order (\(report.reason ?? "refused"))"
                try ledger.record(runID: runID, time: now, kind: .dust, symbol: p.symbol,
                                  message: "\(p.quantity) \(asset) left at the venue \(why); the position is closed without it", data: data)
                // What was paid for the dust is spent: charged to the position's P&L, which ends without it.
                p.realizedPnL = try p.realizedPnL - p.cost
                p.quantity = 0
                p.cost = 0
            }
            if p.quantity <= 0 {
                p.state = try PositionLifecycle.next(from: .closing, on: .exitFilled, adjustments: p.adjustments, maxAdjustments: maxAdjustments)
                p.closedAt = now
                p.exitPrice = average ?? p.exitPrice
                try transitionEvent(ledger, runID: runID, now: now, p, from: .closing,
                                    note: "closed (\(p.exitReason?.rawValue ?? "exit")), P&L \(p.realizedPnL.text(decimals: 2))")
            }
            // Otherwise it stays CLOSING and the next run sells what is left with a new attempt.
        }
        try ledger.updatePosition(p)
        return newFills
    }

    /// Stops and targets from the position's basis after an entry or adjustment filled (kept as they were when the
    /// levels are out of the fixed-point range).
    private func setLevels(_ p: inout Position) {
        guard let levels, p.quantity > 0, let l = try? levels(p) else { return }
        p.stopPrice = l.stop
        p.takeProfitPrice = l.takeProfit
    }

    /// The note is built only for a ledger that keeps the audit trail.
    func transitionEvent(_ ledger: any Ledger, runID: RunID, now: Int64, _ p: Position, from: PositionState, note: @autoclosure () -> String) throws {
        try ledger.record(runID: runID, time: now, kind: .transition, symbol: p.symbol,
                          message: "position \(p.id) \(from.rawValue) → \(p.state.rawValue): \(note())",
                          data: Self.transitionData(p, from: from))
    }

    /// The facts of a transition event, which notifications and reports decide on (never on its message).
    static func transitionData(_ p: Position, from: PositionState?) -> [String: String] {
        var data = ["position_id": "\(p.id)", "to": p.state.rawValue]
        if let from { data["from"] = from.rawValue }
        if let reason = p.exitReason { data["exit_reason"] = reason.rawValue }
        return data
    }
}
