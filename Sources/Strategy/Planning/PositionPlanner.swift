import Foundation
import TradingDomain

/// The rules the planner decides with (from the configuration, as the cycle holds them now).
public struct PlanningRules: Sendable {
    public var strategy: any TradingStrategy
    public var exits: ExitRules
    public var limits: RiskLimits
    public var protections: ProtectionRules
    public var minConfidence: Double
    public var llmVetoConfidence: Double
    public var quoteAsset: String
    /// Whether decisions carry their texts (the audit trail's; backtests skip building them).
    public var detailed: Bool

    public init(strategy: any TradingStrategy, exits: ExitRules, limits: RiskLimits, protections: ProtectionRules, minConfidence: Double,
                llmVetoConfidence: Double, quoteAsset: String, detailed: Bool) {
        self.strategy = strategy
        self.exits = exits
        self.limits = limits
        self.protections = protections
        self.minConfidence = minConfidence
        self.llmVetoConfidence = llmVetoConfidence
        self.quoteAsset = quoteAsset
        self.detailed = detailed
    }
}

/// What the planner sees of one active position this run.
public struct PositionSnapshot: Sendable {
    /// The position as stored.
    public var position: Position
    /// The statuses of its orders that are not final (a position with one places nothing new).
    public var workingOrders: [OrderStatus]
    /// The symbol's closed candles (oldest first; empty when its analysis failed).
    public var candles: ArraySlice<Candle>
    /// The symbol's signal this run, if any.
    public var signal: Signal?

    public init(position: Position, workingOrders: [OrderStatus], candles: ArraySlice<Candle>, signal: Signal?) {
        self.position = position
        self.workingOrders = workingOrders
        self.candles = candles
        self.signal = signal
    }
}

/// An exit decided for a monitored position.
public struct PlannedExit: Sendable, Equatable {
    /// The position as checked, moved to CLOSING with its exit reason (what the decision stores).
    public var position: Position
    public var from: PositionState
    public var reason: ExitReason
    /// The decision text (empty when not detailed).
    public var note: String
    /// Orders of the position are working at the venue (NEW or PARTIALLY_FILLED): cancel them and apply their answers
    /// first; the exit goes out only if the position is then still MONITORING, with what it then holds.
    public var cancelWorkingFirst: Bool
}

/// An adjustment decided for a monitored position (sized by `PositionPlanner.size` at the reference price).
public struct PlannedAdjustment: Sendable, Equatable {
    /// The position as checked (MONITORING): what is stored when the adjustment does not go out.
    public var held: Position
    public var adjustment: Adjustment
    /// Whether sizing it needs the account (an add does; a partial take-profit does not).
    public var needsAccount: Bool {
        if case .add = adjustment { return true }
        return false
    }
}

/// What the cycle does for one active position, in order. Every command that changes the state stores the
/// position with its transition event in one transaction; those with an order commit the decision together with the
/// order's write-ahead row (`OrderExecution.place(…decision:)`).
public enum PositionCommand: Sendable, Equatable {
    /// Store `position` (moved on from `from`) with its transition event.
    case transition(Position, from: PositionState, note: String)
    /// Close a record that holds nothing and has no order working (`position` is the closed record).
    case closeEmpty(Position, from: PositionState, note: String)
    /// Sell again what a CLOSING position holds, at the reference price (nothing without a price).
    case retryExit(Position)
    /// Exit: the decision and its sell order in one transaction; without a price the decision alone (the next run sells).
    case exit(PlannedExit)
    /// Add or sell part: at the reference price, sized; without a price, or refused by the sizing, the position is held.
    case adjust(PlannedAdjustment)
    /// Store the position as checked (trailing high, last checked candle); `decision` is the run's decision text, if any.
    case hold(Position, decision: String?)
}

