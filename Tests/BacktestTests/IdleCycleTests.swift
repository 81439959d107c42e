import Foundation
import Testing
import TestSupport
@testable import Backtest
import Brokers
import Cycle
import MarketData
import Settings
import Strategy
import TradingDomain

/// Idle cycles are recorded without running the cycle (`IdleCycles`); the result must be that of running every cycle.
@Suite("Backtest: idle cycles")
struct IdleCycleTests {
    /// Two series on the same times: SYN, and SYN's prices 97 bars later (so the two trade at different moments).
    static func twoSymbols() throws -> [Symbol: [Candle]] {
        let syn = try StateStoreEquivalenceTests.candles()
        let shift = 97
        let other = (0..<(syn.count - shift)).map { i in
            let c = syn[i + shift]
            return Candle(openTime: syn[i].openTime, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume)
        }
        return ["SYN": Array(syn.prefix(other.count)), "SYNB": other]
    }

    static func parameters(_ strategy: String) throws -> (CycleParameters, PaperSettings) {
        switch strategy {
        case "sma-cross":
            return try BacktestData.smaCross(symbols: ["SYN", "SYNB"])
        case "sma-cross-trailing":
            // Trailing stop on (the ATR at entry is 0 for sma-cross): exits by the stop rather than the signal.
            var (p, paper) = try BacktestData.smaCross(symbols: ["SYN", "SYNB"])
            p.exits.trailingStop = true
            return (p, paper)
        default:
            var (p, paper) = try StateStoreEquivalenceTests.defaultStrategy()
            p.symbols = ["SYN", "SYNB"]
            if strategy == "default-tight" {
                // Protections that trip: a small drawdown and daily loss, a losing streak of one.
                p.protections.maxDrawdown.threshold = 0.01
                p.protections.dailyLoss.threshold = 0.005
                p.protections.losingStreak.threshold = 1
            }
            return (p, paper)
        }
    }

    @Test(arguments: [("sma-cross", true), ("sma-cross", false), ("sma-cross-trailing", true), ("default", true), ("default", false),
                      ("default-tight", true)])
    func idleCyclesGiveTheResultOfRunningEveryCycle(strategy: String, everyCandle: Bool) async throws {
        let (p, paper) = try Self.parameters(strategy)
        var runner = BacktestRunner(parameters: p, paper: paper, candles: try Self.twoSymbols(), everyCandle: everyCandle)
        let dir = BacktestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let skipping = try await runner.run(equityOut: dir + "/skipping.csv")
        runner.skipsIdleCycles = false
        let every = try await runner.run(equityOut: dir + "/every.csv")
        #expect(skipping.idleCycles > 0 && every.idleCycles == 0)
        #expect(!every.trades.isEmpty, "the data should make the strategy trade")
        #expect(skipping.trades == every.trades)
        #expect(skipping.equity == every.equity)
        #expect(skipping.runsPerInterval == every.runsPerInterval)
        #expect(skipping.cycles == every.cycles && skipping.cyclesInMarket == every.cyclesInMarket)
        let curve = try String(contentsOfFile: dir + "/skipping.csv", encoding: .utf8)
        #expect(curve == (try String(contentsOfFile: dir + "/every.csv", encoding: .utf8)))
    }

