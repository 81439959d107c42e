import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Cycle
import Settings
import PostgresStorage
import Storage
import TradingDomain

/// What `status` and `schedule` read from the state directory.
struct JobSnapshot {
    var state: JobStatus
    var lastRun: RunRow?
    var scheduled: RunRow?
    var positions: [Position]
    var cash: Money
    var equity: Money
    var safeMode: SafeModeLock.Reading
    var decisions: [String: String]
    var blocks: [String: Int64]

    /// The snapshot of a PostgreSQL account (the safe-mode lock a row, the schedule the newest scheduled run).
    static func load(postgres state: PostgresState, config: ResolvedConfig, now: Int64) throws -> JobSnapshot {
        let timeframe = Timeframe(config.string("market.timeframe"))
        let quote = config.string("paper.quote_asset")
        let safe = SafeModeLockRow(state: state, now: now).read()
        var snapshot = try state.transaction(readOnly: true) { ledger -> JobSnapshot in
            let positions = try ledger.activePositions()
            let cash = try ledger.balances()[quote] ?? 0
            var equity = cash
            for p in positions {
                var price = p.entryPrice
                if let tf = timeframe, let last = try ledger.candleWindow(symbol: p.symbol, timeframe: tf, limit: 1, upTo: .max).last, let d = try? Price(double: last.close) {
                    price = d
                }
                equity = try equity + price.times(p.quantity, .halfEven)
            }
            var decisions: [String: String] = [:]
            if let text = try ledger.jobState("last_decisions"), let parsed = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) { decisions = parsed }
            var blocks: [String: Int64] = [:]
            for (key, value) in try ledger.jobStates(prefix: "block.") {
                if let until = Int64(value), until > now { blocks[String(key.dropFirst(6))] = until }
            }
            let status = try ledger.jobState(JobStatus.key).flatMap(JobStatus.init(rawValue:)) ?? .starting
            return JobSnapshot(state: status, lastRun: nil, scheduled: nil, positions: positions, cash: cash, equity: equity, safeMode: safe,
                               decisions: decisions, blocks: blocks)
        }
        snapshot.lastRun = try state.lastRun()
        snapshot.scheduled = try state.lastScheduledRun()
        if case .absent = safe { if snapshot.state == .safeMode { snapshot.state = .running } } else { snapshot.state = .safeMode }
        return snapshot
    }

    static func load(options: CommonOptions, config: ResolvedConfig) throws -> JobSnapshot? {
        guard FileManager.default.fileExists(atPath: options.databasePath) else { return nil }
        let database = try StateDatabase(path: options.databasePath)
        let timeframe = Timeframe(config.string("market.timeframe"))
        let quote = config.string("paper.quote_asset")
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        return try database.read { ledger in
            let positions = try ledger.activePositions()
            let balances = try ledger.balances()
            let cash = balances[quote] ?? 0
            var equity = cash
            for p in positions {
                var price = p.entryPrice
                if let tf = timeframe, let last = try ledger.newestCandles(symbol: p.symbol, timeframe: tf, limit: 1).last, let d = try? Price(double: last.close) {
                    price = d
                }
                equity = try equity + price.times(p.quantity, .halfEven)
            }
            var decisions: [String: String] = [:]
            if let text = try ledger.jobState("last_decisions"), let data = text.data(using: .utf8),
               let parsed = try? JSONDecoder().decode([String: String].self, from: data) { decisions = parsed }
            var blocks: [String: Int64] = [:]
            for (key, value) in try ledger.jobStates(prefix: "block.") {
                if let until = Int64(value), until > nowMs { blocks[String(key.dropFirst(6))] = until }
            }
            let safe = SafeModeLock.read(stateDirectory: options.stateDirectory)
            var state = try ledger.jobStatus() ?? .starting
            if case .absent = safe { if state == .safeMode { state = .running } } else { state = .safeMode }
            return JobSnapshot(state: state, lastRun: try ledger.lastRun(), scheduled: try ledger.lastScheduledRun(), positions: positions,
                               cash: cash, equity: equity, safeMode: safe, decisions: decisions, blocks: blocks)
        }
    }
}

