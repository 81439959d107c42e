import Foundation
import Logging
import Cycle
import Operations
import Settings
import Storage
import TradingDomain

/// Writes the run's Prometheus metrics to `<state>/metrics/tradejob.prom` (or `metrics.directory`) atomically, for the
/// node_exporter textfile collector. Counters that must be monotonic across processes live in the `counters` table;
/// the run-duration histogram's buckets are such counters too.
enum RunMetrics {
    static let durationBounds: [Double] = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// Writes the file and returns its text.
    @discardableResult
    static func write(report: CycleReport, config: ResolvedConfig, stateDirectory: String, database: StateDatabase,
                      wallStart: Date, logger: Logger) throws -> String {
        try write(report: report, config: config, stateDirectory: stateDirectory, wallStart: wallStart, checkMilliseconds: database.checkMilliseconds,
                  lockContention: Double(LockContention.count(stateDirectory: stateDirectory))) { amounts in
            try database.write { ledger in
                for (name, amount) in amounts { try ledger.addToCounter(name, amount) }
                return try ledger.counters()
            }
        }
    }

    /// Writes the file and returns its text; `addToCounters` adds the run's amounts to the stored counters in one
    /// transaction and returns every counter (SQLite or PostgreSQL).
    @discardableResult
    static func write(report: CycleReport, config: ResolvedConfig, stateDirectory: String, wallStart: Date, checkMilliseconds: Double,
                      lockContention: Double, addToCounters: ([(String, Double)]) throws -> [String: Double]) throws -> String {
        let duration = Date().timeIntervalSince(wallStart)
        var amounts: [(String, Double)] = [
            ("runs_total|\(report.outcome.rawValue)", 1), ("orders_total", Double(report.ordersPlaced)), ("fills_total", Double(report.fills)),
            ("signals_total", Double(report.signals.count)), ("symbols_failed_total", Double(report.failedSymbols.count)),
        ]
        for bound in durationBounds where duration <= bound { amounts.append(("run_duration_bucket|\(bound)", 1)) }
        amounts += [("run_duration_count", 1), ("run_duration_sum", duration)]
        let counters = try addToCounters(amounts)
        var m = PrometheusText()
        let now = Date().timeIntervalSince1970
        m.gauge("tradejob_last_run_start_timestamp_seconds", "Wall-clock start of the last run.", wallStart.timeIntervalSince1970)
        m.gauge("tradejob_last_run_end_timestamp_seconds", "Wall-clock end of the last run.", now)
        if report.outcome == .ok || report.outcome == .partial {
            m.gauge("tradejob_last_run_success_timestamp_seconds", "Wall-clock end of the last run that finished its cycle.", now)
        }
        m.gauge("tradejob_last_run_duration_seconds", "Wall-clock duration of the last run.", duration)
        for outcome in ["ok", "partial", "interrupted", "failed"] {
            m.gauge("tradejob_last_run_outcome", "1 for the last run's outcome, 0 for the others.", outcome == report.outcome.rawValue ? 1 : 0, labels: [("outcome", outcome)])
        }
        m.gauge("tradejob_cycle_time_seconds", "The cycle's own clock (--now or the wall clock) of the last run.", Double(report.startedAt) / 1000)
        if let next = report.nextRun {
            m.gauge("tradejob_next_run_timestamp_seconds", "When the next run is due.", Double(next.at) / 1000)
            m.gauge("tradejob_interval_seconds", "The chosen run interval.", Double(next.intervalSeconds))
        }
        for phase in ["reconcile", "analyse", "decide", "execute"] {
            m.gauge("tradejob_phase_duration_seconds", "Duration of each phase of the last run (analyse includes fetching candles).",
                    report.phaseSeconds[phase] ?? 0, labels: [("phase", phase)])
        }
        m.gauge("tradejob_state_check_seconds", "Time the damage checks of the state database took on open (quick_check included).",
                checkMilliseconds / 1000)
        m.gauge("tradejob_symbols_analysed", "Symbols analysed by the last run.", Double(report.symbolsAnalysed))
        m.gauge("tradejob_symbols_failed", "Symbols that failed in the last run.", Double(report.failedSymbols.count))
        m.gauge("tradejob_signals", "Signals of the last run.", Double(report.signals.count))
        m.gauge("tradejob_orders", "Orders placed by the last run.", Double(report.ordersPlaced))
        m.gauge("tradejob_fills", "Fills recorded by the last run.", Double(report.fills))
        m.gauge("tradejob_open_positions", "Open positions after the last run.", Double(report.openPositions.count))
        m.gauge("tradejob_equity", "Equity in the quote asset.", report.equity.double)
        m.gauge("tradejob_cash", "Cash in the quote asset.", report.cash.double)
        m.gauge("tradejob_drawdown_ratio", "Drawdown of equity from its peak (0..1).", report.drawdown)
        m.gauge("tradejob_safe_mode_active", "1 while safe mode holds.", report.safeMode ? 1 : 0)
        if let v = report.volatility { m.gauge("tradejob_market_volatility", "Median annualised realised volatility across symbols.", v) }
        for outcome in ["ok", "partial", "interrupted", "failed"] {
            m.counter("tradejob_runs_total", "Runs by outcome.", counters["runs_total|\(outcome)"] ?? 0, labels: [("outcome", outcome)])
        }
        m.counter("tradejob_orders_total", "Orders placed.", counters["orders_total"] ?? 0)
        m.counter("tradejob_fills_total", "Fills recorded.", counters["fills_total"] ?? 0)
        m.counter("tradejob_signals_total", "Signals computed.", counters["signals_total"] ?? 0)
        m.counter("tradejob_symbols_failed_total", "Symbol analyses that failed.", counters["symbols_failed_total"] ?? 0)
        m.counter("tradejob_lock_contention_total", "Runs that found another cycle holding the lock.", lockContention)
        // The run-duration histogram, cumulative across processes.
        var text = try m.render()
        text += "# HELP tradejob_run_duration_seconds Wall-clock duration of runs.\n# TYPE tradejob_run_duration_seconds histogram\n"
        for bound in durationBounds {
            text += "tradejob_run_duration_seconds_bucket{le=\"\(bound)\"} \(Int64(counters["run_duration_bucket|\(bound)"] ?? 0))\n"
        }
        let count = Int64(counters["run_duration_count"] ?? 0)
        text += "tradejob_run_duration_seconds_bucket{le=\"+Inf\"} \(count)\n"
        text += "tradejob_run_duration_seconds_sum \(counters["run_duration_sum"] ?? 0)\n"
        text += "tradejob_run_duration_seconds_count \(count)\n"
        // Readable by node_exporter's group (0750 directory, 0640 file), nobody else. Atomic but not synced: the next run
        // writes it again, and the counters it shows are in the database.
        try AtomicFile.write(text, to: path(config: config, stateDirectory: stateDirectory), mode: 0o640, directoryMode: 0o750, sync: false)
        return text
    }

    /// `<metrics.directory or state/metrics>/tradejob.prom`.
    static func path(config: ResolvedConfig, stateDirectory: String) -> String {
        let configured = config.string("metrics.directory")
        return (configured.isEmpty ? stateDirectory + "/metrics" : configured) + "/tradejob.prom"
    }
}
