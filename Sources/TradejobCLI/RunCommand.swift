import ArgumentParser
import Dispatch
import Foundation
import TradingDomain
import Logging
import Cycle
import HTTPTransport
import Operations
import Settings
import Storage
import Strategy
#if canImport(Glibc)
import Glibc
#endif

/// `tradejob run`: one orchestration cycle.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run one orchestration cycle and exit.")

    @OptionGroup var options: CommonOptions

    @Flag(name: .customLong("if-due"), help: "Exit 0 at once, writing nothing, unless the stored next run time (minus the grace) has come.")
    var ifDue = false

    @Option(name: .long, help: "Run as of this instant (RFC 3339) instead of the wall clock; refused for live trading.")
    var now: String?

    @Flag(name: .long, help: "Allow live trading (also needs mode \"live\" in the config; or TRADEJOB_LIVE=1).")
    var live = false

    func validate() throws {
        if let now, Timestamp.parse(now) == nil {
            throw ValidationError("--now: got \"\(now)\", expected an RFC 3339 time such as 2024-05-01T12:00:00Z")
        }
    }

    /// What a run settles before it touches anything: the configuration (and the bytes it was validated from),
    /// whether it trades live, "now", the grace.
    struct Start {
        let config: ResolvedConfig
        let configBytes: Data
        let isLive: Bool
        let nowMs: Int64
        let grace: Int64
    }

    /// Loads the configuration and applies the rules about live trading and `--now`.
    static func start(configPath: String, nowText: String?, liveFlag: Bool, environment: [String: String], wallStart: Date) throws -> Start {
        var nowMs = Int64(wallStart.timeIntervalSince1970 * 1000)
        if let nowText {
            guard let parsed = Timestamp.parse(nowText) else {
                throw UsageError(message: "--now: got \"\(nowText)\", expected an RFC 3339 time such as 2024-05-01T12:00:00Z")
            }
            nowMs = parsed
        }
        let bytes = try ConfigLoader.read(path: configPath)
        let config = try ConfigLoader.resolve(data: bytes, file: configPath, environment: environment)
        let isLive = try checkLive(mode: config.string("mode"), liveFlag: liveFlag, nowGiven: nowText != nil, liveVariable: environment["TRADEJOB_LIVE"])
        return Start(config: config, configBytes: bytes, isLive: isLive, nowMs: nowMs, grace: Int64(config.int("schedule.grace_seconds")) * 1000)
    }

    /// The rules about live trading for a configuration's `mode` (`liveVariable`: `TRADEJOB_LIVE`): whether the run
    /// trades live, or a `UsageError`.
    /// Shared by the normal path and `IfDueFastPath`.
    static func checkLive(mode: String, liveFlag: Bool, nowGiven: Bool, liveVariable: String?) throws -> Bool {
        let liveAllowed = liveFlag || liveVariable == "1"
        let isLive = mode == "live"
        if isLive && !liveAllowed {
            throw UsageError(message: "the configuration says mode \"live\": real orders need --live on the command line (or TRADEJOB_LIVE=1); refusing")
        }
        if isLive && nowGiven { throw UsageError(message: "--now is refused in live mode: a live venue trades at the real time") }
        if !isLive && liveFlag { throw UsageError(message: "--live given but the configuration's mode is \"\(mode)\"; set mode \"live\" to trade real money") }
        return isLive
    }

    func run() async throws {
        try await arguments.run()
    }
}

extension RunArguments {
    /// The common options as plain values.
    var common: CommonSettings { CommonSettings(config: config, stateDir: stateDir, logLevel: logLevel, logFormat: logFormat) }

