import ArgumentParser
import Foundation
import Backtest
import TradingDomain

/// `tradejob check lookahead|recursive`: the bias checks of a strategy on history (exit 2 when one fails).
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check a strategy for look-ahead bias or a window too short for its recursive indicators.",
                                                    subcommands: [Lookahead.self, Recursive.self])

    struct Lookahead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lookahead", abstract: "Re-run the backtest with the history cut at its decisions and compare them (exit 2 on a difference).")
        @OptionGroup var options: CommonOptions
        @OptionGroup var input: BacktestInputOptions
        @Option(help: "Decisions re-run at most, spread evenly over all of them.") var signals: Int = 20

        func validate() throws {
            guard signals >= 1, signals <= 10_000 else { throw ValidationError("--signals: got \(signals), expected 1 to 10000") }
        }

        func run() async throws {
            let config = try input.loadConfig(options)
            let (candles, timeframe) = try await input.loadCandles(config: config)
            let (parameters, paper) = try input.setup(config: config, candles: candles, timeframe: timeframe)
            let runner = BacktestRunner(parameters: parameters, paper: paper, candles: candles, from: input.fromMs, to: input.toMs, everyCandle: input.everyCandle)
            let report = try await LookaheadCheck(runner: runner, samples: signals).run()
            print("look-ahead check: \(report.decisions) decisions over the whole history; \(report.findings.count) re-run with the history cut at their cycle")
            for f in report.findings {
                print("  \(Timestamp.rfc3339(f.cycleTime))  \(f.decisions) decisions up to it  " + (f.difference.map { "DIFFERENT: \($0)" } ?? "same"))
            }
            if report.findings.isEmpty {
                print("FAIL no decision to check: the strategy placed no order on this history (choose a longer period or other settings)")
                throw ExitWith(code: .checkFailed)
            }
            guard report.passed else {
                print("FAIL \(report.findings.filter { $0.difference != nil }.count) of \(report.findings.count) cut histories changed a decision or the analysis: look-ahead bias")
                throw ExitWith(code: .checkFailed)
            }
            print("PASS every decision and analysis reading is the same without the bars after it")
        }
    }

    struct Recursive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "recursive", abstract: "Compare the indicators at the last bar from windows of several lengths with the whole history (exit 2 when the job's window is too short).")
        @OptionGroup var options: CommonOptions
        @OptionGroup var input: BacktestInputOptions
        @Option(help: "Window lengths to show besides market.lookback, comma separated.") var lengths: String = "100,200,500,1000"
        @Option(help: "Largest relative difference allowed at market.lookback.") var tolerance: Double = 1e-6

        func validate() throws {
            guard Self.parse(lengths) != nil else { throw ValidationError("--lengths: got \"\(lengths)\", expected positive whole numbers separated by commas, e.g. 100,200,500") }
            guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance: got \(tolerance), expected a number ≥ 0") }
        }

        static func parse(_ text: String) -> [Int]? {
            let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
            return parts.compactMap { $0 }
        }

        func run() async throws {
            let config = try input.loadConfig(options)
            let (candles, timeframe) = try await input.loadCandles(config: config)
            let (parameters, _) = try input.setup(config: config, candles: candles, timeframe: timeframe)
            // The history of the period only: its last bar is the one compared.
            let to = input.toMs
            let period = to.map { t in candles.mapValues { $0.filter { $0.openTime + timeframe.milliseconds <= t } } } ?? candles
            let check = RecursiveCheck(candles: period, parameters: parameters.analysis, lookback: parameters.lookback,
                                       lengths: Self.parse(lengths) ?? [], tolerance: tolerance)
            let report = check.run()
            print("recursive check: the analysis at each symbol's last bar from the newest L bars against the whole history; relative differences, market.lookback = \(parameters.lookback)")
            var rows = [["symbol", "bars"] + report.names]
            for row in report.rows {
                let mark = row.length == report.lookback ? " *" : ""
                rows.append([row.symbol.rawValue, "\(row.length)\(mark)"] + (row.differences?.map { String(format: "%.2e", $0) } ?? report.names.map { _ in "too few" }))
            }
            print(Self.table(rows), terminator: "")
            guard report.passed else {
                let worst = report.rows.filter { $0.length == report.lookback }.compactMap(\.worst).max()
                print(String(format: "FAIL at market.lookback = %d bars the largest difference is %@ (tolerance %.1e): raise market.lookback", report.lookback,
                             worst.map { String(format: "%.2e", $0) } ?? "unknown (too few bars)", report.tolerance))
                throw ExitWith(code: .checkFailed)
            }
            print(String(format: "PASS at market.lookback = %d bars every indicator is within %.1e of its whole-history value", report.lookback, report.tolerance))
        }

        static func table(_ rows: [[String]]) -> String {
            var widths: [Int] = []
            for row in rows { for (k, cell) in row.enumerated() { if k == widths.count { widths.append(0) }; widths[k] = max(widths[k], cell.count) } }
            return rows.map { row in row.enumerated().map { k, c in k == row.count - 1 ? c : c.padding(toLength: widths[k], withPad: " ", startingAt: 0) }.joined(separator: "  ") }
                .joined(separator: "\n") + "\n"
        }
    }
}