/// The pure decisions for active positions: exits, adjustments, and the lifecycle moves that keep every non-final
/// state going forward. No I/O: the cycle (`TradingCycle.managePositions`) carries the commands out.
public enum PositionPlanner {
    /// The commands for one active position. Safe mode plans nothing (the emergency closure handles everything).
    ///
    /// - An entry that ended without a fill, or a closing position with nothing left, is closed once no order works.
    /// - An adjustment whose order is final returns to monitoring; an OPEN position starts monitoring.
    /// - A CLOSING position sells what it holds again.
    /// - A MONITORING position is checked for an exit (`ExitEvaluator`), then, when the strategy adjusts and no order
    ///   works, for an adjustment (`AdjustmentRules`; no adds while entries are blocked; its reason text, which only
    ///   the decision text shows, empty when not detailed); else it is held.
    public static func plan(_ snapshot: PositionSnapshot, now: Int64, safeMode: Bool, entriesBlocked: Bool,
                            rules: PlanningRules) throws -> [PositionCommand] {
        if safeMode { return [] }
        var position = snapshot.position
        let working = snapshot.workingOrders
        let maxAdjustments = rules.exits.maxAdjustments
        if position.quantity <= 0 {
            guard working.isEmpty, let closed = try closedEmpty(position, otherwise: .takeProfit, now: now, maxAdjustments: maxAdjustments) else {
                return []
            }
            return [.closeEmpty(closed, from: position.state, note: "nothing held and no order working: closed")]
        }
        var commands: [PositionCommand] = []
        func move(on event: LifecycleEvent, note: String) throws {
            let from = position.state
            position.state = try PositionLifecycle.next(from: from, on: event, adjustments: position.adjustments, maxAdjustments: maxAdjustments)
            commands.append(.transition(position, from: from, note: note))
        }
        if position.state == .adjusting && working.isEmpty { try move(on: .finishAdjustment, note: "adjustment order final") }
        if position.state == .open { try move(on: .startMonitoring, note: "monitoring stops and targets") }
        if position.state == .closing {
            if working.isEmpty { commands.append(.retryExit(position)) }
            return commands
        }
        guard position.state == .monitoring else { return commands }

        let check = ExitEvaluator.check(position, candles: snapshot.candles, signal: snapshot.signal, now: now, rules: rules.exits)
        position = check.position
        if let exit = check.exit {
            let cancelFirst = !working.isEmpty
            if cancelFirst && !working.allSatisfy({ $0 == .new || $0 == .partiallyFilled }) { return commands }
            let from = position.state
            position.state = try PositionLifecycle.next(from: from, on: .beginExit(exit.reason), adjustments: position.adjustments,
                                                        maxAdjustments: maxAdjustments)
            position.exitReason = exit.reason
            let note = !rules.detailed ? ""
                : "exit: \(exit.reason.rawValue)" + (exit.level.map { " at level \($0)" } ?? "") + " on candle \(Timestamp.rfc3339(exit.candleTime))"
            commands.append(.exit(PlannedExit(position: position, from: from, reason: exit.reason, note: note, cancelWorkingFirst: cancelFirst)))
            return commands
        }
        // Adjustments (none for a strategy without them; none while an order of the position is working).
        if !rules.strategy.makesAdjustments || !working.isEmpty {
            commands.append(.hold(position, decision: nil))
            return commands
        }
        if let last = snapshot.candles.last,
           let adjustment = AdjustmentRules.decide(position, lastClose: last.close, signal: snapshot.signal, minConfidence: rules.minConfidence,
                                                   rules: rules.exits, addsAllowed: !entriesBlocked, reasons: rules.detailed) {
            commands.append(.adjust(PlannedAdjustment(held: position, adjustment: adjustment)))
            return commands
        }
        commands.append(.hold(position, decision: holdNote(position, rules: rules)))
        return commands
    }

    /// The decision text of a position held as it is (nil when not detailed).
    public static func holdNote(_ position: Position, rules: PlanningRules) -> String? {
        rules.detailed ? "hold position (\(position.state.rawValue.lowercased()))" : nil
    }

    /// An adjustment sized at `price`, ready to place: the position moved to ADJUSTING, and its order.
    public struct SizedAdjustment: Sendable, Equatable {
        public var position: Position
        public var from: PositionState
        public var side: OrderSide
        public var purpose: OrderPurpose
        public var quantity: Quantity
        public var note: String
    }

