import ArgumentParser
import Foundation
import PostgresStorage
import Storage
import Settings

/// `--config` and `--state-dir`, taken by every command.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $TRADEJOB_CONFIG or config/default.json).")
    var config: String?

    @Option(name: .customLong("state-dir"), help: "State directory (default: $TRADEJOB_STATE_DIR or state); created if missing.")
    var stateDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (default: $TRADEJOB_LOG_LEVEL or info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "human or json (default: human on a terminal, json otherwise).")
    var logFormat: String?

    /// The options as plain values (what every command does with them is `CommonSettings`'s).
    var settings: CommonSettings { CommonSettings(config: config, stateDir: stateDir, logLevel: logLevel, logFormat: logFormat) }

    var environment: [String: String] { CommonSettings.processEnvironment }
    var configPath: String { settings.configPath }
    var stateDirectory: String { settings.stateDirectory }
    var databasePath: String { settings.databasePath }
    func loadConfig() throws -> ResolvedConfig { try settings.loadConfig() }
    func ensureStateDirectory() throws { try settings.ensureStateDirectory() }

    /// Reads the state the configuration names — the PostgreSQL account when `state.url` is set, else this
    /// directory's SQLite file — in one read transaction; nil when the SQLite state does not exist yet. A configuration
    /// that does not load means the SQLite state (`history`, `report`, `explain` work without a valid one).
    func readState<T>(_ body: (any StateRecords) throws -> T) throws -> T? {
        if let config = try? loadConfig(), !config.string("state.url").isEmpty {
            let state = try PostgresStateAccess.open(config, environment: environment, now: Int64(Date().timeIntervalSince1970 * 1000), upgrades: false)
            defer { state.close() }
            return try state.readRecordsNow(body)
        }
        guard FileManager.default.fileExists(atPath: databasePath) else { return nil }
        return try StateDatabase(path: databasePath).readRecordsNow(body)
    }

    /// The state directory from `--state-dir`, else `$TRADEJOB_STATE_DIR`, else `state`; without a trailing slash.
    static func stateDirectory(_ option: String?, environment: [String: String]) -> String {
        stateDirectory(option, variable: environment["TRADEJOB_STATE_DIR"])
    }

    /// As above, given the value of `$TRADEJOB_STATE_DIR`.
    static func stateDirectory(_ option: String?, variable: String?) -> String {
        let dir = option ?? variable ?? "state"
        return dir.hasSuffix("/") && dir.count > 1 ? String(dir.dropLast()) : dir
    }
}

/// `--config`, `--state-dir`, `--log-level`, `--log-format` as plain values, and what commands do with them; a `run`
/// read by `RunArguments` uses it without any ArgumentParser type.
struct CommonSettings {
    var config: String?
    var stateDir: String?
    var logLevel: String?
    var logFormat: String?

    /// The process environment, read once: `ProcessInfo.environment` builds a new dictionary on every call, and a run
    /// asks for it a dozen times (the job never changes its own environment).
    var environment: [String: String] { Self.processEnvironment }
    static let processEnvironment = ProcessInfo.processInfo.environment

    var configPath: String { config ?? environment["TRADEJOB_CONFIG"] ?? "config/default.json" }
    var stateDirectory: String { CommonOptions.stateDirectory(stateDir, environment: environment) }

    func loadConfig() throws -> ResolvedConfig {
        try ConfigLoader.load(path: configPath, environment: environment)
    }

    /// Creates the state directory with mode 0700, or tightens an existing one to 0700 (it holds balances and trades).
    func ensureStateDirectory() throws {
        do {
            // `stat` as `FileManager.fileExists` (through a symbolic link), `lstat` as `attributesOfItem` (the link
            // itself): the same answers without the attribute dictionary (its first use scans the conformance records).
            let directory = stateDirectory
            var target = stat(), item = stat()
            if stat(directory, &target) == 0 {
                guard target.st_mode & S_IFMT == S_IFDIR else { throw UsageError(message: "the state directory \(directory) is not a directory") }
                // Only a directory this process owns is tightened; one shared through its group is the operator's choice.
                guard lstat(directory, &item) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                let mode = Int(item.st_mode & 0o7777)
                let owned = item.st_uid == geteuid()
                if owned && mode & 0o077 != 0 { try FileManager.default.setAttributes([.posixPermissions: mode & 0o700], ofItemAtPath: directory) }
            } else {
                try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError(message: "cannot create the state directory \(stateDirectory): \(error.localizedDescription)")
        }
    }

    var databasePath: String { stateDirectory + "/tradejob.sqlite" }
}
