import Foundation
import Settings
import TradingDomain

/// `tradejob run --if-due … ` when the cycle is not due: the cron/timer tick that runs every few minutes and almost
/// always only finds out that it is not time yet. Answered before the argument parser, which discovers its options
/// through reflection, and without any dynamic cast or `print` (each first cast scans the binary's conformance
/// records): from start to exit this costs about what a "hello world" costs.
///
/// Only the plain forms are answered here: `run`, `--if-due`, and the common options `--config`, `--state-dir`,
/// `--log-level`, `--log-format` (`--name value` or `--name=value`), `--now`, `--live`. Anything else, a cycle that
/// is due, and every problem (a bad config, a live config without `--live`, an unreadable `next_run`) take the normal
/// path, which parses everything again and reports as usual. The not-due rule is `RunCommand.notDueMessage`, shared
/// by both paths.
public enum IfDueFastPath {
    /// The not-due line to print, or nil to take the normal path.
    public static func notDueMessage(arguments: [String], environment: [String: String]) -> String? {
        guard arguments.count >= 3, arguments[1] == "run" else { return nil }
        var options: [String: String] = [:]
        var ifDue = false, live = false
        var k = 2
        while k < arguments.count {
            let argument = arguments[k]
            k += 1
            switch argument {
            case "--if-due": ifDue = true; continue
            case "--live": live = true; continue
            default: break
            }
            let name: String, value: String
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            } else {
                guard k < arguments.count else { return nil }
                name = argument
                value = arguments[k]
                k += 1
            }
            guard ["--config", "--state-dir", "--log-level", "--log-format", "--now"].contains(name), options[name] == nil,
                  !value.hasPrefix("-") else { return nil }
            options[name] = value
        }
        guard ifDue else { return nil }
        let configPath = options["--config"] ?? environment["TRADEJOB_CONFIG"] ?? "config/default.json"
        let stateDirectory = CommonOptions.stateDirectory(options["--state-dir"], environment: environment)
        return try? RunCommand.notDueMessage(configPath: configPath, stateDirectory: stateDirectory, nowText: options["--now"],
                                             liveFlag: live, environment: environment)
    }

    /// Writes `line` and a newline to standard output with one `write(2)` (no `print`: it casts its argument).
    public static func emit(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