    /// Sizes `planned` at `price`: an add within the limits (`PositionSizer.add` on `account`, which only an add needs:
    /// see `PlannedAdjustment.needsAccount`), a partial take-profit as decided. `.failure` holds the decision text of an
    /// add the sizing refused (nil when not detailed).
    public static func size(_ planned: PlannedAdjustment, price: Price, account: AccountState?,
                            rules: PlanningRules) throws -> Result<SizedAdjustment, RefusedAdjustment> {
        var position = planned.held
        var side = OrderSide.buy, purpose = OrderPurpose.add, quantity: Quantity = 0, why = ""
        switch planned.adjustment {
        case let .add(q, reason):
            guard let account else { return .failure(RefusedAdjustment(decision: nil)) }
            let sizing = PositionSizer.add(requestedQuantity: q, price: price, positionValue: try price.times(position.quantity, .halfEven),
                                           account: account, limits: rules.limits)
            guard let sized = sizing.quantity else {
                var text: String?
                if case let .none(reason) = sizing, rules.detailed { text = "hold (add refused: \(reason))" }
                return .failure(RefusedAdjustment(decision: text))
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
        let maxAdjustments = rules.exits.maxAdjustments
        position.state = try PositionLifecycle.next(from: from, on: .beginAdjustment, adjustments: position.adjustments, maxAdjustments: maxAdjustments)
        position.adjustments += 1
        let note = !rules.detailed ? "" : "adjustment \(position.adjustments)/\(maxAdjustments): \(purpose.rawValue) \(quantity) — \(why)"
        return .success(SizedAdjustment(position: position, from: from, side: side, purpose: purpose, quantity: quantity, note: note))
    }

    /// An add the sizing refused, with the decision text (nil when not detailed).
    public struct RefusedAdjustment: Error, Sendable, Equatable {
        public var decision: String?
    }

    /// What safe mode's emergency closure does with one position (after its open orders were cancelled and their
    /// answers applied; `position` is the record as it then is).
    public enum ClosureStep: Sendable, Equatable {
        /// Closed already.
        case closed
        /// An order of it is still unresolved: it is asked first, next run.
        case waitForWorkingOrder
        /// Nothing held (an entry never filled, or everything was sold): close the record (`position` is the closed one).
        case closeEmpty(Position, from: PositionState, note: String)
        /// Sell everything at the reference price; `position` is moved to CLOSING (reason `safe_mode`) unless it was
        /// CLOSING already (`transition` false: the order alone is written).
        case sell(Position, from: PositionState, transition: Bool)
    }

    /// The emergency closure's step for `position` (nil: the record is gone), `working`: one of its orders is not final.
    public static func emergencyClosure(_ position: Position?, working: Bool, now: Int64, maxAdjustments: Int) throws -> ClosureStep {
        guard var position, position.state != .closed else { return .closed }
        if working { return .waitForWorkingOrder }
        if position.quantity <= 0 {
            guard let closed = try closedEmpty(position, otherwise: .safeMode, now: now, maxAdjustments: maxAdjustments) else { return .closed }
            return .closeEmpty(closed, from: position.state, note: "closed with nothing held (safe mode)")
        }
        let from = position.state
        if from != .closing {
            position.state = try PositionLifecycle.next(from: from, on: .beginExit(.safeMode), adjustments: position.adjustments,
                                                        maxAdjustments: maxAdjustments)
            position.exitReason = .safeMode
        }
        return .sell(position, from: from, transition: from != .closing)
    }

    /// The record of a position that holds nothing, closed through the lifecycle: an entry that never filled as
    /// `entry_failed`; any other state by an exit (its own reason, else `otherwise`). Nil when it is closed already.
    public static func closedEmpty(_ position: Position, otherwise: ExitReason, now: Int64, maxAdjustments max: Int) throws -> Position? {
        var p = position
        switch p.state {
        case .open:
            p.state = try PositionLifecycle.next(from: .open, on: .entryFailed, adjustments: p.adjustments, maxAdjustments: max)
            p.exitReason = .entryFailed
        case .monitoring, .adjusting:
            let reason = p.exitReason ?? otherwise
            let closing = try PositionLifecycle.next(from: p.state, on: .beginExit(reason), adjustments: p.adjustments, maxAdjustments: max)
            p.state = try PositionLifecycle.next(from: closing, on: .exitFilled, adjustments: p.adjustments, maxAdjustments: max)
            p.exitReason = reason
        case .closing:
            p.state = try PositionLifecycle.next(from: .closing, on: .exitFilled, adjustments: p.adjustments, maxAdjustments: max)
        case .closed:
            return nil
        }
        p.closedAt = now
        return p
    }
}
