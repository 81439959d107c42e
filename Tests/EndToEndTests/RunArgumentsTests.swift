import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import TradejobCLI

/// `tradejob run`'s hand-written parser (`RunArguments.plain`) against ArgumentParser's `RunCommand.parseAsRoot`: the
/// same options for every argument list it reads, and nil (ArgumentParser reads it, with its messages and exit codes)
/// for everything else.
@Suite struct RunArgumentsTests {
    static let now = "2024-03-01T00:15:15Z"

    /// ArgumentParser's reading of `run`'s arguments: the options, or the exit code and message it ends with.
    enum Reference: Equatable {
        case parsed(RunArguments)
        case refused(code: Int32, message: String)
    }

    static func reference(_ arguments: [String]) throws -> Reference {
        do {
            let command = try RunCommand.parseAsRoot(arguments)
            // `--help` and `-h` parse to ArgumentParser's help command, which prints the help and exits 0.
            guard let run = command as? RunCommand else { return .refused(code: 0, message: "\(type(of: command))") }
            return .parsed(run.arguments)
        } catch {
            return .refused(code: RunCommand.exitCode(for: error).rawValue, message: RunCommand.message(for: error))
        }
    }

    /// Argument lists read by hand, with what they hold.
    static let plainForms: [([String], RunArguments)] = [
        ([], RunArguments()),
        (["--config", "c.json", "--state-dir", "st", "--now", now],
         RunArguments(config: "c.json", stateDir: "st", now: now)),
        (["--now=\(now)", "--config=c.json", "--state-dir=st/", "--if-due"],
         RunArguments(config: "c.json", stateDir: "st/", ifDue: true, now: now)),
        (["--if-due", "--live", "--log-level", "debug", "--log-format=json"],
         RunArguments(logLevel: "debug", logFormat: "json", ifDue: true, live: true)),
        (["--log-level", "LOUD", "--log-format", "xml"], RunArguments(logLevel: "LOUD", logFormat: "xml")),
        (["--config", "a=b.json"], RunArguments(config: "a=b.json")),
        (["--config=a=b.json", "--state-dir", "with space"], RunArguments(config: "a=b.json", stateDir: "with space")),
        (["--now", "2024-03-01T00:15:15.250+02:00"], RunArguments(now: "2024-03-01T00:15:15.250+02:00")),
        (["--state-dir", "run"], RunArguments(stateDir: "run")),
    ]

    /// Argument lists left to ArgumentParser: its errors, help, and valid forms the hand-written parser does not read.
    static let leftToArgumentParser: [[String]] = [
        ["--help"], ["-h"], ["help"], ["--config", "help"], ["--config=help"],
        ["--bogus"], ["--bogus", "x"], ["--bogus=x"], ["-c", "x"], ["extra"], ["--", "x"],
        ["--config"], ["--now"], ["--config", "--live"], ["--config", "-x"], ["--config=-x"], ["--config="], ["--config", ""],
        ["--now", "yesterday"], ["--now=2024-13-01T00:00:00Z"], ["--now", "2024-03-01"],
        ["--if-due", "--if-due"], ["--live", "--live"], ["--config", "a", "--config", "b"], ["--now", now, "--now=\(now)"],
        ["--if-due=true"], ["--live=1"], ["--if-due", "yes"], ["-config", "x"], ["--Config", "x"], ["--state_dir", "x"],
        ["--generate-completion-script", "bash"], ["--experimental-dump-help"], ["--version"],
    ]

    @Test func readsThePlainFormsAsArgumentParserDoes() throws {
        for (arguments, expected) in Self.plainForms {
            let plain = RunArguments.plain(["tradejob", "run"] + arguments)
            #expect(plain == expected, "\(arguments)")
            #expect(try Self.reference(arguments) == .parsed(expected), "\(arguments)")
        }
    }

