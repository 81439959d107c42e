/// What an entry of the append-only `events` table records. The raw values are the exact texts stored in the
/// `kind` column (rows written by earlier versions decode to the same cases).
public enum EventKind: String, Sendable, Codable, CaseIterable {
    // Decisions and positions
    case decision
    /// A position moved through its lifecycle; data: `position_id`, `from` (absent for a new position), `to`,
    /// `exit_reason` (when the position has one).
    case transition
    /// A fill was recorded; data: `client_order_id`, `trade_id`, `purpose`.
    case fill
    case dust

    // Orders
    case orderPending = "order_pending"
    case orderNotSent = "order_not_sent"
    case orderPendingSubmit = "order_pending_submit"
    case orderUnknown = "order_unknown"
    case orderNew = "order_new"
    case orderPartiallyFilled = "order_partially_filled"
    case orderFilled = "order_filled"
    case orderCanceled = "order_canceled"
    case orderRejected = "order_rejected"
    case orderExpired = "order_expired"
    case orderAdopted = "order_adopted"
    /// A venue report would have moved an order's status backwards (see `OrderStatusTransitions`); the stored status
    /// was kept. Data: `client_order_id`, `from`, `to`.
    case orderStatusRejected = "order_status_rejected"

    // Reconciliation
    case unexplainedOrder = "unexplained_order"
    case unexplainedTrade = "unexplained_trade"
    case unexplainedBalance = "unexplained_balance"
    case reconcileFailed = "reconcile_failed"

    // Safe mode and protections
    case safeModeEntered = "safe_mode_entered"
    case safeModeExited = "safe_mode_exited"
    case safeModeLockUnreadable = "safe_mode_lock_unreadable"
    case emergencyCloseFailed = "emergency_close_failed"
    case emergencyClosePending = "emergency_close_pending"
    case protectionTriggered = "protection_triggered"
    case protectionDeferred = "protection_deferred"

    // Runs
    case runAbandoned = "run_abandoned"
    case runFinished = "run_finished"
    case configChanged = "config_changed"
    case symbolFailed = "symbol_failed"
    case cycleFailed = "cycle_failed"

    // Models
    case llmBreakerOpen = "llm_breaker_open"
    case llmBudgetExhausted = "llm_budget_exhausted"
    case llmStepDeadline = "llm_step_deadline"

    /// The event recorded when an order's status changes to `status` (`order_<status in lower case>`).
    public static func order(_ status: OrderStatus) -> EventKind {
        switch status {
        case .pendingSubmit: return .orderPendingSubmit
        case .unknown: return .orderUnknown
        case .new: return .orderNew
        case .partiallyFilled: return .orderPartiallyFilled
        case .filled: return .orderFilled
        case .canceled: return .orderCanceled
        case .rejected: return .orderRejected
        case .expired: return .orderExpired
        }
    }
}

/// The job's state as `status` shows it (job state key `job.state`).
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case starting = "STARTING"
    case running = "RUNNING"
    case safeMode = "SAFE_MODE"
    case stopping = "STOPPING"

    /// The `job_state` key it is stored under.
    public static let key = "job.state"
}

/// A protection's name, as used in configuration keys (`protections.<name>.*`), entry blocks (`block.<name>`),
/// events and the safe-mode lock's trigger.
public enum ProtectionName: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case maxDrawdown = "max_drawdown"
    case dailyLoss = "daily_loss"
    case losingStreak = "losing_streak"
    case errorRate = "error_rate"

    /// The raw name (so messages show `max_drawdown`).
    public var description: String { rawValue }
}

/// How a run ended (the `runs.outcome` column). `running` and `crashed` are only ever stored: a run is written as
/// `running` when it starts and marked `crashed` by the next run when its process died.
public enum RunOutcome: String, Sendable, Codable, CaseIterable {
    /// Every symbol analysed; exit code 0.
    case ok
    /// The cycle finished but some symbols failed; exit code 1.
    case partial
    /// A SIGTERM/SIGINT stopped it between steps; exit 143/130.
    case interrupted
    /// The cycle could not finish; exit code 70.
    case failed
    /// Started and not finished (yet).
    case running
    /// Its process died before it finished.
    case crashed
}