/// `tradejob status [--json]`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the job's state, last and next run, positions, cash and equity.")
    @OptionGroup var options: CommonOptions
    @Flag(name: .long, help: "JSON output.") var json = false
    @Flag(name: .long, help: "Every account of the PostgreSQL database state.url names, a line (or a JSON object) each.") var all = false

    func run() throws {
        let config = try options.loadConfig()
        if all { return try AllAccountsStatus.print(config: config, options: options, json: json) }
        var postgres: PostgresState?
        defer { postgres?.close() }
        if !config.string("state.url").isEmpty {
            postgres = try PostgresStateAccess.open(config, environment: options.environment, now: Int64(Date().timeIntervalSince1970 * 1000), upgrades: false)
        }
        let snapshot = try postgres.map { try JobSnapshot.load(postgres: $0, config: config, now: Int64(Date().timeIntervalSince1970 * 1000)) }
            ?? JobSnapshot.load(options: options, config: config)
        guard let s = snapshot else {
            if json { print(JSONText.render(["state": JobStatus.starting.rawValue, "last_run": NSNull(), "next_run_at": NSNull(), "interval_seconds": NSNull(),
                                             "positions": [Any](), "cash": NSNull(), "equity": NSNull(), "safe_mode": false] as [String: Any])) }
            else { print("no state yet in \(options.stateDirectory): run `tradejob run` first") }
            return
        }
        var safeActive = true
        if case .absent = s.safeMode { safeActive = false }
        let running = postgres.map { (try? $0.runLockHeld()) ?? false } ?? RunningProbe.isRunning(stateDirectory: options.stateDirectory)
        if json {
            var object: [String: Any] = [
                "state": (running ? .running : s.state).rawValue,
                "cycle_in_progress": running,
                "positions": s.positions.map { p -> [String: Any] in
                    ["symbol": p.symbol.rawValue, "state": p.state.rawValue, "quantity": p.quantity.description, "entry_price": p.entryPrice.description,
                     "adjustments": p.adjustments, "stop_price": p.stopPrice?.description ?? NSNull(),
                     "take_profit_price": p.takeProfitPrice?.description ?? NSNull(), "opened_at": Timestamp.rfc3339(p.openedAt)]
                },
                "cash": s.cash.description,
                "equity": s.equity.description,
                "safe_mode": safeActive,
                "decisions": s.decisions,
                "entry_blocks": s.blocks.mapValues { Timestamp.rfc3339($0) },
            ]
            if let r = s.lastRun {
                object["last_run"] = ["id": r.id, "start": Timestamp.rfc3339(r.startedAt), "end": r.endedAt.map(Timestamp.rfc3339) ?? NSNull(),
                                      "outcome": RunningProbe.outcome(of: r, running: running).rawValue, "failed_symbols": r.symbolsFailed.isEmpty ? [] : r.symbolsFailed.split(separator: ",").map(String.init)] as [String: Any]
            } else { object["last_run"] = NSNull() }
            object["next_run_at"] = s.scheduled?.nextRunAt.map(Timestamp.rfc3339) ?? NSNull()
            object["interval_seconds"] = s.scheduled?.intervalSeconds ?? NSNull()
            object["interval_reason"] = s.scheduled?.intervalReason ?? NSNull()
            if case let .present(lock) = s.safeMode { object["safe_mode_until"] = lock.until; object["safe_mode_reason"] = lock.reason }
            if case let .unreadable(why) = s.safeMode { object["safe_mode_reason"] = "lockfile unreadable (fail closed): \(why)" }
            print(JSONText.render(object))
            return
        }
        print("state: \((running ? .running : s.state).rawValue)" + (safeActive ? " (safe mode)" : ""))
        if let r = s.lastRun {
            let outcome = RunningProbe.outcome(of: r, running: running)
            print("last run: #\(r.id) \(Timestamp.rfc3339(r.startedAt)) → \(r.endedAt.map(Timestamp.rfc3339) ?? "…") \(outcome.rawValue)"
                  + (outcome == .crashed ? " (the process died; the next run reconciles its work)" : ""))
        }
        if let n = s.scheduled, let at = n.nextRunAt {
            print("next run: \(Timestamp.rfc3339(at)) (every \((n.intervalSeconds ?? 0) / 60) min: \(n.intervalReason ?? ""))")
        }
        print("cash \(s.cash.text(decimals: 2)), equity \(s.equity.text(decimals: 2))")
        print("positions: \(s.positions.count)")
        for p in s.positions {
            print("  \(p.symbol) \(p.state.rawValue) qty \(p.quantity) entry \(p.entryPrice.text(decimals: 6)) adjustments \(p.adjustments)")
        }
        for (name, until) in s.blocks.sorted(by: { $0.key < $1.key }) { print("entries blocked by \(name) until \(Timestamp.rfc3339(until))") }
        if !s.decisions.isEmpty {
            print("last decisions:")
            for (symbol, why) in s.decisions.sorted(by: { $0.key < $1.key }) { print("  \(symbol): \(why)") }
        }
    }
}

/// Whether a cycle holds the run lock right now: the holder writes `pid N started …` into the lock file and empties it
/// on release; the pid must still be alive. (Never takes the lock itself, so `status` cannot make a run exit 75.)
enum RunningProbe {
    /// Whether a cycle holds the run lock now, from the kernel: a process that died, whose lock the kernel released,
    /// never counts, whatever its lock file still says. Read from `/proc/locks` without touching the lock; only where
    /// that table cannot be read is the lock tried (and at once let go), which may turn away a run starting that instant.
    static func isRunning(stateDirectory: String) -> Bool {
        if let held = RunLock.isHeld(path: stateDirectory + "/tradejob.lock") { return held }
        let fd = open(stateDirectory + "/tradejob.lock", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }

    /// The outcome to show for the newest run: one still `running` while nobody holds the lock has died.
    static func outcome(of run: RunRow, running: Bool) -> RunOutcome {
        run.outcome == .running && run.endedAt == nil && !running ? .crashed : run.outcome
    }
}

/// `tradejob schedule [--json]`: the stored next run time, the interval and why, and whether a run is due now.
struct ScheduleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedule", abstract: "Show the next run time, the interval and why, and whether a run is due now.")
    @OptionGroup var options: CommonOptions
    @Flag(name: .long, help: "JSON output.") var json = false
    @Option(help: "Judge \"due\" as of this instant (RFC 3339).") var now: String?

