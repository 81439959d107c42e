import ArgumentParser
import Foundation
import Backtest
import Brokers
import Cycle
import MarketData
import Settings
import Storage
import Strategy
import TradingDomain

/// What a backtest runs on — the candles (CSV files, a state's, or the simulated market), the period and the strategy —
/// shared by `backtest`, `optimize` and `check`.
struct BacktestInputOptions: ParsableArguments {
    @Option(name: .customLong("csv"), help: "OHLCV CSV file of one symbol (repeatable); the symbol is the file name without .csv.") var csvFiles: [String] = []
    @Option(name: .customLong("from-state"), help: "Use the candles stored in this state directory.") var fromState: String?
    @Flag(help: "Use the simulated market for the config's symbols (needs --from and --to).") var simulated = false
    @Option(help: "Start (RFC 3339).") var from: String?
    @Option(help: "End (RFC 3339).") var to: String?
    @Option(help: "Timeframe of the input (default: the config's; for CSV files inferred from the bar spacing).") var timeframe: String?
    @Flag(name: .customLong("every-candle"), help: "Run a cycle at every candle instead of following the adaptive schedule.") var everyCandle = false
    @Option(help: "default or sma-cross (the reference strategy).") var strategy: String = "default"
    @Option(help: "sma-cross: fast SMA period.") var fast: Int = 10
    @Option(help: "sma-cross: slow SMA period.") var slow: Int = 30
    @Option(help: "sma-cross: fixed quantity.") var size: String = "10"
    @Option(help: "Fee rate (default: paper.fee_rate; sma-cross: 0.001).") var fee: String?

    func validate() throws {
        let sources = (csvFiles.isEmpty ? 0 : 1) + (fromState == nil ? 0 : 1) + (simulated ? 1 : 0)
        guard sources == 1 else { throw ValidationError("give exactly one input: --csv FILE…, --from-state DIR or --simulated") }
        guard ["default", "sma-cross"].contains(strategy) else { throw ValidationError("--strategy: got \"\(strategy)\", expected default or sma-cross") }
        for (name, value) in [("--from", from), ("--to", to)] {
            if let value, Timestamp.parse(value) == nil { throw ValidationError("\(name): got \"\(value)\", expected an RFC 3339 time") }
        }
        if simulated && (from == nil || to == nil) { throw ValidationError("--simulated needs --from and --to") }
        if let f = from.flatMap(Timestamp.parse), let t = to.flatMap(Timestamp.parse), f >= t {
            throw ValidationError("--from (\(from ?? "")) must be before --to (\(to ?? ""))")
        }
        if let timeframe, Timeframe(timeframe) == nil { throw ValidationError("--timeframe: got \"\(timeframe)\", expected one of \(Timeframe.supported.keys.sorted().joined(separator: ", "))") }
        guard fast >= 1, slow > fast, slow <= 10_000 else {
            throw ValidationError("--fast and --slow: got \(fast) and \(slow), expected 1 ≤ fast < slow ≤ 10000")
        }
        guard let q = Quantity(size), q > 0 else { throw ValidationError("--size: got \"\(size)\", expected a positive number with at most 8 decimals") }
        if let fee, Fixed(fee) == nil { throw ValidationError("--fee: got \"\(fee)\", expected a number such as 0.001 (at most 8 decimals)") }
    }

    var fromMs: Int64? { from.flatMap(Timestamp.parse) }
    var toMs: Int64? { to.flatMap(Timestamp.parse) }

    /// The configuration: the `--config` file when it exists, else the defaults (with the environment's overrides).
    func loadConfig(_ options: CommonOptions) throws -> ResolvedConfig {
        FileManager.default.fileExists(atPath: options.configPath)
            ? try options.loadConfig() : try ConfigLoader.resolve(data: Data("{}".utf8), file: "(defaults)", environment: options.environment)
    }

