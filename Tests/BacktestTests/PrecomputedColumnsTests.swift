import Foundation
import Testing
@testable import Strategy
@testable import TechnicalAnalysis
import TestSupport
import TradingDomain

/// The precomputed analysis's faster ways (columns kept as computed, hits gathered in a buffer, volatility four bars at
/// a time, the structure's pivots in a sorted buffer, the candle averages' bases computed together) give the same bits
/// as the plain ways: each indicator called on the whole history, each pattern computed on its own, the volatility of
/// each bar summed alone, the structure of each window found again.
@Suite("Precomputed analysis: the plain way's bits")
struct PrecomputedColumnsTests {
    /// Every reading at every bar, bit for bit.
    @Test(arguments: [40, 120])
    func columnsAreThePlainIndicators(lookback: Int) throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let p = AnalysisParameters(barsPerYear: 365)
        let c = PrecomputedAnalysis.analyse(candles, p, lookback: lookback)
        let n = candles.count
        let open = candles.map(\.open), high = candles.map(\.high), low = candles.map(\.low), close = candles.map(\.close)
        let emaFast = Indicators.ema(close, period: p.emaFast), emaSlow = Indicators.ema(close, period: p.emaSlow)
        let rsi = Indicators.rsi(close, period: p.rsiPeriod)
        let macd = Indicators.macd(close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9)
        let bands = Indicators.bollingerBands(close, period: p.bollingerPeriod, deviationsUp: p.bollingerK, deviationsDown: p.bollingerK)
        let atr = Indicators.atr(high: high, low: low, close: close, period: p.atrPeriod)
        let adx = Indicators.adx(high: high, low: low, close: close, period: p.adxPeriod)
        func same(_ a: UnsafeBufferPointer<Double>, _ b: [Double]) -> Bool { a.map(\.bitPattern) == b.map(\.bitPattern) }
        #expect(Array(c.times) == candles.map(\.openTime))
        #expect(same(c.close, close) && same(c.emaFast, emaFast) && same(c.emaSlow, emaSlow) && same(c.rsi, rsi))
        #expect(same(c.macdHistogram, macd.histogram) && same(c.atr, atr) && same(c.adx, adx))
        #expect(same(c.bollingerUpper, bands.upper) && same(c.bollingerMiddle, bands.middle) && same(c.bollingerLower, bands.lower))
        // Each pattern on fresh bars of its own (its candle averages computed for it alone).
        let patterns = CandlestickPattern.allCases.sorted { $0.rawValue < $1.rawValue }.map { pattern in
            (name: pattern.rawValue, values: pattern.compute(PatternBars(open: open, high: high, low: low, close: close)))
        }
        var breakouts = 0, hits = 0
        for i in 0..<n {
            let volatility = SymbolAnalyzer.realizedVolatility(close, upTo: i, window: p.volatilityWindow, barsPerYear: p.barsPerYear)
            #expect(c.volatility[i].bitPattern == volatility.bitPattern, "bar \(i)")
            let window = candles[max(0, i - lookback + 1)...i]
            let structure = ChartStructure.summary(high: window.map(\.high), low: window.map(\.low), close: window.map(\.close), adx: adx[i],
                                                   emaSlope: emaFast[i] - emaFast[max(0, i - 5)], atr: atr[i], pivotWindow: p.pivotWindow)
            #expect(Int(c.breakout[i]) == structure.breakout && Int(c.regime[i]) == structure.regime, "bar \(i)")
            if structure.breakout != 0 { breakouts += 1 }
            let expected = patterns.filter { $0.values[i] != 0 }
            let from = Int(c.hitStart[i]), to = Int(c.hitStart[i + 1])
            let got = (from..<to).map { (name: CandlestickPattern.allCases[Int(c.hitPattern[$0])].rawValue, value: Int32(c.hitValue[$0])) }
            #expect(got.map(\.name) == expected.map(\.name) && got.map(\.value) == expected.map { $0.values[i] }, "bar \(i)")
            #expect(Int(c.patternSum[i]) == expected.reduce(0) { $0 + Int($1.values[i]) }, "bar \(i)")
            hits += expected.count
        }
        #expect(c.hitStart.count == n + 1 && Int(c.hitStart[n]) == hits && c.hitPattern.count == hits)
        #expect(breakouts > 5 && hits > n)
    }

    /// Symbols sharing one block of columns read what each analysed alone reads.
    @Test func symbolsSharingTheArenaReadTheirOwnColumns() throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let parameters = AnalysisParameters(barsPerYear: 365)
        let series: [Symbol: [Candle]] = ["AAA": candles, "BBB": Array(candles.prefix(400)), "CCC": []]
        // Analysed on several threads at once and one after another (whatever this machine's cores).
        let concurrent = PrecomputedAnalysis(candles: series, parameters: parameters, lookback: 120, concurrently: true)
        let serial = PrecomputedAnalysis(candles: series, parameters: parameters, lookback: 120, concurrently: false)
        var compared = 0
        for (symbol, bars) in series {
            let alone = PrecomputedAnalysis(candles: [symbol: bars], parameters: parameters, lookback: 120)
            for i in bars.indices {
                let window = bars[max(0, i - 119)...i]
                let expected = alone.snapshot(symbol: symbol, candles: window, parameters: parameters)
                for together in [concurrent, serial] {
                    #expect(together.snapshot(symbol: symbol, candles: window, parameters: parameters) == expected, "\(symbol) bar \(i)")
                }
                if expected != nil { compared += 1 }
            }
        }
        #expect(compared > 900)
    }

    /// The volatility summed four bars at a time is each bar's sum alone, for every length around the lanes' edges.
    @Test func volatilityInLanesIsEachBarsOwn() {
        var g = SeededGenerator(seed: 31)
        var price = 100.0
        let closes = (0..<90).map { _ -> Double in
            price *= 1 + Double.random(in: -0.03...0.03, using: &g)
            return price
        }
        for window in [2, 3, 5, 20] {
            for count in [window, window + 1, window + 3, window + 4, window + 5, 41, 90] {
                let close = Array(closes.prefix(count))
                let column = SymbolAnalyzer.realizedVolatilities(close, window: window, barsPerYear: 365)
                let each = close.indices.map { SymbolAnalyzer.realizedVolatility(close, upTo: $0, window: window, barsPerYear: 365) }
                #expect(column.map(\.bitPattern) == each.map(\.bitPattern), "window \(window), \(count) closes")
            }
        }
    }

    /// The patterns' shared averages give every pattern the same values whichever pattern asks first (the bases of the
    /// default measures are computed together with the first one asked for).
    @Test func patternValuesDoNotDependOnTheOrderAsked() throws {
        let candles = try StateStoreEquivalenceTests.candles()
        let columns = (candles.map(\.open), candles.map(\.high), candles.map(\.low), candles.map(\.close))
        func bars() -> PatternBars { PatternBars(open: columns.0, high: columns.1, low: columns.2, close: columns.3) }
        let inOrder = bars(), reversed = bars()
        let forward = CandlestickPattern.allCases.map { $0.compute(inOrder) }
        let backward = CandlestickPattern.allCases.reversed().map { $0.compute(reversed) }.reversed()
        #expect(Array(backward) == forward)
        for (k, pattern) in CandlestickPattern.allCases.enumerated() {
            #expect(pattern.compute(bars()) == forward[k], "\(pattern.rawValue)")
        }
        #expect(forward.joined().contains { $0 != 0 })
    }

    /// The structure's sorted buffer keeps the order `Array.insert` at `partitionPoint` keeps, and its search counts
    /// as `partitionPoint` does (ties and values outside included).
    @Test func sortedPricesAreTheSortedArray() {
        var g = SeededGenerator(seed: 47)
        let buffer = SortedPrices(capacity: 2)
        var plain: [Double] = []
        for step in 0..<3_000 {
            let x = Double(Int.random(in: 0..<40, using: &g)) * 0.5
            if Bool.random(using: &g) || plain.isEmpty {
                buffer.insert(x)
                plain.insert(x, at: plain.partitionPoint { $0 < x })
            } else {
                let y = Bool.random(using: &g) ? plain[Int.random(in: 0..<plain.count, using: &g)] : x
                buffer.remove(y)
                let i = plain.partitionPoint { $0 < y }
                if i < plain.count, plain[i] == y { plain.remove(at: i) }
            }
            #expect(Array(buffer.prices) == plain, "step \(step)")
            for probe in [-1, x, x + 0.25, 25] {
                #expect(SlidingStructure.countBefore(probe, orEqual: false, in: buffer.prices) == plain.partitionPoint { $0 < probe })
                #expect(SlidingStructure.countBefore(probe, orEqual: true, in: buffer.prices) == plain.partitionPoint { $0 <= probe })
            }
            if step == 1_500 {
                buffer.removeAll()
                plain = []
            }
        }
    }
}
