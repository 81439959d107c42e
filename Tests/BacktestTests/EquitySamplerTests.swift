import Foundation
import Testing
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
