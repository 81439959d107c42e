import ArgumentParser
import Foundation
import Backtest
import Brokers
import Cycle
import MarketData
import Operations
import Settings
import Storage
import Strategy
import TradingDomain

/// `tradejob backtest`: the real cycle over history with a simulated clock, in a state directory of its own.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backtest", abstract: "Run the very same cycle over history (CSV, stored candles or the simulated market).")
    @OptionGroup var options: CommonOptions
    @OptionGroup var input: BacktestInputOptions
    @Option(name: .customLong("trades-out"), help: "Write the closed trades as CSV.") var tradesOut: String?
    @Option(name: .customLong("equity-out"), help: "Write the equity curve as CSV.") var equityOut: String?
    @Option(help: "Write the HTML report (equity and drawdown charts, per-symbol statistics, trades) to this file.") var html: String?
    @Flag(help: "Print on stderr how long loading, the analysis and the cycles took, and the cycles' rate.") var timing = false
    @Option(name: .customLong("keep-state"), help: "Keep the backtest's state in an SQLite database in this directory (default: in memory; same results, slower).") var keepState: String?

    func run() async throws {
        let started = DispatchTime.now().uptimeNanoseconds
        if let keepState {
            // A backtest never touches the job's state, and starts from an empty one.
            func canonical(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
            if canonical(keepState) == canonical(options.stateDirectory) {
                throw UsageError(message: "--keep-state: \(keepState) is the job's state directory; give a directory of the backtest's own")
            }
            if FileManager.default.fileExists(atPath: keepState + "/tradejob.sqlite") {
                throw UsageError(message: "--keep-state: \(keepState) already holds a state database; give a new or empty directory")
            }
        }
        let config = try input.loadConfig(options)
        let (candles, timeframe) = try await input.loadCandles(config: config)
        let (parameters, paper) = try input.setup(config: config, candles: candles, timeframe: timeframe)

        // After the inputs were read (bad input creates nothing), before the run.
        try OutputFiles.check([("--trades-out", tradesOut), ("--equity-out", equityOut), ("--html", html)])
        let runner = BacktestRunner(parameters: parameters, paper: paper, candles: candles, from: input.fromMs, to: input.toMs, everyCandle: input.everyCandle)
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let result = try await runner.run(stateDirectory: keepState, equityOut: equityOut, chartPoints: html == nil ? 0 : Self.chartPoints)
        if timing {
            let cycleSymbols = result.cycles * parameters.symbols.count
            let rate = result.cycleSeconds > 0 ? Double(cycleSymbols) / result.cycleSeconds : 0
            // Also the count of cycles run in full (the others were idle, recorded without running the cycle): what
            // `Benchmarks/icache.sh` divides the run's cache misses by.
            let line = String(format: "timing: load %.3f s, analysis %.3f s, cycles %.3f s (%d cycles × %d symbols = %d cycle-symbols, %.0f per second; %d cycles run in full)\n",
                              loadSeconds, result.analysisSeconds, result.cycleSeconds, result.cycles, parameters.symbols.count, cycleSymbols, rate,
                              result.cycles - result.idleCycles)
            FileHandle.standardError.write(Data(line.utf8))
        }
        if let tradesOut { try AtomicFile.write(BacktestFiles.tradesCSV(result.trades), to: tradesOut) }
        if let html { try AtomicFile.write(Self.report(result, strategy: input.strategy, symbols: parameters.symbols), to: html) }
        print(BacktestSummary(result).text, terminator: "")
    }

    /// Points of the equity curve the HTML report's charts are drawn from, at most (and the last one).
    static let chartPoints = 2_000

    /// The HTML report of a backtest: the job's report page on the backtest's trades and sampled equity curve.
    static func report(_ result: BacktestResult, strategy: String, symbols: [Symbol]) -> String {
        let trades = result.trades.map {
            ClosedTrade(symbol: $0.symbol, entryTime: $0.entryTime, exitTime: $0.exitTime, quantity: $0.size, entryPrice: $0.entryPrice,
                        exitPrice: $0.exitPrice, fees: $0.fees, pnl: $0.pnl, exitReason: $0.exitReason)
        }
        let sampling = result.equityChartStride > 1 ? "the charts show the equity of one cycle in \(result.equityChartStride) (and the last)" : "the charts show every cycle's equity"
        let note = "Backtest of the \(strategy) strategy on \(symbols.map(\.rawValue).joined(separator: ", ")): \(result.cycles) cycles; \(sampling). "
            + "The summary's figures (return, drawdown, Sharpe) come from every cycle."
        return HTMLReport.render(title: "tradejob backtest", equity: result.equityChart, trades: trades, time: Timestamp.rfc3339, note: note)
    }
}
