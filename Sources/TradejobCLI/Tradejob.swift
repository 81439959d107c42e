import ArgumentParser
import Foundation

/// The `tradejob` command: a thin dispatcher over the subcommands; errors become the documented exit codes.
public struct Tradejob: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tradejob",
        abstract: "An autonomous trading job: each invocation runs one cycle and exits.",
        discussion: "Exit codes: 0 done (or not due), 1 some symbols failed, 2 a check failed, 64 usage, 65 malformed input file, 69 the PostgreSQL state cannot be reached, 70 internal error, 73 a file cannot be written, 75 another cycle holds the lock, 78 configuration error, 130/143 interrupted.",
        subcommands: [RunCommand.self, StatusCommand.self, ScheduleCommand.self, HistoryCommand.self, ReportCommand.self, BacktestCommand.self, OptimizeCommand.self, CheckCommand.self, AnalyzeCommand.self, ExplainCommand.self, ConfigCommand.self, SafeModeCommand.self, MigrateCommand.self, MigrateStateCommand.self])

    public init() {}

    /// `tradejob run …` and `tradejob backtest …` parsed as that command alone, without building the whole command tree
    /// (the cron tick's start-up; for a backtest 15.9 M instructions instead of 19.1 M); nil for anything else, for
    /// help, and whenever that parse fails (the full parse then reports it as usual).
    static func commandParsedAlone(_ arguments: [String] = CommandLine.arguments) -> ParsableCommand? {
        guard arguments.count >= 2,
              !arguments.dropFirst(2).contains(where: { $0 == "-h" || $0 == "--help" || $0 == "help" || $0.hasPrefix("--generate-completion") || $0 == "--experimental-dump-help" })
        else { return nil }
        switch arguments[1] {
        case "run": return try? RunCommand.parseAsRoot(Array(arguments.dropFirst(2)))
        case "backtest": return try? BacktestCommand.parseAsRoot(Array(arguments.dropFirst(2)))
        default: return nil
        }
    }

    /// Parses the arguments, runs the command and exits with the documented code.
    public static func entry() async -> Never {
        // The plain forms of `tradejob run …` need no argument parser at all (see `RunArguments`).
        if let arguments = RunArguments.plain(CommandLine.arguments) {
            await finish { try await arguments.run() }
        }
        let command: ParsableCommand
        do {
            command = try commandParsedAlone() ?? parseAsRoot()
        } catch {
            // Help and version exit 0; every parsing or validation problem exits 64.
            exit(withError: error)
        }
        await finish {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        }
    }

    /// Runs a parsed command and exits with the documented code.
    static func finish(_ body: () async throws -> Void) async -> Never {
        do {
            try await body()
            Foundation.exit(TradejobExit.ok.rawValue)
        } catch let exitWith as ExitWith {
            Foundation.exit(exitWith.code.rawValue)
        } catch where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") || error is ValidationError {
            // Help requested from a subcommand, or a late usage problem: ArgumentParser prints it (exit 0 or 64).
            exit(withError: error)
        } catch {
            let (code, message) = TradejobExit.of(error)
            FileHandle.standardError.write(Data(("tradejob: " + message + "\n").utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
