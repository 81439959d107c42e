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

    /// A fresh directory with `config` (JSON text, default: the shipped default config) as config.json.
    init(config: String? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let text = try config ?? String(contentsOf: Self.repository.appendingPathComponent("config/default.json"), encoding: .utf8)
        try text.write(toFile: root.appendingPathComponent("config.json").path, atomically: true, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

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

    func sqlite(_ sql: String) throws -> String {
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