    /// `tradejob run`: one orchestration cycle (or, with `--if-due`, nothing when it is not due).
    func run() async throws {
        let options = common
        let wallStart = Date()
        let start = try RunCommand.start(configPath: options.configPath, nowText: now, liveFlag: live, environment: options.environment, wallStart: wallStart)
        let (config, nowMs, grace) = (start.config, start.nowMs, start.grace)
        if !config.string("state.url").isEmpty {
            return try await runOnPostgres(start, options: options, wallStart: wallStart)
        }
        if ifDue, let notDue = NextRunFile.notDue(stateDirectory: options.stateDirectory, now: nowMs, grace: grace) {
            IfDueFastPath.emit(notDue)
            return
        }

        try options.ensureStateDirectory()
        let lock = RunLock(path: options.stateDirectory + "/tradejob.lock")
        do {
            try lock.acquire(startedAt: Date())
            StaleTemporaryFiles.remove(in: options.stateDirectory)
        } catch let held as RunLock.Held {
            LockContention.record(stateDirectory: options.stateDirectory)
            throw held
        }
        defer { lock.release() }
        // Checked again under the lock: a cycle that finished while this process started may have moved the next run.
        if ifDue, let notDue = NextRunFile.notDue(stateDirectory: options.stateDirectory, now: nowMs, grace: grace) {
            IfDueFastPath.emit(notDue)
            return
        }

        let logger = try Logging.make(label: "tradejob", options: options)
        let interrupt = InterruptFlag()
        let signals = SignalTrap(flag: interrupt)
        defer { withExtendedLifetime(signals) {} }

        // The config must not contradict the stored state (another quote asset): checked read-only, before any write.
        let database = try StateDatabase(path: options.databasePath) { ledger in
            try RunCommand.refuseIncompatibleState(config: config, ledger: ledger, stateDirectory: options.stateDirectory)
        }
        // Closed (its -wal checkpointed and removed) before the run lock is released, so the next run never finds a
        // checkpoint half done.
        defer {
            try? database.close()
            ExitRetention.keep(database)
        }
        logger.debug("state database checked", metadata: ["check_ms": "\(String(format: "%.1f", database.checkMilliseconds))"])
        let target = CycleTarget(store: database.store, records: database, safeModeLocks: SafeModeLockFile(stateDirectory: options.stateDirectory),
                                 nextRunFile: options.stateDirectory + "/next_run", checkMilliseconds: database.checkMilliseconds,
                                 lockContention: { Double(LockContention.count(stateDirectory: options.stateDirectory)) }, account: nil,
                                 addToCounters: { amounts in
                                     try database.write { ledger in
                                         for (name, amount) in amounts { try ledger.addToCounter(name, amount) }
                                         return try ledger.counters()
                                     }
                                 })
        try await runCycle(start, on: target, options: options, wallStart: wallStart, logger: logger, interrupt: interrupt) {
            // The configuration this cycle validated, for the not-due ticks that follow (see `ConfigCheck`).
            ConfigCheck.record(configPath: options.configPath, configBytes: start.configBytes, environment: options.environment,
                               mode: config.string("mode"), graceSeconds: config.int("schedule.grace_seconds"), stateDirectory: options.stateDirectory)
        }
    }

    /// The cycle on `target`, then its metrics (file and Pushgateway), the notifications and the exit code: the same
    /// for both backends, once the run lock is held and the state checked.
    func runCycle(_ start: RunCommand.Start, on target: CycleTarget, options: CommonSettings, wallStart: Date, logger: Logger, interrupt: InterruptFlag,
                  afterCycle: () -> Void = {}) async throws {
        let (config, isLive, nowMs) = (start.config, start.isLive, start.nowMs)
        let venues = try Venues.make(config: config, records: target.records, store: target.store, environment: options.environment, live: isLive)
        let parameters = try CycleParameters(config: config)
        let cycle = TradingCycle(parameters: parameters, configHash: config.hash, store: target.store, market: venues.market, broker: venues.broker,
                                 consultant: venues.consultant, analyzer: WindowAnalyzer(), safeModeLocks: target.safeModeLocks,
                                 nextRunFile: target.nextRunFile, logger: logger, interrupt: interrupt)
        let http = URLSessionHTTPClient(defaultTimeout: 30)
        let notifier = Notifier(settings: NotificationSettings(
            webhookURL: config.string("notifications.webhook_url"),
            telegramToken: config.string("notifications.telegram_bot_token_env").isEmpty ? nil
                : options.environment[config.string("notifications.telegram_bot_token_env")],
            telegramChatID: config.string("notifications.telegram_chat_id"), telegramAPIBase: config.string("notifications.telegram_api_base"),
            timeoutSeconds: config.double("notifications.timeout_seconds"), maxAttempts: config.int("notifications.max_attempts")),
            http: http, database: target.records)
        var report: CycleReport
        do {
            report = try await cycle.run(now: nowMs)
        } catch {
            await notifier.deliver(now: nowMs, logger: logger)
            throw error
        }
        afterCycle()
        // A live key the venue refused (HTTP 401, -2014/-2015) leaves the cycle without an account: a failed run
        // (metrics say failed, exit 78), not "ok" with equity 0.
        let refusedKey = report.credentialsRefused.map(APIKeyRefused.init(detail:))
        var runLogger = logger
        runLogger[metadataKey: "run_id"] = "\(report.runID)"
        // Metrics that cannot be written (a full disk) fail the run (exit 73) and the old file is removed, so monitoring
        // sees the metrics missing instead of stale figures that look fresh.
        var metricsFailure: Error?
        do {
            let text = try RunMetrics.write(report: report, config: config, stateDirectory: options.stateDirectory, wallStart: wallStart,
                                            checkMilliseconds: target.checkMilliseconds, lockContention: target.lockContention(),
                                            addToCounters: target.addToCounters)
            let gateway = config.string("metrics.pushgateway_url")
            if !gateway.isEmpty, let problem = await Pushgateway.push(text, to: gateway, http: http, account: target.account) {
                runLogger.warning("metrics not pushed to the Pushgateway", metadata: ["error": "\(problem)"])
            }
        } catch {
            let stale = RunMetrics.path(config: config, stateDirectory: options.stateDirectory)
            let removed = unlink(stale) == 0
            runLogger.error("metrics not written; the run fails", metadata: ["error": "\(error)", "stale_metrics_removed": "\(removed ? stale : "none")"])
            metricsFailure = error
        }
        await notifier.deliver(now: nowMs, logger: runLogger)
        IfDueFastPath.emit(report.summary)  // one write(2), not `print` (its first call casts its argument)
        if let refusedKey { throw refusedKey }
        if let metricsFailure {
            if let file = metricsFailure as? AtomicFileError { throw file }
            throw AtomicFileError(path: RunMetrics.path(config: config, stateDirectory: options.stateDirectory), message: "\(metricsFailure)")
        }
        switch report.outcome {
        case .ok: return
        case .partial: throw ExitWith(code: .symbolsFailed)
        case .interrupted: throw ExitWith(code: interrupt.raised == SIGINT ? .interruptedByINT : .interruptedByTERM)
        case .failed, .running, .crashed: throw ExitWith(code: .internalError)
        }
    }
}