    @Test func leavesEverythingElseToArgumentParser() throws {
        var refused = 0
        for arguments in Self.leftToArgumentParser {
            #expect(RunArguments.plain(["tradejob", "run"] + arguments) == nil, "\(arguments)")
            if case let .refused(code, message) = try Self.reference(arguments) {
                refused += 1
                // Usage problems exit 64 with ArgumentParser's message; help exits 0.
                #expect(code == 64 || code == 0, "\(arguments)")
                #expect(!message.isEmpty, "\(arguments)")
            }
        }
        #expect(refused >= 20)
        #expect(try Self.reference(["--now", "yesterday"])
                == .refused(code: 64, message: "--now: got \"yesterday\", expected an RFC 3339 time such as 2024-05-01T12:00:00Z"))
        #expect(RunArguments.plain(["tradejob", "status", "--config", "c.json"]) == nil)
        #expect(RunArguments.plain(["tradejob"]) == nil)
    }

    /// Random argument lists from the options, values and odd words: whenever the hand-written parser reads one,
    /// ArgumentParser reads the same options from it.
    @Test func agreesWithArgumentParserOnRandomArgumentLists() throws {
        var rng = SeededGenerator(seed: 20)
        let names = ["--config", "--state-dir", "--log-level", "--log-format", "--now"]
        let values = ["c.json", "st", Self.now, "yesterday", "", "-x", "help", "a=b", "debug", "json"]
        let words = ["--if-due", "--live", "--help", "-h", "--bogus", "extra", "--"]
        var readByHand = 0
        for _ in 0..<3000 {
            var arguments: [String] = []
            for _ in 0..<Int.random(in: 0...5, using: &rng) {
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<4: arguments += [names.randomElement(using: &rng) ?? "", values.randomElement(using: &rng) ?? ""]
                case 4..<6: arguments.append((names.randomElement(using: &rng) ?? "") + "=" + (values.randomElement(using: &rng) ?? ""))
                case 6..<9: arguments.append(words[Int.random(in: 0..<2, using: &rng)])
                default: arguments.append(words.randomElement(using: &rng) ?? "")
                }
            }
            guard let plain = RunArguments.plain(["tradejob", "run"] + arguments) else { continue }
            readByHand += 1
            #expect(try Self.reference(arguments) == .parsed(plain), "\(arguments)")
        }
        #expect(readByHand > 300)
    }

    /// `tradejob backtest …` parsed as `BacktestCommand` alone (`Tradejob.commandParsedAlone`) reads the same options as the
    /// whole command tree, and leaves help and every refused list to the full parse (which prints its messages).
    @Test func backtestParsedAloneAsThroughTheWholeTree() throws {
        /// The options a backtest reads, as text (nil: not a backtest command).
        func readOptions(_ command: ParsableCommand?) -> String? {
            guard let b = command as? BacktestCommand else { return nil }
            return [b.options.config, b.options.stateDir, b.options.logLevel, b.options.logFormat, b.input.csvFiles.joined(separator: "|"),
                    b.input.fromState, "\(b.input.simulated)", b.input.from, b.input.to, b.input.timeframe, "\(b.input.everyCandle)",
                    b.input.strategy, "\(b.input.fast)", "\(b.input.slow)", b.input.size, b.input.fee, b.tradesOut, b.equityOut, b.html,
                    "\(b.timing)"].map { $0 ?? "-" }.joined(separator: ",")
        }
        let lists: [[String]] = [
            [], ["--csv", "a.csv"], ["--csv", "a.csv", "--csv=b.csv", "--strategy", "sma-cross", "--every-candle", "--timing"],
            ["--config", "c.json", "--state-dir", "st", "--simulated", "--from", "2024-01-01T00:00:00Z", "--to", "2024-02-01T00:00:00Z"],
            ["--csv", "a.csv", "--fast", "5", "--slow", "20", "--size", "1.5", "--fee", "0.002", "--trades-out", "t.csv", "--equity-out", "e.csv", "--html", "r.html"],
            ["--fast", "x"], ["--bogus"], ["--csv"], ["--help"], ["-h"], ["help"], ["--csv", "a.csv", "--help"], ["extra"],
        ]
        var parsedAlone = 0
        for arguments in lists {
            let alone = Tradejob.commandParsedAlone(["tradejob", "backtest"] + arguments)
            let whole = try? Tradejob.parseAsRoot(["backtest"] + arguments)
            if alone != nil { parsedAlone += 1 }
            // Parsed alone only where the whole tree reads a backtest, with the same options.
            #expect(alone == nil || readOptions(alone) == readOptions(whole), "\(arguments)")
            #expect((alone == nil) == (readOptions(whole) == nil || arguments.contains { $0 == "--help" || $0 == "-h" || $0 == "help" }), "\(arguments)")
        }
        // [] names no input: refused by the validation either way.
        #expect(parsedAlone == 4)
        #expect(Tradejob.commandParsedAlone(["tradejob", "status"]) == nil)
    }

    /// The real binary: the same cycle from a plain argument list and from one only ArgumentParser reads (an option
    /// given twice), and ArgumentParser's errors and exit codes for the rest.
    @Test func theBinaryRunsTheSameCycleEitherWay() throws {
        let plain = try Harness(), parsed = try Harness()
        defer { plain.remove(); parsed.remove() }
        let first = try plain.run(["run", "--now", "2024-03-01T00:00:15Z", "--config", plain.configPath, "--state-dir", plain.stateDir],
                                  addPaths: false)
        let second = try parsed.run(["run", "--now", "2024-03-01T09:00:00Z", "--now", "2024-03-01T00:00:15Z",
                                     "--config", parsed.configPath, "--state-dir=" + parsed.stateDir], addPaths: false)
        #expect(first.code == 0)
        #expect(second.code == first.code)
        #expect(second.stdout == first.stdout)
        #expect(try parsed.sqlite("SELECT COUNT(*) FROM signals") == plain.sqlite("SELECT COUNT(*) FROM signals"))

        let badNow = try plain.run(["run", "--now", "yesterday"])
        #expect(badNow.code == 64)
        #expect(badNow.stderr.contains("--now: got \"yesterday\", expected an RFC 3339 time"))
        let unknown = try plain.run(["run", "--bogus"])
        #expect(unknown.code == 64)
        #expect(unknown.stderr.contains("Unknown option '--bogus'"))
        let missing = try plain.run(["run", "--config"], addPaths: false)
        #expect(missing.code == 64)
        #expect(missing.stderr.contains("Missing value for '--config <config>'"))
        let help = try plain.run(["run", "--help"], addPaths: false)
        #expect(help.code == 0)
        #expect(help.stdout.contains("--if-due"))
    }
}