    /// The candles of the input and their timeframe (`config`'s symbols, timeframe and lookback for the simulated market).
    func loadCandles(config: ResolvedConfig) async throws -> (candles: [Symbol: [Candle]], timeframe: Timeframe) {
        let parameters = try CycleParameters(config: config)
        var tf = parameters.timeframe
        var candles: [Symbol: [Candle]] = [:]
        if !csvFiles.isEmpty {
            var files: [Symbol: String] = [:]
            for file in csvFiles {
                let symbol = Symbol(rawValue: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
                if let other = files[symbol] { throw UsageError(message: "--csv: \(other) and \(file) both name the symbol \(symbol) (a file's name is its symbol)") }
                files[symbol] = file
                candles[symbol] = try CSVMarket.load(path: file, symbol: symbol)
            }
            tf = try timeframe.flatMap(Timeframe.init) ?? Self.inferTimeframe(candles)
            // (One file's inferred timeframe is its own spacing: only the grid is left to check.)
            try Self.checkBars(candles, files: files, timeframe: tf, spacing: timeframe != nil || candles.count > 1)
        } else if let fromState {
            let database = try StateDatabase(path: fromState + "/tradejob.sqlite")
            if let timeframe, let given = Timeframe(timeframe) { tf = given }
            let stored = tf
            candles = try await database.read { ledger in
                var result: [Symbol: [Candle]] = [:]
                for symbol in try ledger.candleSymbols(timeframe: stored) { result[symbol] = try ledger.candles(symbol: symbol, timeframe: stored, from: 0, to: .max) }
                return result
            }
        } else if let fromMs, let toMs {
            if let timeframe, let given = Timeframe(timeframe) { tf = given }
            let count = Int((toMs - fromMs) / tf.milliseconds) + parameters.lookback + 2  // times are within 1970…9999
            guard count <= Self.maximumSimulatedBars else {
                throw UsageError(message: "--from/--to: \(count) simulated bars of \(tf) per symbol, at most \(Self.maximumSimulatedBars); choose a shorter period or a longer --timeframe")
            }
            for symbol in parameters.symbols {
                candles[symbol] = SimulatedMarket.closedCandles(symbol: symbol, timeframe: tf, after: nil, limit: count, now: toMs)
            }
        }
        guard !candles.isEmpty, candles.values.contains(where: { !$0.isEmpty }) else { throw UsageError(message: "backtest: no candles in the input") }
        try Self.checkPeriod(candles, from: fromMs, to: toMs, step: tf.milliseconds)
        return (candles, tf)
    }

    /// The strategy options as a plain value (what trials of `optimize` set up their backtests with).
    var strategyChoice: BacktestStrategyChoice {
        BacktestStrategyChoice(strategy: strategy, fast: fast, slow: slow, size: Quantity(size) ?? 10, fee: fee.flatMap { Fixed($0) })
    }

    /// The cycle's parameters and the paper broker's settings for `config` on `candles` (`BacktestStrategyChoice.setup`).
    func setup(config: ResolvedConfig, candles: [Symbol: [Candle]], timeframe: Timeframe) throws -> (parameters: CycleParameters, paper: PaperSettings) {
        try strategyChoice.setup(config: config, symbols: candles.keys.sorted(), timeframe: timeframe)
    }

    /// Simulated bars per symbol at most (a period of years at 1m would not fit in memory).
    static let maximumSimulatedBars = 5_000_000

    /// Refuses a period in which no cycle would run (as the runner counts: the first cycle sees the first bar closed).
    static func checkPeriod(_ candles: [Symbol: [Candle]], from: Int64?, to: Int64?, step: Int64) throws {
        guard let first = candles.values.compactMap(\.first?.openTime).min(), let last = candles.values.compactMap(\.last?.openTime).max() else { return }
        let start = max(from ?? first, first + step), end = min(to ?? (last + step), last + step)
        guard start > end else { return }
        throw UsageError(message: "backtest: --from/--to select no bar of the input, whose bars close from \(Timestamp.rfc3339(first + step)) to \(Timestamp.rfc3339(last + step))")
    }

    /// The timeframe whose length is the most common spacing of the bars.
    /// Every file's bars open on the timeframe's UTC grid (multiples of it from midnight) and are, most often, one
    /// timeframe apart. A bar off the grid would be seen a bar late, and a longer bar (a 1d file under a 1h timeframe)
    /// would be read before it closed: both are refused, naming the file.
    static func checkBars(_ candles: [Symbol: [Candle]], files: [Symbol: String], timeframe: Timeframe, spacing checksSpacing: Bool = true) throws {
        let step = timeframe.milliseconds
        for (symbol, bars) in candles.sorted(by: { $0.key < $1.key }) {
            let file = files[symbol] ?? symbol.rawValue
            if !Timeframe.opensOnMultiples(bars, of: step), let bar = bars.first(where: { $0.openTime % step != 0 }) {
                throw UsageError(message: "\(file): the bar of \(Timestamp.rfc3339(bar.openTime)) does not open on the \(timeframe) grid; "
                                 + "expected every bar to open at a multiple of \(timeframe) from 00:00 UTC")
            }
            if checksSpacing, let spacing = BacktestRunner.mostCommonSpacing([symbol: bars]), spacing != step {
                let name = Timeframe.supported.first { $0.value * 1000 == spacing }?.key ?? "\(spacing / 1000) s"
                throw UsageError(message: "\(file): its bars are most often \(name) apart, but the backtest's timeframe is \(timeframe); "
                                 + "expected files of one timeframe (give --timeframe, or leave it out to infer it)")
            }
        }
    }

    static func inferTimeframe(_ candles: [Symbol: [Candle]]) throws -> Timeframe {
        guard let spacing = BacktestRunner.mostCommonSpacing(candles),
              let match = Timeframe.supported.first(where: { $0.value * 1000 == spacing }), let tf = Timeframe(match.key) else {
            throw UsageError(message: "backtest: cannot infer the timeframe from the bar spacing; give --timeframe")
        }
        return tf
    }
}

/// The strategy of a backtest: the configured one (`default`) or the reference SMA crossover with its own settings.
struct BacktestStrategyChoice: Sendable {
    /// sma-cross's periods as keys `optimize` may search (they are options, not configuration keys).
    static let fastKey = ConfigKey("sma_cross.fast", .int(min: 1, max: 10_000), .int(10), "sma-cross: fast SMA period (--fast)")
    static let slowKey = ConfigKey("sma_cross.slow", .int(min: 2, max: 10_000), .int(30), "sma-cross: slow SMA period (--slow)")
    /// The keys besides the configuration's that a search space may name with this strategy.
    var searchableKeys: [ConfigKey] { strategy == "sma-cross" ? [Self.fastKey, Self.slowKey] : [] }

