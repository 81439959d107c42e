/// The lifecycle state of a position: `open → monitoring → adjusting → monitoring … → closing → closed`.
public enum PositionState: String, Sendable, Codable, CaseIterable {
    /// The entry filled; the position has not been through a monitoring pass yet.
    case open = "OPEN"
    /// Stops, targets and signals are checked every run.
    case monitoring = "MONITORING"
    /// An adjustment (add or partial take-profit) is being executed.
    case adjusting = "ADJUSTING"
    /// An exit was decided; the closing order is being executed (retried until it fills).
    case closing = "CLOSING"
    /// Flat; final.
    case closed = "CLOSED"

    /// The position still holds (or may hold) quantity.
    public var isActive: Bool { self != .closed }
}

/// Why a position is (being) closed.
public enum ExitReason: String, Sendable, Codable, CaseIterable {
    case stopLoss = "stop_loss"
    case takeProfit = "take_profit"
    case trailingStop = "trailing_stop"
    case signalReversed = "signal_reversed"
    case maxHoldingTime = "max_holding_time"
    case safeMode = "safe_mode"
    case manual = "manual"
    /// The entry order was rejected or never filled: the position never held anything.
    case entryFailed = "entry_failed"
    /// The venue showed a `tj-` order of this job that the database did not know (e.g. a state restored from an
    /// older copy): its coins are taken back into a position and sold.
    case adopted = "adopted"
}

/// An event that moves a position through its lifecycle.
public enum LifecycleEvent: Sendable, Equatable {
    /// The first monitoring pass after the entry filled.
    case startMonitoring
    /// An adjustment was decided (add or partial take-profit).
    case beginAdjustment
    /// The adjustment's order finished (filled, or failed and abandoned).
    case finishAdjustment
    /// An exit was decided.
    case beginExit(ExitReason)
    /// The exit order filled and the position is flat.
    case exitFilled
    /// The entry order ended (rejected, expired, cancelled) without a fill: the position never held anything.
    case entryFailed
    /// A fill arrived for a closed position (a late execution of one of its orders): it holds coins again and
    /// must sell them.
    case lateFill
}

/// A transition the lifecycle does not allow.
public struct IllegalTransition: Error, Equatable, CustomStringConvertible {
    public let from: PositionState
    public let event: LifecycleEvent
    public let why: String
    public var description: String { "illegal position transition from \(from.rawValue) on \(event): \(why)" }
}

/// The pure position lifecycle: given a state, the adjustments made so far and an event, it returns the
/// next state or rejects the event. Every allowed transition is listed in `next(_:adjustments:maxAdjustments:)`;
/// everything else is an `IllegalTransition`.
public enum PositionLifecycle {
    public static func next(from state: PositionState, on event: LifecycleEvent,
                            adjustments: Int, maxAdjustments: Int) throws -> PositionState {
        switch (state, event) {
        case (.open, .startMonitoring): return .monitoring
        case (.open, .beginExit), (.monitoring, .beginExit), (.adjusting, .beginExit): return .closing
        case (.monitoring, .beginAdjustment):
            guard adjustments < maxAdjustments else {
                throw IllegalTransition(from: state, event: event, why: "already \(adjustments) of at most \(maxAdjustments) adjustments")
            }
            return .adjusting
        case (.adjusting, .finishAdjustment): return .monitoring
        case (.closing, .exitFilled): return .closed
        case (.open, .entryFailed): return .closed
        case (.closed, .lateFill): return .closing
        case (.closed, _):
            throw IllegalTransition(from: state, event: event, why: "a closed position is final")
        default:
            throw IllegalTransition(from: state, event: event, why: "not an allowed transition")
        }
    }
}
