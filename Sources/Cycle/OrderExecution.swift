import Foundation
import GRDB
import Logging
import Brokers
import Storage
import TradingDomain

/// Sends orders exactly once: the order is committed as `PENDING_SUBMIT` with a deterministic client order id
/// (position, leg, attempt) before the request; the venue's answer is applied in one transaction; an unknown
/// outcome stays `UNKNOWN` and is resolved by `resolveUnresolved` (a query by client order id) before anything
/// is sent again for that position.
struct OrderExecution: Sendable {
    /// Bumped by every order placed (and by the cycle when it closes a record by hand), so that a run knows when the
    /// account it computed may have changed.
    final class AccountChanges: @unchecked Sendable {
        private let lock = NSLock()
        private var changes = 0
        func bump() { lock.withLock { changes += 1 } }
        var count: Int { lock.withLock { changes } }
    }

    let accountChanges = AccountChanges()
    let store: any StateStore
    let broker: any Broker
    let quoteAsset: String
    let maxAdjustments: Int
    let logger: Logger

    init(store: any StateStore, broker: any Broker, quoteAsset: String, maxAdjustments: Int, logger: Logger) {
        self.store = store
        self.broker = broker
        self.quoteAsset = quoteAsset
        self.maxAdjustments = maxAdjustments
        self.logger = logger
    }

    init(database: DatabaseQueue, broker: any Broker, quoteAsset: String, maxAdjustments: Int, logger: Logger) {
        self.init(store: SQLiteStateStore(database), broker: broker, quoteAsset: quoteAsset, maxAdjustments: maxAdjustments, logger: logger)
    }

    /// Places a market order for `position` and applies the result. Returns the order's final report (nil when unknown).
    func place(runID: Int64, position: Position, side: OrderSide, purpose: OrderPurpose, quantity: Decimal,
               referencePrice: Decimal, now: Int64) async throws -> OrderReport? {
        accountChanges.bump()
        let leg = purpose == .add || purpose == .partialTakeProfit ? position.adjustments : 0
        let clientOrderID: String = try await store.write { ledger in
            let attempt = (try ledger.lastAttempt(positionID: position.id, purpose: purpose, leg: leg) ?? 0) + 1
            let id = ClientOrderID.make(positionID: position.id, purpose: purpose, leg: leg, attempt: attempt)
            try ledger.insertPendingOrder(clientOrderID: id, runID: runID, positionID: position.id, symbol: position.symbol, side: side,
                                         purpose: purpose, leg: leg, attempt: attempt, quantity: quantity, referencePrice: referencePrice, now: now)
            try ledger.record(runID: runID, time: now, kind: "order_pending", symbol: position.symbol,
                              message: "\(purpose.rawValue) \(side.rawValue) \(Money.text(quantity)) \(position.symbol) as \(id)",
                              data: ["client_order_id": id, "position_id": "\(position.id)"])
            return id
        }
        Failpoint.hit("after-write-ahead")
        let request = OrderRequest(clientOrderID: clientOrderID, symbol: position.symbol, side: side, quantity: quantity, referencePrice: referencePrice)
        let outcome: SubmitOutcome
        do {
            outcome = try await broker.submit(request, now: now)
        } catch {
            outcome = .unknown("\(error)")
        }
        Failpoint.hit("after-submit")
        var log = logger
        log[metadataKey: "run_id"] = "\(runID)"
        log[metadataKey: "symbol"] = "\(position.symbol)"
        log[metadataKey: "order_id"] = "\(clientOrderID)"
        switch outcome {
        case let .answered(report):
            try await store.write { ledger in try apply(ledger, report: report, runID: runID, now: now) }
            log.info("order \(report.status.rawValue.lowercased())", metadata: ["purpose": "\(purpose.rawValue)", "side": "\(side.rawValue)",
                                                                             "quantity": "\(Money.text(quantity))"])
            return report
        case let .unknown(message):
            log.warning("order outcome unknown; it will be queried before anything is resent", metadata: ["error": "\(message)"])
            try await store.write { ledger in
                try ledger.updateOrder(clientOrderID: clientOrderID, status: .unknown, venueOrderID: nil, filledQuantity: nil, averagePrice: nil,
                                  reason: message, now: now)
                try ledger.record(runID: runID, time: now, kind: "order_unknown", symbol: position.symbol,
                                  message: "\(clientOrderID): outcome unknown (\(message)); it will be queried before anything is resent",
                                  data: ["client_order_id": clientOrderID])
            }
            return nil
        }
    }

    /// Resolves every order whose outcome is not final by asking the venue (step 0 of a cycle). Returns the
    /// number of orders still unresolved (unknown or open) afterwards.
    func resolveUnresolved(runID: Int64, now: Int64) async throws -> (unresolved: Int, fills: Int) {
        let pending = try await store.read { try $0.unresolvedOrders() }
        var stillOpen = 0
        var newFills = 0
        for order in pending {
            let outcome = try await broker.query(clientOrderID: order.clientOrderID, symbol: order.symbol)
            let report: OrderReport
            switch outcome {
            case let .found(found):
                report = found
                if !found.status.isFinal { stillOpen += 1 }
            case .notFound:
                report = OrderReport(clientOrderID: order.clientOrderID, status: .rejected,
                                     reason: "the venue has no such order: it was never placed")
            }
            newFills += try await store.write { ledger in try apply(ledger, report: report, runID: runID, now: now) }
        }
        return (stillOpen, newFills)
    }

