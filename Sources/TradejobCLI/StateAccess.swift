import ArgumentParser
import Foundation
import Cycle
import PostgresStorage
import Settings
import Storage
import TradingDomain

/// The state a command reads or changes: the SQLite database of the state directory (the default) or the PostgreSQL
/// account `state.url` names. Commands that work on both go through its store (the `Ledger`) and safe-mode lock.
struct CommandState {
    let store: any StateStore
    let safeModeLocks: any SafeModeLockStorage
    /// Where it is, for messages: the state directory, or the redacted URL and the account.
    let place: String
    let sqlite: StateDatabase?
    let postgres: PostgresState?

    /// Opens the state `config` names; nil when it is SQLite and the database does not exist yet (and `create` is false).
    static func open(options: CommonOptions, config: ResolvedConfig, create: Bool = false, now: Int64) throws -> CommandState? {
        if !config.string("state.url").isEmpty {
            // Only a command that creates (`safe-mode enter`) upgrades an older schema; the others read or clear.
            let state = try PostgresStateAccess.open(config, environment: options.environment, now: now, upgrades: create)
            return CommandState(store: state, safeModeLocks: SafeModeLockRow(state: state, now: now),
                                place: "\(state.address.redacted) account \(state.address.account)", sqlite: nil, postgres: state)
        }
        guard create || FileManager.default.fileExists(atPath: options.databasePath) else { return nil }
        if create { try options.ensureStateDirectory() }
        let database = try StateDatabase(path: options.databasePath)
        return CommandState(store: database.store, safeModeLocks: SafeModeLockFile(stateDirectory: options.stateDirectory),
                            place: options.stateDirectory, sqlite: database, postgres: nil)
    }

    func close() {
        postgres?.close()
        try? sqlite?.close()
    }
}

/// `tradejob migrate`: creates the state or brings its schema up to this version's migrations, and exits (a
/// Kubernetes Job runs it before the CronJob's first cycle; `run` migrates by itself too).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create the state or apply the migrations it lacks, then exit.")
    @OptionGroup var options: CommonOptions

    func run() throws {
        let config = try options.loadConfig()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if !config.string("state.url").isEmpty {
            let state = try PostgresStateAccess.open(config, environment: options.environment, now: now)
            defer { state.close() }
            print(state.appliedMigrations.isEmpty ? "\(state.address.redacted) account \(state.address.account): schema \(state.address.schema) is current"
                  : "\(state.address.redacted) account \(state.address.account): applied \(state.appliedMigrations.joined(separator: ", ")) to schema \(state.address.schema)")
            return
        }
        try options.ensureStateDirectory()
        let database = try StateDatabase(path: options.databasePath)
        try database.close()
        print("\(options.databasePath): schema is current")
    }
}

/// `tradejob migrate-state --from sqlite DIR --to postgres URL [--account NAME]`: copies a SQLite state into a new
/// PostgreSQL account, exactly, then reads every row back and compares it value by value with the source.
struct MigrateStateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-state",
        abstract: "Copy a SQLite state into a new PostgreSQL account and check the copy value by value.",
        discussion: "Both states are locked while copying (the state directory's run lock and the account's advisory lock). The password comes from TRADEJOB_STATE_PASSWORD_FILE or TRADEJOB_STATE_PASSWORD. An account that already holds a state is refused.")
    @Option(parsing: .upToNextOption, help: "sqlite DIR: the state directory to copy.") var from: [String]
    @Option(parsing: .upToNextOption, help: "postgres URL: the database to copy into.") var to: [String]
    @Option(help: "The account (schema tradejob_<account>) to create.") var account = "default"

    /// Arguments as an error message shows them: a password in a URL (`scheme://user:password@…`) as `***`.
    static func shown(_ arguments: [String]) -> String {
        arguments.map { argument in
            guard let scheme = argument.range(of: "://"), let at = argument[scheme.upperBound...].firstIndex(of: "@"),
                  let colon = argument[scheme.upperBound..<at].firstIndex(of: ":") else { return argument }
            return String(argument[..<argument.index(after: colon)]) + "***" + String(argument[at...])
        }.joined(separator: " ")
    }

    func run() throws {
        guard from.count == 2, from[0] == "sqlite" else { throw UsageError(message: "--from: expected `sqlite DIR`, got \(Self.shown(from))") }
        guard to.count == 2, to[0] == "postgres" else { throw UsageError(message: "--to: expected `postgres URL`, got \(Self.shown(to))") }
        let directory = from[1], databasePath = from[1] + "/tradejob.sqlite"
        let address: PostgresAddress
        do { address = try PostgresAddress(url: to[1], account: account) } catch { throw UsageError(message: "--to/--account: \(error)") }
        guard FileManager.default.fileExists(atPath: databasePath) else { throw UsageError(message: "--from: no state database at \(databasePath)") }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let sourceLock = RunLock(path: directory + "/tradejob.lock")
        try sourceLock.acquire(startedAt: Date())
        defer { sourceLock.release() }
        let database = try StateDatabase(path: databasePath)
        let tables = try database.export()
        var files: [String: String] = [:]
        if let lock = FileManager.default.contents(atPath: SafeModeLock.path(stateDirectory: directory)) { files[SafeModeLockRow.name] = String(decoding: lock, as: UTF8.self) }
        try database.close()

        let state = try PostgresState(address: address, password: try PostgresStateAccess.password(address, environment: CommonSettings.processEnvironment), now: now)
        defer { state.close() }
        guard try state.tryRunLock() else { throw PostgresRunLockHeld(account: account, target: address.redacted, holder: state.runLockHolder()) }
        guard try state.lastRun() == nil, try state.writeNow({ try $0.walletIsEmpty() }) else {
            throw UsageError(message: "--account: account \(account) on \(address.redacted) already holds a state (runs or a wallet); nothing was copied — choose a new account")
        }
        let copied = try state.importState(tables, files: files, now: now)
        // Read back and compare: every row, every value (money as raw integers, doubles bit for bit).
        var compared = 0
        for table in tables {
            let back = try state.storedRows(table.name, columns: table.columns)
            let key: ([StoredValue]) -> String = { $0.map { "\($0)" }.joined(separator: "\u{1}") }
            if back.map(key).sorted() != table.rows.map(key).sorted() {
                throw PostgresStateError(message: "the copy of table \(table.name) differs from \(databasePath) (\(back.count) rows read back, \(table.rows.count) copied); the account holds a partial copy: drop schema \(address.schema) before trying again")
            }
            compared += table.rows.count * table.columns.count
        }
        print("copied \(databasePath) into \(address.redacted) account \(account) (schema \(address.schema)):")
        for table in tables where (copied[table.name] ?? 0) > 0 { print("  \(table.name): \(copied[table.name] ?? 0) rows") }
        if !files.isEmpty { print("  state_files: \(files.keys.sorted().joined(separator: ", "))") }
        print("read back and compared: \(compared) values, every one equal")
    }
}
