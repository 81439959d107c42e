import Foundation
import Testing
@testable import Backtest
@testable import Strategy
import TechnicalAnalysis
import TestSupport
import TradingDomain

/// The backtest's faster ways of computing the same figures give the same bits as the plain ways.
@Suite("Backtest: throughput shortcuts")
struct ThroughputShortcutTests {
    /// The volatility precomputed bar by bar is what `realizedVolatility` gives for each cycle's window (NaN for nil).
    @Test(arguments: [(2, 5), (5, 120), (20, 60), (20, 21), (20, 20)])
    func precomputedVolatilityIsThePerCycleFigure(window: Int, lookback: Int) throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let volatility = IdleCycles.volatilities(candles, lookback: lookback, window: window, barsPerYear: 35_040)
        #expect(volatility.count == candles.count)
        // Any block size gives the same column (the blocks' log returns overlap).
        for blockSize in [1, 7, 100] {
            let other = IdleCycles.volatilities(candles, lookback: lookback, window: window, barsPerYear: 35_040, blockSize: blockSize)
            #expect(other.map(\.bitPattern) == volatility.map(\.bitPattern), "block size \(blockSize)")
        }
        var finite = 0
        for last in candles.indices {
            let count = min(lookback, last + 1)
            let closes = candles[(last + 1 - count)...last].suffix(window + 1).map(\.close)
            let expected = RunIntervalPolicy.realizedVolatility(closes: closes, window: window, barsPerYear: 35_040) ?? .nan
            #expect(volatility[last].bitPattern == expected.bitPattern, "window \(window), lookback \(lookback), bar \(last)")
            if expected.isFinite { finite += 1 }
        }
        #expect(lookback <= window || finite > 100)
    }

    /// sma-cross's columns computed on threads of their own are the columns computed one after another, for each
    /// history (long, short, one with a close that is not positive) and windows long and short.
    @Test func concurrentColumnsAreTheSequentialOnes() throws {
        var g = SeededGenerator(seed: 21)
        var histories = [try StateStoreEquivalenceTests.candles()]
        for count in [0, 1, 25, 31, 5_000] {
            var price = 100.0
            histories.append((0..<count).map { i -> Candle in
                price *= 1 + Double.random(in: -0.02...0.02, using: &g)
                return Candle(openTime: Int64(i) * 900_000, open: price, high: price * 1.01, low: price * 0.99, close: count == 25 && i == 7 ? 0 : price, volume: 1)
            })
        }
        for (cross, lookback, window) in [(SMACrossStrategy(fast: 10, slow: 30, quantity: 10), 60, 20), (SMACrossStrategy(fast: 3, slow: 7, quantity: 1), 5, 2),
                                          (SMACrossStrategy(fast: 2, slow: 4, quantity: 1), 40, 39)] {
            let columns = IdleCycles.smaCrossColumns(histories, cross, lookback: lookback, window: window, barsPerYear: 35_040)
            #expect(columns.count == histories.count)
            for (k, bars) in histories.enumerated() {
                let volatility = IdleCycles.volatilities(bars, lookback: lookback, window: window, barsPerYear: 35_040)
                #expect(columns[k].volatility.map(\.bitPattern) == volatility.map(\.bitPattern), "history \(k)")
                #expect(columns[k].crossings == IdleCycles.crossings(bars, cross, lookback: lookback), "history \(k)")
            }
        }
        #expect(IdleCycles.smaCrossColumns([], SMACrossStrategy(fast: 10, slow: 30, quantity: 10), lookback: 60, window: 20, barsPerYear: 365).isEmpty)
    }

    /// Open times on multiples of the step, checked without dividing after a bar one step before: the plain check.
    @Test func opensOnMultiplesIsThePlainCheck() {
        var g = SeededGenerator(seed: 22)
        var off = 0
        for _ in 0..<400 {
            let step = [60_000, 900_000, 86_400_000, 7][Int.random(in: 0..<4, using: &g)] as Int64
            var t = step * Int64.random(in: -3...1000, using: &g) + (Int.random(in: 0..<5, using: &g) == 0 ? Int64.random(in: 1...5, using: &g) : 0)
            var bars: [Candle] = []
            for _ in 0..<Int.random(in: 0...60, using: &g) {
                bars.append(Candle(openTime: t, open: 1, high: 1, low: 1, close: 1, volume: 1))
                switch Int.random(in: 0..<20, using: &g) {
                case 0: t += Int64.random(in: 1...(2 * step), using: &g)  // off the grid, or back on it
                case 1: t += step * Int64.random(in: 2...4, using: &g)
                case 2: t -= step  // back a step
                default: t += step
                }
            }
            let expected = bars.allSatisfy { $0.openTime % step == 0 }
            #expect(Timeframe.opensOnMultiples(bars, of: step) == expected, "\(bars.map(\.openTime)), step \(step)")
            if !expected { off += 1 }
        }
        let far = [Int64.min + 5, Int64.max - 2].map { Candle(openTime: $0, open: 1, high: 1, low: 1, close: 1, volume: 1) }
        #expect(Timeframe.opensOnMultiples(far, of: 7) == far.allSatisfy { $0.openTime % 7 == 0 })
        #expect(off > 50 && off < 350)
    }

    /// A close that is not positive: nothing precomputed (each cycle computes it from the closes).
    @Test func noPrecomputedVolatilityWithoutPositiveCloses() {
        let candles = (0..<40).map { i in Candle(openTime: Int64(i) * 60_000, open: 1, high: 1, low: 0, close: i == 30 ? 0 : 1, volume: 1) }
        #expect(IdleCycles.volatilities(candles, lookback: 30, window: 5, barsPerYear: 365).isEmpty)
    }

    /// The crossover's SMAs summed side by side are the SMAs summed one at a time (oldest first), so the signal is the same.
    @Test func smaCrossSignalIsThePlainSums() {
        var rng = SeededGenerator(seed: 20)
        var price = 100.0
        let candles = (0..<400).map { i -> Candle in
            price *= 1 + Double.random(in: -0.02...0.02, using: &rng)
            return Candle(openTime: Int64(i) * 900_000, open: price, high: price * 1.01, low: price * 0.99, close: price, volume: 1)
        }
        func sma(_ window: ArraySlice<Candle>, _ period: Int, at i: Int) -> Double {
            var sum = 0.0
            for k in (i - period + 1)...i { sum += window[window.startIndex + k].close }
            return sum / Double(period)
        }
        var crosses = 0
        for (fast, slow) in [(1, 2), (3, 7), (10, 30), (5, 5)] {
            for end in stride(from: 0, through: candles.count, by: 3) {
                let window = candles[max(0, end - 60)..<end]
                let signal = SMACrossStrategy.signal(symbol: "SYN", candles: window, fast: fast, slow: slow)
                guard window.count >= slow + 1 else {
                    #expect(signal == nil)
                    continue
                }
                let n = window.count
                let f0 = sma(window, fast, at: n - 2), s0 = sma(window, slow, at: n - 2), f1 = sma(window, fast, at: n - 1), s1 = sma(window, slow, at: n - 1)
                let up = f0 < s0 && f1 > s1, down = f0 > s0 && f1 < s1
                if up || down { crosses += 1 }
                #expect(signal?.indicators["sma_fast"]?.bitPattern == f1.bitPattern)
                #expect(signal?.indicators["sma_slow"]?.bitPattern == s1.bitPattern)
                #expect(signal?.direction == (up ? .long : down ? .flat : (f1 > s1 ? .long : .flat)))
                #expect(signal?.confidence == (up || down ? 1 : 0))
            }
        }
        #expect(crosses > 5)
    }

    /// The idle cycle's signal read from the precomputed analysis (scored from the patterns' sum, or once per bar for
    /// the weights, with a bar hint right, wrong or absent) is the scorer's signal on the snapshot, apart from the pattern list it leaves empty; nil
    /// exactly where the snapshot is nil (too few candles, indicators warming up, a symbol not precomputed).
    @Test func idleSignalIsTheScoredSnapshot() throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let parameters = AnalysisParameters(barsPerYear: 365)
        let weights = ScoringWeights(trend: 0.3, momentum: 0.2, rsi: 0.15, bollinger: 0.1, patterns: 0.4, structure: 0.2)
        let precomputed = PrecomputedAnalysis(candles: ["SYN": candles], parameters: parameters, lookback: 120)
        let signals = try #require(precomputed.signals(weights: weights, symbols: ["SYN", "OTHER"], parameters: parameters))
        #expect(precomputed.signals(weights: weights, symbols: ["SYN"], parameters: AnalysisParameters(emaFast: 10, barsPerYear: 365)) == nil)
        var compared = 0, withPatterns = 0
        // The signal written in place (over the previous bar's, as an idle cycle does) is the one read.
        var inPlace: [Signal?] = [nil, nil]
        for (k, symbol) in (["SYN", "OTHER"] as [Symbol]).enumerated() {
            for i in candles.indices where symbol == "SYN" || i % 25 == 0 {
                let window = candles[max(0, i - 119)...i]
                let snapshot = precomputed.snapshot(symbol: symbol, candles: window, parameters: parameters)
                for bar in [nil, i, i + 1] {
                    let got = precomputed.scoredSignal(symbol: symbol, candles: window, bar: bar, parameters: parameters, weights: weights)
                    let read = signals.scoredSignal(k, candles: window, bar: bar ?? -1)
                    let written = signals.score(k, candles: window, bar: bar ?? -1, into: &inPlace[k])
                    #expect(inPlace[k] == read?.signal && inPlace[k]?.score.bitPattern == read?.signal.score.bitPattern, "\(symbol) bar \(i)")
                    #expect(written?.atr.bitPattern == read?.atr.bitPattern && written?.volatility.bitPattern == read?.volatility.bitPattern)
                    guard let snapshot else {
                        #expect(got == nil && read == nil, "bar \(i)")
                        continue
                    }
                    #expect(read?.signal == got?.signal && read?.signal.score.bitPattern == got?.signal.score.bitPattern, "\(symbol) bar \(i)")
                    #expect(read?.atr.bitPattern == snapshot.atr.bitPattern && read?.volatility.bitPattern == snapshot.volatility.bitPattern)
                    var expected = SignalScorer.score(symbol: symbol, snapshot: snapshot, weights: weights, detailed: false)
                    expected.patterns = [:]
                    #expect(got?.signal == expected, "\(symbol) bar \(i)")
                    #expect(got?.signal.score.bitPattern == expected.score.bitPattern, "\(symbol) bar \(i)")
                    #expect(got?.atr.bitPattern == snapshot.atr.bitPattern && got?.volatility.bitPattern == snapshot.volatility.bitPattern)
                    compared += 1
                    if !snapshot.patterns.dictionary.isEmpty { withPatterns += 1 }
                }
            }
        }
        #expect(compared > 1000 && withPatterns > 100)
    }

    /// The structure's breakout found by looking on one side only (`levels: false`) is the one found with both levels.
    @Test func breakoutFromOneSideIsTheBreakoutFromBoth() throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let high = candles.map(\.high), low = candles.map(\.low), close = candles.map(\.close)
        let atr = Indicators.atr(high: high, low: low, close: close, period: 14)
        var both = SlidingStructure(high: high, low: low, pivotWindow: 3)
        var oneSide = SlidingStructure(high: high, low: low, pivotWindow: 3)
        var breakouts = 0
        for lookback in [40, 120] {
            for i in candles.indices {
                let start = max(0, i - lookback + 1)
                let a = both.summary(at: i, windowStart: start, close: close, adx: 20, emaSlope: 0.1, atr: atr[i])
                let b = oneSide.summary(at: i, windowStart: start, close: close, adx: 20, emaSlope: 0.1, atr: atr[i], levels: false)
                #expect(a.breakout == b.breakout && a.regime == b.regime, "bar \(i), lookback \(lookback)")
                if a.breakout != 0 { breakouts += 1 }
            }
        }
        #expect(breakouts > 5)
    }
}
