import Foundation
import Testing
import TestSupport
@testable import Backtest
import MarketData
import TradingDomain

/// The replay's time lookups guess from even spacing and check the guess; these tests hold them to a plain search on
/// series with gaps, duplicates across symbols and times between bars.
@Suite("Replay index")
struct ReplayIndexTests {
    static func series(_ g: inout SeededGenerator, step: Int64 = 900_000) -> [Candle] {
        var t = Int64.random(in: 0...10, using: &g) * step
        var out: [Candle] = []
        for _ in 0..<Int.random(in: 0...200, using: &g) {
            out.append(Candle(openTime: t, open: 1, high: 1, low: 1, close: 1, volume: 1))
            // Mostly even, sometimes a gap of several bars, sometimes an off-grid bar.
            switch Int.random(in: 0..<10, using: &g) {
            case 0: t += step * Int64.random(in: 2...5, using: &g)
            case 1: t += step + Int64.random(in: 1...1000, using: &g)
            default: t += step
            }
        }
        return out
    }

    @Test func lowerBoundMatchesABinarySearch() {
        var g = SeededGenerator(seed: 3)
        for _ in 0..<300 {
            let candles = Self.series(&g)
            let last = candles.last?.openTime ?? 0
            for t in stride(from: -900_000 as Int64, through: last + 2_000_000, by: 150_000) + candles.map(\.openTime) {
                #expect(ReplayMarket.lowerBound(candles, t) == candles.partitionPoint { $0.openTime < t }, "t \(t)")
                #expect(ReplayMarket.lowerBound(candles, t + 1) == candles.partitionPoint { $0.openTime < t + 1 }, "t \(t + 1)")
            }
        }
    }

    @Test func openTimesAreTheSortedUnionOfAllSeries() {
        var g = SeededGenerator(seed: 4)
        for _ in 0..<200 {
            var bySymbol: [Symbol: [Candle]] = [:]
            for k in 0..<Int.random(in: 1...5, using: &g) { bySymbol[Symbol(rawValue: "S\(k)")] = Self.series(&g) }
            let expected = Array(Set(bySymbol.values.flatMap { $0.map(\.openTime) })).sorted()
            #expect(BacktestRunner.openTimes(bySymbol) == expected)
        }
    }

    /// The spacing counted a run at a time is the spacing counted bar by bar, ties to the smaller.
    @Test func mostCommonSpacingIsThePlainCount() {
        var g = SeededGenerator(seed: 5)
        var found = 0
        for round in 0..<300 {
            var bySymbol: [Symbol: [Candle]] = [:]
            for k in 0..<Int.random(in: 1...4, using: &g) {
                bySymbol[Symbol(rawValue: "S\(k)")] = Self.series(&g, step: round % 3 == 0 ? 60_000 : 900_000)
            }
            var counts: [Int64: Int] = [:]
            for series in bySymbol.values where series.count > 1 {
                for i in 1..<series.count { counts[series[i].openTime - series[i - 1].openTime, default: 0] += 1 }
            }
            let expected = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })?.key
            #expect(BacktestRunner.mostCommonSpacing(bySymbol) == expected, "round \(round)")
            if expected != nil { found += 1 }
        }
        // Two equally common spacings: the smaller.
        let even = [0, 2, 4, 5, 6].map { Candle(openTime: Int64($0), open: 1, high: 1, low: 1, close: 1, volume: 1) }
        #expect(BacktestRunner.mostCommonSpacing(["A": even]) == 1)
        #expect(found > 200)
    }
}