    var strategy: String
    var fast: Int
    var slow: Int
    var size: Quantity
    /// `--fee`: the paper broker's fee rate instead of the configuration's (sma-cross: 0.001 when not given).
    var fee: Fixed?

    /// The cycle's parameters and the paper broker's settings for `config` on `symbols` (the strategy's own settings
    /// for sma-cross: no protections, fixed size, 10,000,000 cash, no slippage).
    func setup(config: ResolvedConfig, symbols: [Symbol], timeframe: Timeframe, searched: [String: ConfigValue] = [:]) throws
        -> (parameters: CycleParameters, paper: PaperSettings) {
        var fast = fast, slow = slow
        if case let .int(f)? = searched[Self.fastKey.path] { fast = f }
        if case let .int(s)? = searched[Self.slowKey.path] { slow = s }
        guard fast < slow else {
            throw ConfigError(file: "search space point", problems: ["sma_cross.fast: got \(fast), expected less than sma_cross.slow (\(slow))"])
        }
        var parameters = try CycleParameters(config: config)
        parameters.timeframe = timeframe
        // The analysis annualises volatility by the bars of the backtest's timeframe, not the configuration's.
        parameters.analysis.barsPerYear = timeframe.barsPerYear
        parameters.symbols = symbols
        var paper = PaperSettings(startingCash: config.decimal("paper.starting_cash"), quoteAsset: config.string("paper.quote_asset"),
                                  feeRate: config.decimal("paper.fee_rate"), slippageBasisPoints: config.decimal("paper.slippage_bps"))
        if strategy == "sma-cross" {
            parameters.strategy = .smaCross(fast: fast, slow: slow, quantity: size)
            parameters.lookback = max(slow + 2, 60)  // the signal needs slow + 1 closes; a shorter window is faster
            for keyPath in [\ProtectionRules.maxDrawdown, \.dailyLoss, \.losingStreak, \.errorRate] { parameters.protections[keyPath: keyPath].enabled = false }
            parameters.protections.symbolCooldownMilliseconds = 0
            parameters.exits.exitConfidence = 0.5
            parameters.exits.maxHoldingMilliseconds = 0
            parameters.exits.trailingStop = false
            parameters.limits.maxOpenPositions = max(parameters.limits.maxOpenPositions, parameters.symbols.count)
            paper = PaperSettings(startingCash: 10_000_000, quoteAsset: paper.quoteAsset, feeRate: fee ?? Fixed("0.001") ?? 0, slippageBasisPoints: 0)
        } else if let fee {
            paper.feeRate = fee
        }
        parameters.limits.costRate = RiskLimits.costRate(feeRate: paper.feeRate, slippageBasisPoints: paper.slippageBasisPoints)
        return (parameters, paper)
    }
}

/// The files a command writes once its work is done (trades, reports, results), checked before the work starts: a
/// long backtest or search is not run only to find at the end that an output cannot be written.
enum OutputFiles {
    /// Refuses two options naming the same file (usage error), and any path `AtomicFileWriter` could not write — empty,
    /// a directory, in a directory that cannot be made or written — with its message and exit code (73).
    static func check(_ outputs: [(option: String, path: String?)]) throws {
        var seen: [String: String] = [:]
        for case let (option, path?) in outputs {
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            if let other = seen[key] { throw UsageError(message: "\(other) and \(option) both name \(path); give each its own file") }
            seen[key] = option
            try AtomicFileWriter.preflight(path)
        }
    }
}