    /// Applies a venue report to the order, its fills and its position, in the caller's transaction. Returns new fills.
    @discardableResult
    func apply(_ ledger: any Ledger, report: OrderReport, runID: Int64, now: Int64) throws -> Int {
        guard let order = try ledger.order(clientOrderID: report.clientOrderID) else {
            try ledger.record(runID: runID, time: now, kind: "unexplained_order", message: "venue reports \(report.clientOrderID), unknown to the database")
            return 0
        }
        var position = try order.positionID.flatMap { try ledger.position(id: $0) }
        var newFills = 0
        for fill in report.fills where try ledger.insertFill(fill, runID: runID) {
            newFills += 1
            if fill.side == .buy { position?.applyBuy(fill, quoteAsset: quoteAsset) } else { position?.applySell(fill, quoteAsset: quoteAsset) }
            try ledger.record(runID: runID, time: now, kind: "fill", symbol: fill.symbol,
                              message: "\(order.purpose.rawValue) \(fill.side.rawValue) \(Money.text(fill.quantity)) @ \(Money.text(fill.price)) fee \(Money.text(fill.fee)) \(fill.feeAsset)",
                              data: ["client_order_id": fill.clientOrderID, "trade_id": fill.tradeID])
        }
        let all = try ledger.fills(clientOrderID: order.clientOrderID)
        let filled = all.reduce(Decimal(0)) { $0 + $1.quantity }
        let average = filled > 0 ? all.reduce(Decimal(0)) { $0 + $1.quantity * $1.price } / filled : nil
        try ledger.updateOrder(clientOrderID: order.clientOrderID, status: report.status, venueOrderID: report.venueOrderID,
                          filledQuantity: filled, averagePrice: average, reason: report.reason, now: now)
        if report.status != order.status {
            try ledger.record(runID: runID, time: now, kind: "order_\(report.status.rawValue.lowercased())", symbol: order.symbol,
                              message: "\(order.clientOrderID) \(report.status.rawValue)" + (report.reason.map { ": \($0)" } ?? ""),
                              data: ["client_order_id": order.clientOrderID])
        }
        guard var p = position, report.status.isFinal else {
            if let p = position { try ledger.updatePosition(p) }
            return newFills
        }
        // The order is final: move the position on.
        switch order.purpose {
        case .entry:
            if p.quantity <= 0 {
                p.state = .closed
                p.closedAt = now
                p.exitReason = .entryFailed
                try transitionEvent(ledger, runID: runID, now: now, p, from: .open, note: "entry failed: \(report.reason ?? report.status.rawValue)")
            } else {
                p.initialEntryPrice = p.entryPrice
            }
        case .add, .partialTakeProfit:
            if order.purpose == .partialTakeProfit, filled > 0 { p.partialTakeProfitDone = true }
            if p.state == .adjusting {
                p.state = try PositionLifecycle.next(from: .adjusting, on: .finishAdjustment, adjustments: p.adjustments, maxAdjustments: maxAdjustments)
                try transitionEvent(ledger, runID: runID, now: now, p, from: .adjusting, note: "adjustment \(report.status.rawValue.lowercased())")
            }
        case .exit, .emergencyClose:
            if p.quantity > 0, report.status == .filled, p.state == .closing {
                // The venue sold all it was sent; what is left is below its lot step (the quantity was rounded down,
                // or a base-asset fee was taken on entry): dust it cannot sell, left in the account.
                try ledger.record(runID: runID, time: now, kind: "dust", symbol: p.symbol,
                                  message: "\(Money.text(p.quantity)) left at the venue below its lot step; the position is closed without it")
                p.quantity = 0
                p.cost = 0
            }
            if p.quantity <= 0, p.state == .closing {
                p.state = try PositionLifecycle.next(from: .closing, on: .exitFilled, adjustments: p.adjustments, maxAdjustments: maxAdjustments)
                p.closedAt = now
                p.exitPrice = average
                try transitionEvent(ledger, runID: runID, now: now, p, from: .closing,
                                    note: "closed (\(p.exitReason?.rawValue ?? "exit")), P&L \(Money.text(Money.round(p.realizedPnL, scale: 2)))")
            }
        }
        try ledger.updatePosition(p)
        return newFills
    }

    func transitionEvent(_ ledger: any Ledger, runID: Int64, now: Int64, _ p: Position, from: PositionState, note: String) throws {
        try ledger.record(runID: runID, time: now, kind: "transition", symbol: p.symbol,
                          message: "position \(p.id) \(from.rawValue) → \(p.state.rawValue): \(note)",
                          data: ["position_id": "\(p.id)", "from": from.rawValue, "to": p.state.rawValue])
    }
}
