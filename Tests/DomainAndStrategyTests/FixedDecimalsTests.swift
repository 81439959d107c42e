import Foundation
import Testing
import TestSupport
import TradingDomain

/// `FixedDecimals.text` writes what `String(format: "%.<n>f")` writes (glibc: the exact binary value, half to even).
@Suite struct FixedDecimalsTests {
    func expectSameAsFormat(_ x: Double, _ decimals: Int) {
        #expect(FixedDecimals.text(x, decimals: decimals) == String(format: "%.\(decimals)f", x), "\(x) with \(decimals) decimals")
    }

    @Test func edgesAndTies() {
        let values: [Double] = [0, -0.0, 1, -1, 0.5, 1.5, 2.5, -2.5, 0.0005, 0.0015, 0.0025, 0.1235, 0.9995, 0.99949999, 1e-9, 5e-10, -5e-10,
                                123456789.987654321, 999999999999999.9, -999999999999999.9, 1e15, -1e15, 1e300, 1e-300, .leastNonzeroMagnitude,
                                .infinity, -.infinity, .nan, .pi, 1.0 / 3.0, 2.0 / 3.0, 0.125, 0.375, 1.0000005, 0.45, 0.55]
        for x in values {
            for decimals in 0...10 { expectSameAsFormat(x, decimals) }
        }
    }

    @Test func seededRandomValues() {
        var g = SeededGenerator(seed: 20261206)
        for _ in 0..<20_000 {
            let decimals = Int.random(in: 0...9, using: &g)
            // Confidences, prices and values whose last decimals sit on a tie after scaling.
            let x: Double
            switch Int.random(in: 0...3, using: &g) {
            case 0: x = Double.random(in: -1...1, using: &g)
            case 1: x = Double.random(in: -1e6...1e6, using: &g)
            case 2: x = Double(Int.random(in: -1_000_000...1_000_000, using: &g)) / 2000
            default: x = Double(bitPattern: g.next())
            }
            expectSameAsFormat(x, decimals)
        }
    }
}