    func run() throws {
        let config = try options.loadConfig()
        let nowMs = now.flatMap(Timestamp.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
        let grace = Int64(config.int("schedule.grace_seconds")) * 1000
        var next = NextRunFile.read(stateDirectory: options.stateDirectory)
        var interval: Int64?
        var reason: String?
        if !config.string("state.url").isEmpty {
            // A PostgreSQL state's schedule is its newest scheduled run.
            let state = try PostgresStateAccess.open(config, environment: options.environment, now: nowMs, upgrades: false)
            defer { state.close() }
            let run = try state.lastScheduledRun()
            (next, interval, reason) = (run?.nextRunAt, run?.intervalSeconds, run?.intervalReason)
        } else if FileManager.default.fileExists(atPath: options.databasePath) {
            let database = try StateDatabase(path: options.databasePath)
            if let run = try database.read({ try $0.lastScheduledRun() }) {
                interval = run.intervalSeconds
                reason = run.intervalReason
            }
        }
        let due = next.map { nowMs >= $0 - grace } ?? true
        if json {
            print(JSONText.render([
                "next_run_at": next.map(Timestamp.rfc3339) ?? NSNull(), "next_run_epoch": next.map { $0 / 1000 } ?? NSNull(),
                "interval_seconds": interval ?? NSNull(), "reason": reason ?? NSNull(), "due": due,
                "grace_seconds": grace / 1000, "now": Timestamp.rfc3339(nowMs),
            ] as [String: Any]))
        } else if let next {
            print("next run: \(Timestamp.rfc3339(next)) (epoch \(next / 1000))")
            if let interval { print("interval: \(interval) s — \(reason ?? "")") }
            print(due ? "due now" : "not due (grace \(grace / 1000) s)")
        } else {
            print("no next run stored yet: a run is due now")
        }
    }
}

/// `tradejob status --all`: every account registered in the PostgreSQL database (`public.tradejob_accounts`), each
/// read on its own connection: state, last run, next run, equity, open positions, safe mode, whether a cycle runs now.
enum AllAccountsStatus {
    static func print(config: ResolvedConfig, options: CommonOptions, json: Bool) throws {
        guard !config.string("state.url").isEmpty else {
            throw UsageError(message: "--all lists the accounts of a PostgreSQL state: set state.url (this config keeps its state in \(options.stateDirectory))")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let home = try PostgresStateAccess.open(config, environment: options.environment, now: now, upgrades: false)
        defer { home.close() }
        let password = try PostgresStateAccess.password(home.address, environment: options.environment)
        var objects: [[String: Any]] = []
        var lines: [String] = []
        func describe(_ account: String) throws {
            let state = account == home.address.account ? home : try home.openAccount(account, password: password, now: now, upgrades: false)
            defer { if state !== home { state.close() } }
            let s = try JobSnapshot.load(postgres: state, config: config, now: now)
            let running = (try? state.runLockHeld()) ?? false
            var safe = true
            if case .absent = s.safeMode { safe = false }
            let last = s.lastRun.map { RunningProbe.outcome(of: $0, running: running) }
            objects.append(["account": account, "state": (running ? .running : s.state).rawValue, "cycle_in_progress": running,
                            "last_run": s.lastRun.map { ["id": $0.id, "start": Timestamp.rfc3339($0.startedAt), "outcome": last?.rawValue ?? ""] as [String: Any] } ?? NSNull(),
                            "next_run_at": s.scheduled?.nextRunAt.map(Timestamp.rfc3339) ?? NSNull(), "equity": s.equity.description, "cash": s.cash.description,
                            "open_positions": s.positions.count, "safe_mode": safe])
            lines.append([account, (running ? .running : s.state).rawValue + (safe ? " (safe mode)" : ""),
                          s.lastRun.map { "#\($0.id) \(last?.rawValue ?? "")" } ?? "-", s.scheduled?.nextRunAt.map(Timestamp.rfc3339) ?? "-",
                          s.equity.text(decimals: 2), "\(s.positions.count)"].joined(separator: "  "))
        }
        // An account that cannot be read (a schema of another version, say) is listed with its error and the others
        // still are; the command then ends with that error's exit code.
        var firstFailure: (any Error)?
        for account in try home.accounts() {
            do {
                try describe(account)
            } catch {
                firstFailure = firstFailure ?? error
                objects.append(["account": account, "error": "\(error)"])
                lines.append("\(account)  cannot be read: \(error)")
            }
        }
        if json {
            Swift.print(JSONText.render(["database": home.address.redacted, "accounts": objects] as [String: Any]))
        } else {
            Swift.print("\(home.address.redacted): \(objects.count) account(s) — account  state  last run  next run  equity  positions")
            for line in lines { Swift.print(line) }
        }
        if let firstFailure { throw firstFailure }
    }
}