/// Where a cycle keeps its state: the store and records, the safe-mode lock, the `next_run` file (SQLite only), the
/// figures its metrics report about the state, and its counters.
struct CycleTarget {
    var store: any StateStore
    var records: any RecordStore
    var safeModeLocks: any SafeModeLockStorage
    var nextRunFile: String?
    var checkMilliseconds: Double
    var lockContention: () -> Double
    /// The Pushgateway group's account (PostgreSQL accounts), nil for none.
    var account: String?
    var addToCounters: ([(String, Double)]) throws -> [String: Double]
}

/// The live API key was refused by the venue during reconciliation (exit 78: the key is configuration).
struct APIKeyRefused: Error, CustomStringConvertible {
    let detail: String
    var description: String {
        "the live API key was refused (\(detail)); nothing was traded — check TRADEJOB_BINANCE_API_KEY / TRADEJOB_BINANCE_API_SECRET, "
            + "the key's IP restrictions and its Spot trading permission"
    }
}

/// Turns SIGTERM and SIGINT into the cycle's interrupt flag (the cycle stops between steps).
final class SignalTrap {
    private var sources: [DispatchSourceSignal] = []
    init(flag: InterruptFlag) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue.global())
            source.setEventHandler { flag.raise(sig) }
            source.resume()
            sources.append(source)
        }
    }
    deinit { sources.forEach { $0.cancel() } }
}

/// `<state>/next_run`: one line, RFC 3339 UTC, read by `--if-due`, the wrappers and `schedule`.
enum NextRunFile {
    static func read(stateDirectory: String) -> Int64? {
        guard let data = FileBytes.read(stateDirectory + "/next_run", limit: 4096) else { return nil }
        // ASCII whitespace trimmed by hand: `trimmingCharacters` bridges through NSString (a slow first cast).
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
        guard let first = data.firstIndex(where: { !isSpace($0) }), let last = data.lastIndex(where: { !isSpace($0) }) else { return nil }
        return Timestamp.parse(String(decoding: data[first...last], as: UTF8.self))
    }

    /// The "not due" line when the stored next run (minus the grace) is still ahead, nil when a cycle is due.
    static func notDue(stateDirectory: String, now: Int64, grace: Int64) -> String? {
        notDue(next: read(stateDirectory: stateDirectory), now: now, grace: grace)
    }

    /// The rule itself, for any stored next run (the file, or the PostgreSQL state's last scheduled run).
    static func notDue(next: Int64?, now: Int64, grace: Int64) -> String? {
        guard let due = next, now < due - grace else { return nil }
        return "not due: next run at \(Timestamp.rfc3339(due)) (now \(Timestamp.rfc3339(now)))"
    }
}

/// Counts runs that found the lock held (a metric), without touching the database the holder is using: the counter
/// file is read, raised and rewritten under its own `flock`, so concurrent losers never lose an update.
enum LockContention {
    static func record(stateDirectory: String) {
        let fd = open(stateDirectory + "/lock_contention", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { return }
        defer { flock(fd, LOCK_UN) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        let current = n > 0 ? Int(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 : 0
        let text = "\(current + 1)\n"
        let written = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        if written > 0 { _ = ftruncate(fd, off_t(written)); _ = fsync(fd) }
    }

    static func count(stateDirectory: String) -> Int {
        (try? String(contentsOfFile: stateDirectory + "/lock_contention", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }
}

/// Objects kept until the process exits instead of being freed as a command ends: the closed state database, whose
/// deinit would only unregister GRDB's observers through a dynamic cast that scans every protocol conformance of the
/// binary (about a million instructions, a few per cent of a whole cycle) just before the process ends anyway.
enum ExitRetention {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var kept: [AnyObject] = []
    static func keep(_ object: AnyObject) { lock.withLock { kept.append(object) } }
}
