import Foundation
import Testing
import TestSupport
@testable import Strategy
import TechnicalAnalysis

/// The backtest's structure finds the nearest support and resistance by walking the clusters from the last sure gap
/// before the reference; these tests hold it to the job's own `ChartStructure.levels` (all clusters from the bottom)
/// on prices with ties, tight runs and gaps on and around the tolerance.
@Suite("Nearest cluster: from the last gap equals from the bottom")
struct NearestClusterTests {
    @Test func agreesWithTheJobsLevels() {
        var g = SeededGenerator(seed: 11)
        var found = 0
        for _ in 0..<20_000 {
            let tolerance = [0.5, 1, 0.37][Int.random(in: 0..<3, using: &g)]
            var price = Double.random(in: 50...150, using: &g)
            var prices: [Double] = []
            for _ in 0..<Int.random(in: 0...60, using: &g) {
                prices.append(price)
                switch Int.random(in: 0..<6, using: &g) {
                case 0: break  // a tie
                case 1: price += tolerance  // exactly the tolerance
                case 2: price += tolerance.nextUp
                case 3: price += Double.random(in: 1...4, using: &g) * tolerance  // a gap
                default: price += Double.random(in: 0...0.6, using: &g) * tolerance
                }
            }
            prices.sort()
            let levels = ChartStructure.levels(prices, tolerance: tolerance)
            // References anywhere, on a price, on a cluster's mean (which may lie an ulp off equal prices) and an ulp away.
            let mean = levels.randomElement(using: &g)?.price ?? 100
            for reference in [Double.random(in: 40...200, using: &g), prices.randomElement(using: &g) ?? 100, mean, mean.nextUp, mean.nextDown] {
                let resistance = levels.filter { $0.price >= reference }.min { $0.price < $1.price }
                let support = levels.filter { $0.price <= reference }.max { $0.price < $1.price }
                let above = SlidingStructure.nearestCluster(prices, tolerance: tolerance, above: reference)
                let below = SlidingStructure.nearestCluster(prices, tolerance: tolerance, below: reference)
                #expect(above == resistance, "prices \(prices), tolerance \(tolerance), above \(reference)")
                #expect(below == support, "prices \(prices), tolerance \(tolerance), below \(reference)")
                if above != nil && below != nil { found += 1 }
            }
        }
        #expect(found > 5_000, "found both levels \(found) times")
    }

    /// Equal prices whose mean is not exactly their value, and a tolerance tiny beside the prices.
    @Test func awkwardFloatingPointCases() {
        let cases: [([Double], Double)] = [([0.1, 0.1, 0.1, 0.5], 0.01), ([0.173, 0.173, 0.173], 0.01), ([1e6, 1e6 + 0.1, 1e6 + 0.30001, 1e6 + 0.7], 1e-4),
                                           ([0.1, 0.1, 0.1], 0.05), ([], 1), ([5], 1)]
        for (prices, tolerance) in cases {
            let levels = ChartStructure.levels(prices, tolerance: tolerance)
            let around: (Double) -> [Double] = { [$0, $0.nextUp, $0.nextDown] }
            let references: [Double] = prices.flatMap(around) + levels.map(\.price).flatMap(around) + [0, 1e9]
            for reference in references {
                #expect(SlidingStructure.nearestCluster(prices, tolerance: tolerance, above: reference)
                        == levels.filter { $0.price >= reference }.min { $0.price < $1.price }, "\(prices) above \(reference)")
                #expect(SlidingStructure.nearestCluster(prices, tolerance: tolerance, below: reference)
                        == levels.filter { $0.price <= reference }.max { $0.price < $1.price }, "\(prices) below \(reference)")
            }
        }
    }
}