    /// Runs of idle cycles recorded together (`IdleCycles.recordStretch`) give what recording them one by one gives,
    /// and what running every cycle gives: trades, equity curve (byte for byte), figures, runs per interval.
    @Test(arguments: ["sma-cross", "sma-cross-trailing"])
    func idleStretchesGiveTheResultOfRecordingEachCycle(strategy: String) async throws {
        let (p, paper) = try Self.parameters(strategy)
        var runner = BacktestRunner(parameters: p, paper: paper, candles: try Self.twoSymbols(), everyCandle: true)
        let dir = BacktestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let stretches = try await runner.run(equityOut: dir + "/stretches.csv")
        runner.skipsIdleStretches = false
        let oneByOne = try await runner.run(equityOut: dir + "/one.csv")
        runner.skipsIdleCycles = false
        let every = try await runner.run(equityOut: dir + "/every.csv")
        #expect(stretches.stretchCycles > stretches.idleCycles / 2 && oneByOne.stretchCycles == 0)
        #expect(!every.trades.isEmpty)
        for other in [oneByOne, every] {
            #expect(stretches.trades == other.trades)
            #expect(stretches.equity == other.equity)
            #expect(stretches.runsPerInterval == other.runsPerInterval)
            #expect(stretches.cycles == other.cycles && stretches.cyclesInMarket == other.cyclesInMarket)
        }
        // A cycle a run stops at for an entry candidate or an exit runs whole (`acts`) even where the entry gate would
        // refuse and `record` find it idle: never more idle cycles, the same result.
        #expect(stretches.idleCycles <= oneByOne.idleCycles && stretches.idleCycles > oneByOne.idleCycles / 2)
        let curve = try String(contentsOfFile: dir + "/stretches.csv", encoding: .utf8)
        #expect(curve == (try String(contentsOfFile: dir + "/one.csv", encoding: .utf8)))
        #expect(curve == (try String(contentsOfFile: dir + "/every.csv", encoding: .utf8)))
    }

    /// sma-cross read from the columns (`SMACrossColumns`, as the cycles that run in a backtest read it) gives the
    /// reading of the window itself: windows of the history's last `lookback` candles, shorter ones early on, and
    /// windows the columns do not vouch for (shorter or longer than the lookback, shifted, with a gap, another
    /// symbol), which are read the plain way; a close at zero leaves the volatility column empty.
    @Test(arguments: [false, true])
    func smaCrossColumnsGiveTheWindowsReading(zeroClose: Bool) throws {
        var candles = try StateStoreEquivalenceTests.candles()
        if zeroClose { candles[40].close = 0; candles[40].low = 0 }
        let strategy = SMACrossStrategy(fast: 5, slow: 12, quantity: 1)
        let lookback = 30, window = 8
        let settings = StrategySettings(analysis: AnalysisParameters(), weights: ScoringWeights(), volatilityWindow: window, barsPerYear: 35_040, detailed: false)
        let column = SMACrossColumns.Column(candles: candles, crossings: IdleCycles.crossings(candles, strategy, lookback: lookback),
                                            volatility: IdleCycles.volatilities(candles, lookback: lookback, window: window, barsPerYear: 35_040))
        let columns = SMACrossColumns(columns: ["SYN": column], lookback: lookback)
        #expect(column.volatility.isEmpty == zeroClose)
        var g = SeededGenerator(seed: 8)
        var fromColumns = 0
        for end in 1...candles.count {
            var windows: [ArraySlice<Candle>] = [candles[max(0, end - lookback)..<end]]
            let start = Int.random(in: 0..<end, using: &g)
            windows.append(candles[start..<end])
            if end > 2 { windows.append(ArraySlice(candles[max(0, end - lookback)..<(end - 2)] + [candles[end - 1]])) }
            for w in windows {
                let plain = strategy.read(symbol: "SYN", candles: w, analyzer: WindowAnalyzer(), settings: settings)
                let read = strategy.read(symbol: "SYN", candles: w, analyzer: columns, settings: settings)
                #expect(read.signal == plain.signal && read.problem == plain.problem, "end \(end), \(w.count) candles")
                #expect(read.snapshot?.volatility.bitPattern == plain.snapshot?.volatility.bitPattern && (read.snapshot == nil) == (plain.snapshot == nil))
                if columns.reading(symbol: "SYN", window: w) != nil { fromColumns += 1 }
            }
            #expect(columns.reading(symbol: "OTHER", window: candles[max(0, end - lookback)..<end]) == nil)
        }
        #expect(zeroClose ? fromColumns == 0 : fromColumns >= candles.count)
    }

