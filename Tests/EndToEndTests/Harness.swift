import Foundation
import Testing

/// Runs the built `tradejob` binary in a temporary working directory with its own state directory.
struct Harness {
    let root: URL
    var stateDir: String { root.appendingPathComponent("state").path }
    var configPath: String { root.appendingPathComponent("config.json").path }
    var databasePath: String { stateDir + "/tradejob.sqlite" }

    /// The repository (three levels above this file).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/debug/tradejob` next to the test bundle (built by `swift build` before `swift test`).
    static var binary: String? {
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("tradejob"))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(repository.appendingPathComponent(".build/debug/tradejob"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.path
    }

    static var available: Bool { binary != nil }

    /// The backend the suite runs on: `TRADEJOB_TEST_BACKEND=postgres` (with the test server, see `.ci/postgres`) puts
    /// every harness's state in an account of its own on PostgreSQL; anything else, the SQLite state of the directory.
    static let onPostgres = ProcessInfo.processInfo.environment["TRADEJOB_TEST_BACKEND"] == "postgres" && PostgresServer.url != nil
    /// Suites that are about the SQLite files themselves (damage checks, the not-due fast path, copies of the
    /// directory) run on SQLite only.
    static let sqliteOnlyNote: Comment = "about the SQLite state files: runs on the SQLite backend only"

    /// The PostgreSQL account of this harness (`onPostgres`), nil on SQLite.
    let account: String?

    /// A fresh directory with `config` (JSON text, default: the shipped default config) as config.json. On PostgreSQL
    /// (`onPostgres`) a configuration that is a JSON object without a `state` section gets one naming a fresh account.
    init(config: String? = nil, onSQLite: Bool = false) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var text = try config ?? String(contentsOf: Self.repository.appendingPathComponent("config/default.json"), encoding: .utf8)
        var account: String?
        if Self.onPostgres, !onSQLite, var object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
           (object["state"] as? [String: Any])?["url"] as? String ?? "" == "" {
            let fresh = PostgresServer.freshAccount("h")
            object["state"] = ["url": PostgresServer.url ?? "", "account": fresh]
            text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            account = fresh
        }
        self.account = account
        try text.write(toFile: root.appendingPathComponent("config.json").path, atomically: true, encoding: .utf8)
    }

    /// Writes `text` as the configuration (on PostgreSQL with this harness's `state` section added, as `init` does).
    func writeConfig(_ text: String) throws {
        var text = text
        if let account, var object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], object["state"] == nil {
            object["state"] = ["url": PostgresServer.url ?? "", "account": account]
            text = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// The safe-mode lock as stored: the lockfile, or the `state_files` row on PostgreSQL; nil when there is none.
    func safeModeLock() throws -> String? {
        if account != nil {
            let found = try sqlite("SELECT content FROM state_files WHERE name = 'safe_mode.lock'")
            return found.isEmpty ? nil : found
        }
        return try? String(contentsOfFile: stateDir + "/safe_mode.lock", encoding: .utf8)
    }

    /// Stores `text` as the safe-mode lock (a test's damaged lock).
    func setSafeModeLock(_ text: String) throws {
        if account != nil {
            _ = try run(["migrate"])  // the account's tables, when no run made them yet
            _ = try sqlite("INSERT INTO state_files (name, content, updated_at) VALUES ('safe_mode.lock', '\(text.replacingOccurrences(of: "'", with: "''"))', 0) ON CONFLICT (name) DO UPDATE SET content = excluded.content")
            return
        }
        try text.write(toFile: stateDir + "/safe_mode.lock", atomically: true, encoding: .utf8)
    }

    /// SQLite's `PRAGMA integrity_check` (`ok` when sound); on PostgreSQL, whose server keeps its own files sound, `ok`
    /// once the account's schema answers.
    func integrityCheck() throws -> String {
        if account != nil { return try sqlite("SELECT COUNT(*) FROM runs") .isEmpty ? "no answer" : "ok" }
        return try sqlite("PRAGMA integrity_check")
    }

    /// Everything the state holds, as bytes: the SQLite file, or on PostgreSQL the text of every row of every table
    /// of the account's schema (for checks that a secret is nowhere in it).
    func stateBytes() throws -> Data {
        guard let account else { return try Data(contentsOf: URL(fileURLWithPath: databasePath)) }
        let tables = try sqlite("SELECT table_name FROM information_schema.tables WHERE table_schema = 'tradejob_\(account)'").split(separator: "\n")
        var text = ""
        for table in tables { text += try sqlite("SELECT string_agg(x::text, E'\\n') FROM \(table) x") + "\n" }
        return Data(text.utf8)
    }

    /// Runs that found the run lock held: the `lock_contention` file, or the counter of that name on PostgreSQL.
    func lockContentionCount() throws -> Int {
        if account != nil { return Int(Double(try sqlite("SELECT COALESCE(SUM(value), 0) FROM counters WHERE name = 'lock_contention'")) ?? 0) }
        return Int((try? String(contentsOfFile: stateDir + "/lock_contention", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
        if let account { PostgresServer.drop(account: account) }
    }

    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `tradejob ARGS --config <config.json> --state-dir <state>` and waits for it.
    func run(_ arguments: [String], environment: [String: String] = [:], addPaths: Bool = true) throws -> Result {
        let process = try start(arguments, environment: environment, addPaths: addPaths)
        return process.wait()
    }

    func start(_ arguments: [String], environment: [String: String] = [:], addPaths: Bool = true) throws -> Running {
        guard let binary = Self.binary else { throw HarnessError(message: "the tradejob binary is not built (run `swift build` first)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments + (addPaths ? ["--config", configPath, "--state-dir", stateDir] : [])
        process.currentDirectoryURL = root
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TRADEJOB") }
        env["TRADEJOB_LOG_LEVEL"] = env["TRADEJOB_LOG_LEVEL"] ?? "warning"
        if account != nil { env["TRADEJOB_STATE_PASSWORD"] = PostgresServer.password }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    /// A started process; `wait()` drains its output and returns the exit code.
    final class Running: @unchecked Sendable {
        let process: Process
        let out: Pipe
        let err: Pipe
        init(process: Process, out: Pipe, err: Pipe) {
            self.process = process
            self.out = out
            self.err = err
        }
        func wait() -> Result {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Result(code: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        }
        func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }
    }

    /// Runs `sql` on the state (psql on the account's schema on PostgreSQL; rows as `|`-separated lines either way).
    func sqlite(_ sql: String) throws -> String {
        if let account { return try PostgresServer.psql(sql, account: account) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [databasePath, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw HarnessError(message: "not a JSON object: \(text)")
        }
        return object
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
