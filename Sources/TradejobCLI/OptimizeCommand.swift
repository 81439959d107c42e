import ArgumentParser
import Foundation
import Backtest
import Optimize
import Settings
import Storage
import TradingDomain

/// `tradejob optimize`: a parameter search over backtests of the job's own cycle, optionally walk-forward.
struct OptimizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimize",
        abstract: "Search configuration values over backtests (grid, random or TPE), optionally walk-forward.")
    @OptionGroup var options: CommonOptions
    @OptionGroup var input: BacktestInputOptions
    @Option(help: "Search space file: JSON, configuration key → [low, high, step], [low, high] or {\"choices\": […]}.") var space: String
    @Option(help: "grid, random or tpe.") var method: String = "tpe"
    @Option(help: "Trials at most (per walk-forward window).") var trials: Int = 100
    @Option(help: "Seed of the sampler (same seed, same trials).") var seed: UInt64 = 1
    @Option(help: "sharpe, sortino, calmar, profit or sqn (higher is better).") var objective: String = "sharpe"
    @Option(name: .customLong("min-trades"), help: "Trials with fewer closed trades are rejected.") var minTrades: Int = 1
    @Option(help: "Trials run at the same time (default: the number of cores); the results do not depend on it.") var jobs: Int?
    @Option(name: .customLong("walk-forward"), help: "Split the history into this many rolling train/test windows.") var walkForward: Int?
    @Option(help: "Share of each walk-forward window used for training, e.g. 70%.") var train: String = "70%"
    @Option(help: "Rows of the ranked table printed.") var top: Int = 10
    @Option(name: .customLong("results-out"), help: "Write every trial, ranked, as CSV or JSON (by the file's extension).") var resultsOut: String?
    @Option(name: .customLong("best-out"), help: "Write the best values as a configuration file for `tradejob run --config` / `backtest --config`.") var bestOut: String?
    @Option(help: "Write the HTML page (heatmap, walk-forward table, out-of-sample equity) to this file.") var html: String?
    @Option(help: "The heatmap's two keys, e.g. strategy.min_confidence,risk.stop_loss_atr (default: the first two).") var heatmap: String?

    func validate() throws {
        guard SamplerMethod(rawValue: method) != nil else { throw ValidationError("--method: got \"\(method)\", expected grid, random or tpe") }
        guard Objective(rawValue: objective) != nil else {
            throw ValidationError("--objective: got \"\(objective)\", expected \(Objective.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard trials >= 1, trials <= 1_000_000 else { throw ValidationError("--trials: got \(trials), expected 1 to 1000000") }
        guard minTrades >= 0 else { throw ValidationError("--min-trades: got \(minTrades), expected 0 or more") }
        if let jobs, jobs < 1 || jobs > 256 { throw ValidationError("--jobs: got \(jobs), expected 1 to 256") }
        if let walkForward, walkForward < 1 || walkForward > 100 { throw ValidationError("--walk-forward: got \(walkForward), expected 1 to 100 windows") }
        guard Self.fraction(train) != nil else { throw ValidationError("--train: got \"\(train)\", expected a share such as 70% or 0.7, above 0 and below 1") }
        guard top >= 0 else { throw ValidationError("--top: got \(top), expected 0 or more") }
        if let resultsOut, !(resultsOut.hasSuffix(".csv") || resultsOut.hasSuffix(".json")) {
            throw ValidationError("--results-out: got \"\(resultsOut)\", expected a file name ending in .csv or .json")
        }
    }

    /// `70%` or `0.7` as 0.7; nil outside (0, 1).
    static func fraction(_ text: String) -> Double? {
        let value = text.hasSuffix("%") ? Double(text.dropLast()).map { $0 / 100 } : Double(text)
        guard let value, value > 0, value < 1 else { return nil }
        return value
    }

    func run() async throws {
        let spaceData = try ConfigLoader.read(path: space)
        let searchSpace = try SearchSpace.parse(spaceData, file: space, extraKeys: input.strategyChoice.searchableKeys)
        let config = try input.loadConfig(options)
        let (candles, timeframe) = try await input.loadCandles(config: config)
        let choice = input.strategyChoice
        let symbols = candles.keys.sorted()
        let runner = TrialRunner(space: searchSpace, base: config, candles: candles, everyCandle: input.everyCandle) { config, searched in
            try choice.setup(config: config, symbols: symbols, timeframe: timeframe, searched: searched)
        }
        let axes = try heatmapAxes(searchSpace)
        let settings = OptimizeSettings(method: SamplerMethod(rawValue: method) ?? .tpe, trials: trials, seed: seed,
                                        objective: Objective(rawValue: objective) ?? .sharpe, minTrades: minTrades,
                                        jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)
        do {
            _ = try makeSampler(settings.method, space: searchSpace, seed: seed, trials: trials)
        } catch {
            throw UsageError(message: "\(error)")
        }
        // Before the trials (a long search never ends with an output it cannot write).
        try OutputFiles.check([("--results-out", resultsOut), ("--best-out", bestOut), ("--html", html)])
        var report = OptimizeReport(space: searchSpace, objective: objective, method: method, seed: seed, trials: [])
        if let walkForward {
            let times = Self.cycleTimes(candles, from: input.fromMs, to: input.toMs, step: timeframe.milliseconds)
            let plan: WalkForwardPlan
            do {
                plan = try WalkForwardPlan(times: times, count: walkForward, trainFraction: Self.fraction(train) ?? 0.7)
            } catch {
                throw UsageError(message: error.message)
            }
            let found = try await Optimizer.walkForward(runner, settings: settings, plan: plan) { window, done in
                Self.showProgress("window \(window)/\(plan.windows.count): \(done) trials")
            }
            report.windows = found.windows
            report.outOfSampleEquity = found.equity
            report.trials = found.lastTrials
            report.buyAndHoldReturn = found.buyAndHold
        } else {
            report.trials = try await Optimizer.search(runner, settings: settings, from: input.fromMs, to: input.toMs) { done in
                Self.showProgress("\(done) trials")
            }
            report.buyAndHoldReturn = try runner.buyAndHold(from: input.fromMs, to: input.toMs)
        }
        Self.showProgress(nil)
        let ranked = Optimizer.ranked(report.trials)
        print(OptimizeText.summary(report, ranked: ranked, top: top), terminator: "")
        // The best values: the last window's choice with walk-forward (what would be traded next), else the best trial.
        let best = walkForward != nil ? report.windows.last?.best : ranked.first(where: { $0.score != nil })?.point
        if let resultsOut {
            let text = resultsOut.hasSuffix(".json") ? OptimizeText.resultsJSON(report, ranked: ranked) : OptimizeText.resultsCSV(report, ranked: ranked)
            try AtomicFile.write(text, to: resultsOut)
        }
        if let bestOut {
            guard let best else { throw UsageError(message: "--best-out: no trial qualified (see --min-trades); nothing written to \(bestOut)") }
            try AtomicFile.write(OptimizeText.bestConfig(base: config, space: searchSpace, point: best), to: bestOut)
            print("best values written to \(bestOut) (use: tradejob run --config \(bestOut))")
        }
        if let best {
            // Searched options of the strategy are not configuration keys: say them as the options they are.
            var options: [String] = []
            for (dimension, value) in zip(searchSpace.dimensions, best) where searchSpace.extraKeys[dimension.path] != nil {
                let name = dimension.path.split(separator: ".").last.map(String.init) ?? dimension.path
                options.append("--\(name) \(value.json)")
            }
            if !options.isEmpty { print("best \(input.strategy) options: \(options.joined(separator: " "))") }
        }
        if let html {
            try AtomicFile.write(OptimizePage.render(report, x: axes?.0, y: axes?.1, time: Timestamp.rfc3339), to: html)
        }
    }

    /// Progress on stderr when it is a terminal (one line, rewritten); nil clears it.
    static func showProgress(_ text: String?) {
        guard isatty(2) == 1 else { return }
        FileHandle.standardError.write(Data((text.map { "\r\u{1B}[Koptimize: \($0)" } ?? "\r\u{1B}[K").utf8))
    }

    /// The heatmap's dimensions: `--heatmap`'s two keys, else the first two (nil with one dimension).
    func heatmapAxes(_ space: SearchSpace) throws -> (Int, Int)? {
        let paths = space.dimensions.map(\.path)
        guard let heatmap else { return paths.count >= 2 ? (0, 1) : nil }
        let keys = heatmap.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard keys.count == 2, keys[0] != keys[1], let x = paths.firstIndex(of: keys[0]), let y = paths.firstIndex(of: keys[1]) else {
            throw UsageError(message: "--heatmap: got \"\(heatmap)\", expected two different keys of the search space (\(paths.joined(separator: ", "))) separated by a comma")
        }
        return (x, y)
    }

    /// The cycle times a walk-forward plan splits: every bar's open time within the period (as the backtest runs cycles).
    static func cycleTimes(_ candles: [Symbol: [Candle]], from: Int64?, to: Int64?, step: Int64) -> [Int64] {
        var times = Set<Int64>()
        for series in candles.values { for bar in series { times.insert(bar.openTime + step) } }
        let low = from ?? .min, high = to ?? .max
        return times.filter { $0 >= low && $0 <= high }.sorted()
    }
}
