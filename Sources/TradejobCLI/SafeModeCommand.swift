import ArgumentParser
import Foundation
import TradingDomain
import Cycle
import Settings
import Storage

/// `tradejob safe-mode enter|clear|status`.
struct SafeModeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "safe-mode", abstract: "Enter, clear or inspect safe mode.",
                                                    subcommands: [Enter.self, Clear.self, Status.self])

    struct Enter: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "enter", abstract: "Enter safe mode now: the next run closes every position; entries stay blocked until the cooldown ends.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Why (recorded in the lockfile and the events).") var reason: String
        @Option(name: .customLong("for"), help: "Cooldown such as 30m, 4h, 2d (default: safe_mode.cooldown_minutes).") var duration: String?
        @Option(help: "As of this instant (RFC 3339), for tests and replays.") var now: String?

        func run() throws {
            let config = try options.loadConfig()
            let nowMs = now.flatMap(Timestamp.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
            var cooldown = Int64(config.int("safe_mode.cooldown_minutes")) * 60_000
            if let duration {
                guard let ms = Duration.parse(duration) else {
                    throw UsageError(message: "--for: got \"\(duration)\", expected a duration such as 30m, 4h or 2d (at most \(Duration.maximumDays)d)")
                }
                cooldown = ms
            }
            guard let state = try CommandState.open(options: options, config: config, create: true, now: nowMs) else { return }
            defer { state.close() }
            let pending = try state.store.writeNow { try $0.activePositions().map(\.symbol) }
            let lock = SafeModeLock(reason: reason, trigger: "manual", enteredAt: nowMs, until: nowMs + cooldown, positionsClosed: [],
                                    positionsPending: pending, autoResume: config.bool("safe_mode.auto_resume"))
            try state.safeModeLocks.write(lock)
            try state.store.writeNow { ledger in
                try ledger.record(runID: nil, time: nowMs, kind: .safeModeEntered, message: "safe mode entered by hand until \(lock.until): \(reason)",
                                  data: ["trigger": "manual", "until": lock.until])
                try ledger.setJobStatus(.safeMode)
            }
            print("safe mode until \(lock.until); the next run closes \(pending.count) position(s)")
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "clear", abstract: "Leave safe mode (removes the lockfile, also an unreadable one).")
        @OptionGroup var options: CommonOptions
        @Option(help: "As of this instant (RFC 3339), for tests and replays.") var now: String?
        func run() throws {
            let nowMs = now.flatMap(Timestamp.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
            // On a PostgreSQL state the lock is a row; the SQLite state's lockfile is cleared even when the config is broken.
            if let config = try? options.loadConfig(), !config.string("state.url").isEmpty {
                guard let state = try CommandState.open(options: options, config: config, now: nowMs) else { return }
                defer { state.close() }
                if case .absent = state.safeModeLocks.read() {
                    print("not in safe mode")
                    return
                }
                try state.safeModeLocks.remove()
                try Self.recordCleared(state.store, now: nowMs)
                print("safe mode cleared")
                return
            }
            let path = SafeModeLock.path(stateDirectory: options.stateDirectory)
            guard FileManager.default.fileExists(atPath: path) else {
                print("not in safe mode")
                return
            }
            try SafeModeLock.remove(stateDirectory: options.stateDirectory)
            if FileManager.default.fileExists(atPath: options.databasePath) {
                let database = try StateDatabase(path: options.databasePath)
                try Self.recordCleared(database.store, now: nowMs)
            }
            print("safe mode cleared")
        }

        static func recordCleared(_ store: any StateStore, now: Int64) throws {
            try store.writeNow { ledger in
                try ledger.record(runID: nil, time: now, kind: .safeModeExited, message: "safe mode cleared by hand")
                try ledger.setJobStatus(.running)
                try ledger.removeJobState("equity.peak")  // the drawdown is measured from a fresh peak
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show whether safe mode holds, why and until when.")
        @OptionGroup var options: CommonOptions
        @Flag(name: .long, help: "JSON output.") var json = false
        func run() throws {
            let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
            var reading = SafeModeLock.read(stateDirectory: options.stateDirectory)
            var object: [String: Any] = ["lockfile": SafeModeLock.path(stateDirectory: options.stateDirectory)]
            // The configuration says where the state is; one that does not load leaves the lockfile of the state
            // directory, said so (a PostgreSQL state it may name is not asked).
            let config: ResolvedConfig?
            do { config = try options.loadConfig() } catch {
                config = nil
                object["config_error"] = "\(error)"
                FileHandle.standardError.write(Data("tradejob: the configuration could not be read, so only the lockfile in \(options.stateDirectory) was: \(error)\n".utf8))
            }
            if let config, !config.string("state.url").isEmpty, let state = try CommandState.open(options: options, config: config, now: nowMs) {
                defer { state.close() }
                reading = state.safeModeLocks.read()
                object["lockfile"] = "\(state.place): state_files \(SafeModeLockRow.name)"
            }
            switch reading {
            case .absent:
                object["active"] = false
            case let .unreadable(why):
                object["active"] = true
                object["unreadable"] = why
                object["how_to_clear"] = SafeModeLock.clearHint
            case let .present(lock):
                object["active"] = true
                object["reason"] = lock.reason
                object["trigger"] = lock.trigger
                object["entered_at"] = lock.enteredAt
                object["until"] = lock.until
                object["cooldown_over"] = (lock.untilMs ?? 0) <= nowMs
                object["auto_resume"] = lock.autoResume
                object["positions_closed"] = lock.positionsClosed.map(\.rawValue)
                object["positions_pending"] = lock.positionsPending.map(\.rawValue)
            }
            if json {
                print(JSONText.render(object))
            } else if case .absent = reading {
                print("safe mode: off")
            } else if case let .unreadable(why) = reading {
                print("safe mode: ON (lockfile unreadable: \(why)) — fail closed; \(SafeModeLock.clearHint)")
            } else if case let .present(lock) = reading {
                print("safe mode: ON since \(lock.enteredAt) until \(lock.until) — \(lock.reason) (trigger \(lock.trigger))")
                print("closed: \(lock.positionsClosed.map(\.rawValue).joined(separator: ", ")); still to close: \(lock.positionsPending.map(\.rawValue).joined(separator: ", "))")
            }
        }
    }
}

/// Durations such as `90s`, `30m`, `4h`, `2d` in milliseconds, at most `maximumDays` (nil beyond: no overflow).
enum Duration {
    static let maximumDays: Int64 = 36_500
    static func parse(_ text: String) -> Int64? {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0 else { return nil }
        let unitMs: Int64
        switch unit {
        case "s": unitMs = 1000
        case "m": unitMs = 60_000
        case "h": unitMs = 3_600_000
        case "d": unitMs = 86_400_000
        default: return nil
        }
        let (ms, overflow) = value.multipliedReportingOverflow(by: unitMs)
        return !overflow && ms <= maximumDays * 86_400_000 ? ms : nil
    }
}

/// Deterministic JSON text (sorted keys) from plain values.
enum JSONText {
    static func render(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
              let text = String(data: data, encoding: .utf8) else {
            assertionFailure("not a JSON object: \(object)")  // a value of a type JSON has no form for (debug builds stop here)
            return "{}"
        }
        return text
    }
}