    /// `isEntryCandidate` reads a crossing as its signal does: long above the confidence gate.
    @Test func entryCandidateIsTheSignalsReading() {
        let candle = Candle(openTime: 0, open: 1, high: 1, low: 1, close: 1, volume: 1)
        for crossing in [SMACrossStrategy.Crossing.up, .down, .above, .notAbove] {
            let signal = crossing.signal(symbol: "SYN", candle: candle, fast: .nan, slow: .nan, detailed: false)
            for gate in [-1, -0.5, 0, 0.25, 0.55, 0.999, 1, 2] {
                #expect(IdleCycles.isEntryCandidate(crossing, minConfidence: gate) == (signal.direction == .long && signal.confidence > gate))
            }
        }
    }

    /// A position without levels: its exit read from the crossing, and its candles checked, as `ExitEvaluator.check`
    /// does both (random windows, highest prices and last checked candles; prices out of the fixed-point range).
    @Test func positionsWithoutLevelsAreCheckedAsTheExitEvaluatorDoes() {
        var g = SeededGenerator(seed: 21)
        let candle = Candle(openTime: 0, open: 1, high: 1, low: 1, close: 1, volume: 1)
        var compared = 0
        for round in 0..<400 {
            let rules = ExitRules(trailingStop: false, maxHoldingMilliseconds: 0, exitConfidence: [0.5, 1, 0, -1, 1.5][round % 5])
            var p = Position(id: 1, symbol: "SYN", state: .monitoring, quantity: 10, entryPrice: 100, initialEntryPrice: 100, cost: 1000,
                             stopPrice: nil, takeProfitPrice: nil, highestPrice: round % 3 == 0 ? nil : try? Price(double: Double.random(in: 1...200, using: &g)),
                             atrAtEntry: 0, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
            #expect(IdleCycles.hasNoLevels(p, rules: rules))
            let count = Int.random(in: 0...12, using: &g)
            let candles = (0..<count).map { i -> Candle in
                let high = Int.random(in: 0..<15, using: &g) == 0 ? 1e300 : Double.random(in: 50...200, using: &g)
                let low = Int.random(in: 0..<15, using: &g) == 0 ? -1e300 : Double.random(in: 1...50, using: &g)
                return Candle(openTime: Int64(i + 1) * 900_000, open: low, high: high, low: low, close: high, volume: 1)
            }
            p.lastCheckedCandle = Int64(Int.random(in: 0...(count + 1), using: &g)) * 900_000
            let start = Int.random(in: 0...count, using: &g)
            let window = candles[start...]
            var mark = ExitCheckMark(p, candles: candles)
            mark.check(from: start, to: count)
            var advanced = p
            mark.apply(to: &advanced)
            #expect(advanced == ExitEvaluator.check(p, candles: window, signal: nil, now: 0, rules: rules).position, "round \(round)")
            for crossing in [SMACrossStrategy.Crossing.up, .down, .above, .notAbove] {
                let signal = crossing.signal(symbol: "SYN", candle: candle, fast: .nan, slow: .nan, detailed: false)
                #expect(IdleCycles.exitsOn(crossing, exitConfidence: rules.exitConfidence)
                        == (ExitEvaluator.check(p, candles: [Candle](), signal: signal, now: 0, rules: rules).exit != nil))
            }
            compared += 1
        }
        #expect(compared == 400)
    }

