import Foundation
import Strategy
import TradingDomain

/// Seconds a cycle spent in each of its phases.
public struct CyclePhases: Sendable, Equatable {
    public var reconcile = 0.0, analyse = 0.0, decide = 0.0, execute = 0.0, total = 0.0
    public init() {}
}

/// What one cycle did, for the summary on stdout, metrics and tests.
public struct CycleReport: Sendable {
    public var runID: RunID
    public var startedAt: Int64
    public var endedAt: Int64
    public var outcome: RunOutcome
    public var symbolsAnalysed: Int
    public var failedSymbols: [Symbol: String]
    public var signals: [Signal]
    public var ordersPlaced: Int
    public var fills: Int
    public var openPositions: [Position]
    public var cash: Money
    public var equity: Money
    /// The highest equity recorded, this run's included.
    public var peakEquity: Money
    /// Drawdown of equity from its peak (0…1), computed when asked for (backtests never ask).
    public var drawdown: Double { peakEquity > equity && peakEquity > 0 ? (peakEquity.double - equity.double) / peakEquity.double : 0 }
    public var safeMode: Bool
    public var volatility: Double?
    public var nextRun: NextRun?
    /// Seconds spent in each phase (wall clock, not the cycle's "now"; zero in backtests, which keep no audit trail).
    public var phases: CyclePhases
    /// The phases by name (`reconcile`, `analyse`, `decide`, `execute`, `total`), for metrics.
    public var phaseSeconds: [String: Double] {
        ["reconcile": phases.reconcile, "analyse": phases.analyse, "decide": phases.decide, "execute": phases.execute, "total": phases.total]
    }
    public var decisions: [Symbol: String]
    public var configChanged: Bool
    public var notes: [String]
    /// Set when the venue refused the live account's credentials (a wrong or revoked key): the run failed.
    public var credentialsRefused: String? = nil

    /// The short human summary printed at the end of a run.
    public var summary: String {
        var lines: [String] = []
        lines.append("run \(runID) \(outcome.rawValue): \(symbolsAnalysed) symbols analysed" + (failedSymbols.isEmpty ? "" : ", failed: " + failedSymbols.keys.sorted().map(\.rawValue).joined(separator: ", ")))
        let longs = signals.filter { $0.direction == .long }.count
        lines.append("signals: \(signals.count) (\(longs) long, \(signals.count - longs) flat); orders: \(ordersPlaced); fills: \(fills)")
        let positions = openPositions.map { "\($0.symbol) \($0.state.rawValue.lowercased()) \($0.quantity)@\($0.entryPrice.text(decimals: 4))" }
        lines.append("positions: \(openPositions.count)" + (positions.isEmpty ? "" : " — " + positions.joined(separator: ", ")))
        lines.append("equity \(equity.text(decimals: 2)), cash \(cash.text(decimals: 2))" + (safeMode ? " — SAFE MODE" : ""))
        if let next = nextRun {
            lines.append("next run \(Timestamp.rfc3339(next.at)) (\(next.cadence.rawValue), \(next.intervalSeconds / 60) min): \(next.reason)")
        }
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }
}
