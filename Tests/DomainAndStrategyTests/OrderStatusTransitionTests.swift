import Testing
import TradingDomain

@Suite("Order status transitions")
struct OrderStatusTransitionTests {
    static let id = ClientOrderID.make(positionID: 1, purpose: .entry, leg: 0, attempt: 1)
    /// The complete table of allowed moves besides repeating the same status; everything else must be rejected.
    static let allowed: [OrderStatus: Set<OrderStatus>] = [
        .pendingSubmit: [.unknown, .new, .partiallyFilled, .filled, .canceled, .rejected, .expired],
        .unknown: [.new, .partiallyFilled, .filled, .canceled, .rejected, .expired],
        .new: [.partiallyFilled, .filled, .canceled, .expired, .rejected],
        .partiallyFilled: [.filled, .canceled, .expired],
        .filled: [], .canceled: [], .rejected: [], .expired: [],
    ]

    @Test("every allowed and forbidden move", arguments: OrderStatus.allCases)
    func table(from: OrderStatus) {
        for to in OrderStatus.allCases {
            let expected = from == to || Self.allowed[from, default: []].contains(to)
            #expect(OrderStatusTransitions.allows(from: from, to: to) == expected, "\(from.rawValue) → \(to.rawValue)")
            if expected {
                #expect(throws: Never.self) { try OrderStatusTransitions.check(clientOrderID: Self.id, from: from, to: to) }
            } else {
                #expect(throws: IllegalOrderStatusMove(clientOrderID: Self.id, from: from, to: to)) {
                    try OrderStatusTransitions.check(clientOrderID: Self.id, from: from, to: to)
                }
            }
        }
    }

    @Test func backwardMovesAreRejectedWithAClearReason() {
        let cases: [(OrderStatus, OrderStatus, String)] = [
            (.filled, .new, "FILLED is final"),
            (.canceled, .partiallyFilled, "CANCELED is final"),
            (.expired, .filled, "EXPIRED is final"),
            (.rejected, .new, "REJECTED is final"),
            (.partiallyFilled, .new, "a move backwards"),
            (.new, .unknown, "the venue already reported the order"),
            (.unknown, .pendingSubmit, "PENDING_SUBMIT only before it is sent"),
        ]
        for (from, to, why) in cases {
            #expect(!OrderStatusTransitions.allows(from: from, to: to))
            let text = "\(IllegalOrderStatusMove(clientOrderID: ClientOrderID(rawValue: "tj-7-ex0-a2"), from: from, to: to))"
            #expect(text.contains("tj-7-ex0-a2") && text.contains("\(from.rawValue) → \(to.rawValue)") && text.contains(why), "\(text)")
        }
    }

    @Test func whatVenuesReallyDoIsAllowed() {
        // A stale NEW read, then the fill; an order whose outcome was unknown turns out filled; a market order expires part-filled.
        #expect(OrderStatusTransitions.allows(from: .new, to: .partiallyFilled))
        #expect(OrderStatusTransitions.allows(from: .unknown, to: .filled))
        #expect(OrderStatusTransitions.allows(from: .pendingSubmit, to: .filled))
        #expect(OrderStatusTransitions.allows(from: .partiallyFilled, to: .expired))
        #expect(OrderStatusTransitions.allows(from: .partiallyFilled, to: .partiallyFilled))
    }

    @Test func everyFinalStatusIsADeadEnd() {
        for from in OrderStatus.allCases where from.isFinal {
            #expect(OrderStatus.allCases.filter { OrderStatusTransitions.allows(from: from, to: $0) } == [from])
        }
    }
}

@Suite("Typed domain values")
struct DomainKindsTests {
    /// The texts stored in the database today: rows written by earlier versions must decode to the same cases.
    @Test func eventKindsKeepTheirStoredText() {
        let stored = ["decision", "transition", "fill", "dust", "order_pending", "order_not_sent", "order_pending_submit", "order_unknown",
                      "order_new", "order_partially_filled", "order_filled", "order_canceled", "order_rejected", "order_expired",
                      "order_adopted", "order_status_rejected", "unexplained_order", "unexplained_trade", "unexplained_balance",
                      "reconcile_failed", "safe_mode_entered", "safe_mode_exited", "safe_mode_lock_unreadable", "emergency_close_failed",
                      "emergency_close_pending", "protection_triggered", "protection_deferred", "run_abandoned", "run_finished",
                      "config_changed", "symbol_failed", "cycle_failed", "llm_breaker_open", "llm_budget_exhausted", "llm_step_deadline"]
        #expect(EventKind.allCases.map(\.rawValue) == stored)
        for status in OrderStatus.allCases {
            #expect(EventKind.order(status).rawValue == "order_" + status.rawValue.lowercased())
        }
    }

    @Test func otherKindsKeepTheirStoredText() {
        #expect(JobStatus.allCases.map(\.rawValue) == ["STARTING", "RUNNING", "SAFE_MODE", "STOPPING"])
        #expect(JobStatus.key == "job.state")
        #expect(ProtectionName.allCases.map(\.rawValue) == ["max_drawdown", "daily_loss", "losing_streak", "error_rate"])
        #expect("\(ProtectionName.losingStreak)" == "losing_streak")
        #expect(RunOutcome.allCases.map(\.rawValue) == ["ok", "partial", "interrupted", "failed", "running", "crashed"])
    }
}
