import Foundation
import Testing
import TestSupport
import TradingDomain
import Backtest
import Storage

/// The HTML report's charts come from a bounded sample of the equity curve.
@Suite("Equity sample for charts")
struct EquitySamplerTests {
    @Test func theChartSampleStaysBoundedAndEvenlySpaced() {
        for count in [0, 1, 2, 9, 10, 11, 100, 1_001, 35_040] {
            var sampler = EquitySampler(capacity: 10)
            for t in 0..<count { sampler.add(EquityPoint(time: Int64(t), equity: Money(exactly: t) ?? 0, cash: 0, safeMode: false)) }
            let sample = sampler.sample
            #expect(sample.count <= 11, "\(count) points → \(sample.count)")
            #expect(sample.first?.time == (count > 0 ? 0 : nil))
            #expect(sample.last?.time == (count > 0 ? Int64(count - 1) : nil), "the last point is always there")
            // Every point but the appended last one sits on the stride.
            #expect(sampler.points.allSatisfy { $0.time % Int64(sampler.stride) == 0 })
            #expect(zip(sampler.points, sampler.points.dropFirst()).allSatisfy { $1.time - $0.time == Int64(sampler.stride) })
            if count > 20 { #expect(sample.count >= 5, "still a useful number of points") }
        }
    }
}

/// `EquityStats.add` skips the divisions an unchanged equity makes pointless: the figures are those of making them all.
@Suite("Equity statistics")
struct EquityStatsTests {
    /// The figures of `add` as it was before equal points were skipped (every division made).
    struct Reference {
        var returns = 0, returnSum = 0.0, mean = 0.0, squaredDeviations = 0.0, downsideSquares = 0.0
        var peak = -Double.infinity, maxDrawdown = 0.0, last: Double?
        mutating func add(_ value: Double) {
            if let previous = last, previous > 0 {
                let r = value / previous - 1
                returns += 1
                returnSum += r
                let delta = r - mean
                mean += delta / Double(returns)
                squaredDeviations += delta * (r - mean)
                downsideSquares += min(0, r) * min(0, r)
            }
            last = value
            peak = max(peak, value)
            if peak > 0 { maxDrawdown = max(maxDrawdown, (peak - value) / peak) }
        }
        var deviation: Double { returns > 1 ? (squaredDeviations / Double(returns - 1)).squareRoot() : 0 }
    }

    /// Curves flat for long runs (a position closed), rising, falling below their peak, through zero and negative:
    /// every figure bit for bit.
    @Test func flatRunsGiveTheFiguresOfEveryDivision() throws {
        var g = SeededGenerator(seed: 41)
        for _ in 0..<300 {
            var stats = EquityStats(), reference = Reference()
            var equity = Double.random(in: -50...10_000, using: &g)
            for t in 0..<Int.random(in: 1...400, using: &g) {
                if Int.random(in: 0..<3, using: &g) == 0 { equity *= Double.random(in: 0.9...1.1, using: &g) }  // else flat
                if Int.random(in: 0..<50, using: &g) == 0 { equity = -equity }
                let money = try Money(double: (equity * 100).rounded() / 100)
                stats.add(time: Int64(t), equity: money, safeMode: false)
                reference.add(money.double)
            }
            #expect(stats.returns == reference.returns)
            #expect(stats.returnSum.bitPattern == reference.returnSum.bitPattern)
            #expect(stats.returnDeviation.bitPattern == reference.deviation.bitPattern)
            #expect(stats.downsideSquares.bitPattern == reference.downsideSquares.bitPattern)
            #expect(stats.maxDrawdown.bitPattern == reference.maxDrawdown.bitPattern)
            #expect(stats.lastEquity?.bitPattern == reference.last?.bitPattern)
        }
    }
}