    /// A position without levels checked cycle after cycle, its window moving one candle at a time (as a run of idle
    /// cycles checks it, highs left unconverted when not above the one that gave the highest price): what
    /// `ExitEvaluator.check` gives at each cycle. Highs and lows repeat, tie at 1e-8 and leave the fixed-point range.
    @Test func positionsWithoutLevelsCheckedCycleAfterCycleAreWhatTheExitEvaluatorGives() {
        var g = SeededGenerator(seed: 34)
        let rules = ExitRules(trailingStop: false, maxHoldingMilliseconds: 0, exitConfidence: 1)
        let levels: [Double] = [99.999999995, 100, 100.000000005, 100.00000001, 101, 1e300, -1e300, .nan]
        var compared = 0
        for round in 0..<200 {
            let count = Int.random(in: 1...60, using: &g), window = Int.random(in: 1...8, using: &g)
            let candles = (0..<count).map { i -> Candle in
                let high = Bool.random(using: &g) ? levels.randomElement(using: &g) ?? 100 : Double.random(in: 90...110, using: &g)
                let low = Int.random(in: 0..<12, using: &g) == 0 ? -1e300 : Double.random(in: 1...90, using: &g)
                return Candle(openTime: Int64(i + 1) * 900_000, open: low, high: high, low: low, close: 100, volume: 1)
            }
            var reference = Position(id: 1, symbol: "SYN", state: .monitoring, quantity: 10, entryPrice: 100, initialEntryPrice: 100, cost: 1000,
                                     stopPrice: nil, takeProfitPrice: nil, highestPrice: round % 2 == 0 ? nil : 100,
                                     atrAtEntry: 0, adjustments: 0, partialTakeProfitDone: false, openedAt: 0,
                                     lastCheckedCandle: Int64(Int.random(in: 0...3, using: &g)) * 900_000)
            var mark = ExitCheckMark(reference, candles: candles)
            var end = Int.random(in: 0...2, using: &g)
            while end < count {
                end = min(count, end + Int.random(in: 1...2, using: &g))
                let from = max(0, end - window)
                reference = ExitEvaluator.check(reference, candles: candles[from..<end], signal: nil, now: 0, rules: rules).position
                mark.check(from: from, to: end)
                var advanced = reference
                advanced.lastCheckedCandle = -1
                advanced.highestPrice = nil
                mark.apply(to: &advanced)
                #expect(advanced == reference, "round \(round), end \(end)")
                compared += 1
            }
        }
        #expect(compared > 2_000)
    }

    /// The stored log returns give `RunIntervalPolicy.realizedVolatility`'s figure exactly.
    @Test func volatilityFromStoredReturnsIsTheCyclesFigure() throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let returns = [0.0] + (1..<candles.count).map { log(candles[$0].close / candles[$0 - 1].close) }
        let series = IdleCycles.Series(symbol: "SYN", candles: candles, logReturns: returns)
        var compared = 0
        for window in [2, 5, 20] {
            for last in stride(from: 0, to: candles.count, by: 7) {
                for count in [window, window + 1, 60] where count <= last + 1 {
                    let closes = candles[(last + 1 - count)...last].suffix(window + 1).map(\.close)
                    let expected = RunIntervalPolicy.realizedVolatility(closes: closes, window: window, barsPerYear: 365)
                    let got = IdleCycles.realizedVolatility(series, last: last, count: count, window: window, barsPerYear: 365)
                    #expect(got?.bitPattern == expected?.bitPattern, "window \(window), bar \(last), \(count) candles")
                    if expected != nil { compared += 1 }
                }
            }
        }
        #expect(compared > 100)
    }
}

extension IdleCycleTests {
    /// The in-place median is `RunIntervalPolicy.marketVolatility`'s.
    @Test func marketVolatilityInPlaceIsThePolicys() {
        let cases: [[Double]] = [[], [.nan], [0.4], [.infinity], [0.2, 0.9], [0.9, .nan, 0.2], [0.5, 0.1, 0.3, 0.7], [0.3, 0.3, .nan, 1.2, 0.01]]
        for values in cases {
            var copy = values
            #expect(IdleCycles.marketVolatility(&copy)?.bitPattern == RunIntervalPolicy.marketVolatility(values)?.bitPattern, "\(values)")
        }
    }
}

