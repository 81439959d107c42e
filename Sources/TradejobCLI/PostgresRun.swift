import Foundation
import Logging
import Brokers
import Cycle
import HTTPTransport
import MarketData
import Operations
import PostgresStorage
import Settings
import Storage
import Strategy
import TradingDomain

/// Opening the PostgreSQL state a configuration names (`state.url`, `state.account`).
enum PostgresStateAccess {
    /// The password: the file `TRADEJOB_STATE_PASSWORD_FILE` names (a mounted secret; one trailing newline dropped),
    /// else `TRADEJOB_STATE_PASSWORD`, else the URL's own (best avoided: the config file then holds a secret).
    static func password(_ address: PostgresAddress, environment: [String: String]) throws -> String? {
        if let path = environment["TRADEJOB_STATE_PASSWORD_FILE"], !path.isEmpty {
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw ConfigError(file: "environment", problems: ["TRADEJOB_STATE_PASSWORD_FILE: got \(ConfigValue.quote(path)), expected a readable file holding the state database's password"])
            }
            var text = String(decoding: bytes, as: UTF8.self)
            if text.hasSuffix("\n") { text.removeLast() }
            if text.hasSuffix("\r") { text.removeLast() }
            return text
        }
        if let value = environment["TRADEJOB_STATE_PASSWORD"], !value.isEmpty { return value }
        return address.password
    }

    /// The address of `config` (already validated by the loader).
    static func address(_ config: ResolvedConfig) throws -> PostgresAddress {
        do {
            return try PostgresAddress(url: config.string("state.url"), account: config.string("state.account"))
        } catch {
            throw ConfigError(file: config.file, problems: ["\(error)"])
        }
    }

    /// `upgrades` false for the commands that only read (see `PostgresState.init`).
    static func open(_ config: ResolvedConfig, environment: [String: String], now: Int64, upgrades: Bool = true) throws -> PostgresState {
        let address = try address(config)
        return try PostgresState(address: address, password: try password(address, environment: environment), now: now, upgrades: upgrades)
    }
}

/// The safe-mode lock as the row `safe_mode.lock` of a PostgreSQL state's `state_files`, with the lockfile's rules:
/// a row that cannot be read or parsed — or a database that cannot be asked — holds safe mode (fail closed).
struct SafeModeLockRow: SafeModeLockStorage {
    static let name = "safe_mode.lock"
    let state: PostgresState
    let now: Int64

    func read() -> SafeModeLock.Reading {
        let content: String?
        do {
            content = try state.file(Self.name)
        } catch {
            return .unreadable("\(state.address.redacted) state_files \(Self.name) cannot be read (\(error))")
        }
        guard let content else { return .absent }
        return SafeModeLock.parse(Data(content.utf8), origin: "\(state.address.schema).state_files \(Self.name)")
    }

    func write(_ lock: SafeModeLock) throws {
        try state.setFile(Self.name, String(decoding: try lock.encoded(), as: UTF8.self), now: now)
    }

    func remove() throws { try state.removeFile(Self.name) }
}

extension RunArguments {
    /// `tradejob run` on a PostgreSQL state: the run lock is the account's advisory lock, the schedule is the newest
    /// run's `next_run_at`, the safe-mode lock a row; the scratch directory (`--state-dir`) keeps only the metrics file.
    func runOnPostgres(_ start: RunCommand.Start, options: CommonSettings, wallStart: Date) async throws {
        let (config, nowMs, grace) = (start.config, start.nowMs, start.grace)
        let state = try PostgresStateAccess.open(config, environment: options.environment, now: nowMs)
        defer { state.close() }
        if ifDue, let notDue = NextRunFile.notDue(next: try state.nextRunAt(), now: nowMs, grace: grace) {
            IfDueFastPath.emit(notDue)
            return
        }
        guard try state.tryRunLock() else {
            _ = try? state.addToCounters([("lock_contention", 1)])
            throw PostgresRunLockHeld(account: state.address.account, target: state.address.redacted, holder: state.runLockHolder())
        }
        // Checked again under the lock: a cycle that finished meanwhile may have moved the next run.
        if ifDue, let notDue = NextRunFile.notDue(next: try state.nextRunAt(), now: nowMs, grace: grace) {
            IfDueFastPath.emit(notDue)
            return
        }
        try options.ensureStateDirectory()
        // Temporary files of dead processes in the scratch directory (a metrics write killed half way).
        StaleTemporaryFiles.remove(in: options.stateDirectory)
        var logger = try Logging.make(label: "tradejob", options: options)
        logger[metadataKey: "account"] = "\(state.address.account)"
        let interrupt = InterruptFlag()
        let signals = SignalTrap(flag: interrupt)
        defer { withExtendedLifetime(signals) {} }

        // The config must not contradict the stored state (another quote asset).
        if config.string("mode") == "paper" {
            let (assets, symbols) = try state.transaction(readOnly: true) { ledger in
                (Set(try ledger.balances().keys), try ledger.activePositions().map(\.symbol.rawValue))
            }
            if let conflict = StateCompatibility.check(config, state: state.address.redacted + " (account \(state.address.account))", walletAssets: assets,
                                                       feeAssets: Set(try state.feeAssets()), activeSymbols: symbols,
                                                       newState: "use a new state.account") {
                throw conflict
            }
        }
        let target = CycleTarget(store: state, records: state, safeModeLocks: SafeModeLockRow(state: state, now: nowMs), nextRunFile: nil,
                                 checkMilliseconds: 0, lockContention: { (try? state.addToCounters([]))?["lock_contention"] ?? 0 },
                                 account: state.address.account, addToCounters: { try state.addToCounters($0) })
        try await runCycle(start, on: target, options: options, wallStart: wallStart, logger: logger, interrupt: interrupt)
    }
}
