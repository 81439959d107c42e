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

    func run() async throws {
        let wallStart = Date()
        let nowMs = now.flatMap(Timestamp.parse) ?? Int64(wallStart.timeIntervalSince1970 * 1000)
        let config = try options.loadConfig()
        let liveAllowed = live || options.environment["TRADEJOB_LIVE"] == "1"
        let isLive = config.string("mode") == "live"
        if isLive && !liveAllowed {
            throw UsageError(message: "the configuration says mode \"live\": real orders need --live on the command line (or TRADEJOB_LIVE=1); refusing")
        }
        if isLive && now != nil { throw UsageError(message: "--now is refused in live mode: a live venue trades at the real time") }
        if !isLive && live { throw UsageError(message: "--live given but the configuration's mode is \"\(config.string("mode"))\"; set mode \"live\" to trade real money") }

        if ifDue, let due = NextRunFile.read(stateDirectory: options.stateDirectory) {
            let grace = Int64(config.int("schedule.grace_seconds")) * 1000
            if nowMs < due - grace {
                print("not due: next run at \(Timestamp.rfc3339(due)) (now \(Timestamp.rfc3339(nowMs)))")
                return
            }
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

        let logger = try Logging.make(label: "tradejob", options: options)
        let interrupt = InterruptFlag()
        let signals = SignalTrap(flag: interrupt)
        defer { withExtendedLifetime(signals) {} }

        let database = try StateDatabase(path: options.databasePath)
        try Self.refuseIncompatibleState(config: config, database: database, stateDirectory: options.stateDirectory)
        let venues = try Venues.make(config: config, database: database, environment: options.environment, live: isLive)
        let parameters = try CycleParameters(config: config)
        let cycle = TradingCycle(parameters: parameters, configHash: config.hash, database: database, stateDirectory: options.stateDirectory,
                                 market: venues.market, broker: venues.broker, consultant: venues.consultant, logger: logger, interrupt: interrupt)
        let http = URLSessionHTTPClient(defaultTimeout: 30)
        let notifier = Notifier(settings: NotificationSettings(
            webhookURL: config.string("notifications.webhook_url"),
            telegramToken: config.string("notifications.telegram_bot_token_env").isEmpty ? nil
                : options.environment[config.string("notifications.telegram_bot_token_env")],
            telegramChatID: config.string("notifications.telegram_chat_id"), telegramAPIBase: config.string("notifications.telegram_api_base"),
            timeoutSeconds: config.double("notifications.timeout_seconds"), maxAttempts: config.int("notifications.max_attempts")),
            http: http, database: database.writer)
        let report: CycleReport
        do {
            report = try await cycle.run(now: nowMs)
        } catch {
            await notifier.deliver(now: nowMs, logger: logger)
            throw error
        }
        var runLogger = logger
        runLogger[metadataKey: "run_id"] = "\(report.runID)"
        do {
            let text = try RunMetrics.write(report: report, config: config, stateDirectory: options.stateDirectory, database: database,
                                            wallStart: wallStart, logger: runLogger)
            let gateway = config.string("metrics.pushgateway_url")
            if !gateway.isEmpty, let problem = await Pushgateway.push(text, to: gateway, http: http) {
                runLogger.warning("metrics not pushed to the Pushgateway", metadata: ["error": "\(problem)"])
            }
        } catch {
            runLogger.error("metrics not written", metadata: ["error": "\(error)"])
        }
        await notifier.deliver(now: nowMs, logger: runLogger)
        print(report.summary)
        switch report.outcome {
        case .ok: return
        case .partial: throw ExitWith(code: .symbolsFailed)
        case .interrupted: throw ExitWith(code: interrupt.raised == SIGINT ? .interruptedByINT : .interruptedByTERM)
        case .failed: throw ExitWith(code: .internalError)
        }
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
        guard let text = try? String(contentsOfFile: stateDirectory + "/next_run", encoding: .utf8) else { return nil }
        return Timestamp.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Counts runs that found the lock held (a metric), without touching the database the holder is using.
enum LockContention {
    static func record(stateDirectory: String) {
        let path = stateDirectory + "/lock_contention"
        let current = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        try? AtomicFile.write("\(current + 1)\n", to: path)
    }

    static func count(stateDirectory: String) -> Int {
        (try? String(contentsOfFile: stateDirectory + "/lock_contention", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
    }
}