extension IdleCycleTests {
    /// The crossings stored per bar give `SMACrossStrategy.signal`'s signal bit for bit, for every window the cycle
    /// reads (short ones included), on closes drawn from a few levels so that SMAs tie often.
    @Test func storedCrossingsGiveTheSignalOfEveryWindow() {
        var g = SeededGenerator(seed: 20)
        var compared = 0, crosses = 0
        for round in 0..<12 {
            let levels: [Double] = round % 2 == 0 ? [100, 100.5, 101, 99.75] : [0.1, 0.2, 0.30000000000000004, 1e-3, 12345.678]
            let candles = (0..<400).map { i -> Candle in
                let close = levels[Int.random(in: 0..<levels.count, using: &g)]
                return Candle(openTime: Int64(i) * 900_000, open: close, high: close, low: close, close: close, volume: 1)
            }
            let fast = Int.random(in: 1...6, using: &g), slow = fast + Int.random(in: 0...12, using: &g)
            let cross = SMACrossStrategy(fast: fast, slow: slow, quantity: 1)
            // Computed a block of bars at a time: any block size gives the same column.
            for blockSize in [1, 3, 64] {
                #expect(SMACrossStrategy.crossings(candles, fast: fast, slow: slow, blockSize: blockSize) == SMACrossStrategy.crossings(candles, fast: fast, slow: slow))
            }
            for lookback in [slow, slow + 1, slow + 2, 60] {
                let series = IdleCycles.Series(symbol: "SYN", candles: candles, crossings: IdleCycles.crossings(candles, cross, lookback: lookback))
                for end in 0...candles.count {
                    let window = candles[max(0, end - lookback)..<end]
                    let expected = SMACrossStrategy.signal(symbol: "SYN", candles: window, fast: fast, slow: slow, detailed: false)
                    let got = IdleCycles.crossSignal(series, window: window, end: end, cross: cross)
                    #expect(got == expected, "fast \(fast), slow \(slow), lookback \(lookback), end \(end)")
                    if expected != nil { compared += 1 }
                    if expected?.confidence == 1 { crosses += 1 }
                }
            }
        }
        #expect(compared > 10_000 && crosses > 100)
    }
}

extension IdleCycleTests {
    /// A protection that trips again while the block it set is in force (the day's loss still past its limit, entries
    /// blocked until midnight) makes the cycle do nothing more: such cycles are idle, and the result is that of running
    /// every cycle. On 15-minute bars (so a UTC day holds many cycles), with a daily-loss limit of 0 (it trips at every
    /// cycle: only the first of each day acts) and a small one (it trips on some days, with trades).
    @Test(arguments: [0.0, 0.002])
    func aTripWhoseBlockIsInForceLeavesTheCycleIdle(dailyLossLimit: Double) async throws {
        let config = try ConfigLoader.resolve(data: Data(#"{"market": {"timeframe": "15m", "symbols": ["SYN", "SYNB"], "lookback": 120}, "strategy": {"min_confidence": 0.2}}"#.utf8),
                                              file: "test", environment: [:])
        let paper = PaperSettings(startingCash: 10_000, quoteAsset: "USDT", feeRate: Fixed("0.001") ?? 0, slippageBasisPoints: 5)
        var p = try CycleParameters(config: config)
        p.limits.costRate = try paper.feeRate + paper.slippageBasisPoints.divided(by: 10_000, .up)
        p.protections.dailyLoss.threshold = dailyLossLimit
        let quarter: Int64 = 900_000
        let candles = try Self.twoSymbols().mapValues { series in
            series.enumerated().map { i, c in
                Candle(openTime: 1_577_836_800_000 + Int64(i) * quarter, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume)
            }
        }
        var runner = BacktestRunner(parameters: p, paper: paper, candles: candles, everyCandle: true)
        let dir = BacktestData.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let skipping = try await runner.run(equityOut: dir + "/skipping.csv")
        runner.skipsIdleCycles = false
        let every = try await runner.run(equityOut: dir + "/every.csv")
        if dailyLossLimit == 0 {
            // Every cycle trips; only the first of each day (and those before the analysis warms up) acts.
            #expect(every.trades.isEmpty)
            #expect(skipping.idleCycles > skipping.cycles * 3 / 4, "\(skipping.idleCycles) of \(skipping.cycles)")
        } else {
            #expect(!every.trades.isEmpty, "the data should make the strategy trade")
        }
        #expect(skipping.trades == every.trades)
        #expect(skipping.equity == every.equity)
        #expect(skipping.runsPerInterval == every.runsPerInterval)
        #expect(skipping.cycles == every.cycles && skipping.cyclesInMarket == every.cyclesInMarket)
        let curve = try String(contentsOfFile: dir + "/skipping.csv", encoding: .utf8)
        #expect(curve == (try String(contentsOfFile: dir + "/every.csv", encoding: .utf8)))
    }
}
