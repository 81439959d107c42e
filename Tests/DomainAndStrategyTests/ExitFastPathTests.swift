import Foundation
import Testing
import TestSupport
import Strategy
import TradingDomain

/// The exit and adjustment checks first compare in binary and fall back to decimals near a level; these tests drive
/// both ways over many positions and candles, many of them on or a hair away from a level, and require the same result.
@Suite("Exit checks: binary pre-check equals the decimal rules")
struct ExitFastPathTests {
    /// A price near `level`: exactly on it, one ulp either side, 1e-12 away, or anywhere within a few percent.
    static func near(_ level: Double, _ g: inout SeededGenerator) -> Double {
        switch Int.random(in: 0..<6, using: &g) {
        case 0: return level
        case 1: return level.nextUp
        case 2: return level.nextDown
        case 3: return level * (1 + (Bool.random(using: &g) ? 1e-12 : -1e-12))
        default: return level * Double.random(in: 0.95...1.05, using: &g)
        }
    }

    static func rules(_ g: inout SeededGenerator) -> ExitRules {
        ExitRules(stopLossATR: [1, 1.5, 2][Int.random(in: 0..<3, using: &g)], takeProfitATR: [2, 3.3, 4][Int.random(in: 0..<3, using: &g)],
                  trailingStop: Bool.random(using: &g), trailingActivationATR: [0.5, 1, 1.5][Int.random(in: 0..<3, using: &g)],
                  trailingDistanceATR: [0.7, 1, 1.5][Int.random(in: 0..<3, using: &g)], addTriggerATR: [0.3, 1][Int.random(in: 0..<2, using: &g)],
                  partialTakeProfitATR: [0, 1.1, 2.5][Int.random(in: 0..<3, using: &g)],
                  stopBasis: Bool.random(using: &g) ? .initialEntry : .averagePrice)
    }

    static func position(_ rules: ExitRules, _ g: inout SeededGenerator) -> Position {
        let entry = Money.decimal(Double.random(in: 0.01...60_000, using: &g)).map { Money.round($0, scale: 6) } ?? 1
        let average = Bool.random(using: &g) ? entry : entry * Decimal(Double.random(in: 0.9...1.1, using: &g))
        var p = Position(id: 1, symbol: "X", state: .monitoring, quantity: 2, entryPrice: average, initialEntryPrice: entry, cost: 2 * average,
                         stopPrice: nil, takeProfitPrice: nil, highestPrice: nil, atrAtEntry: Money.double(entry) * Double.random(in: 0.001...0.05, using: &g),
                         adjustments: Int.random(in: 0...2, using: &g), partialTakeProfitDone: Bool.random(using: &g), openedAt: 0, lastCheckedCandle: 0)
        let levels = rules.levels(for: p)
        if Bool.random(using: &g) { p.stopPrice = levels.stop }
        if Bool.random(using: &g) { p.takeProfitPrice = levels.takeProfit }
        if Bool.random(using: &g) { p.highestPrice = Money.decimal(near(Money.double(levels.takeProfit), &g)) }
        return p
    }

    @Test func exitChecksAgree() {
        var g = SeededGenerator(seed: 8)
        var exits = 0, quiet = 0
        for _ in 0..<20_000 {
            let rules = Self.rules(&g)
            let p = Self.position(rules, &g)
            // Candles whose low and high sit on or around every level the position has.
            let atr = p.atrAtEntry, basis = Money.double(rules.basis(of: p))
            let levels = [p.stopPrice.map(Money.double), p.takeProfitPrice.map(Money.double), p.highestPrice.map(Money.double),
                          p.highestPrice.map { Money.double($0) - atr * rules.trailingDistanceATR }, basis + atr * rules.trailingActivationATR, basis]
                .compactMap { $0 }
            var candles: [Candle] = []
            for t in 1...Int64.random(in: 1...3, using: &g) {
                let a = Self.near(levels.randomElement(using: &g) ?? basis, &g), b = Self.near(levels.randomElement(using: &g) ?? basis, &g)
                candles.append(Candle(openTime: t, open: a, high: max(a, b), low: min(a, b), close: b, volume: 1))
            }
            let fast = ExitEvaluator.check(p, candles: candles[...], signal: nil, now: 10, rules: rules)
            let exact = ExitEvaluator.check(p, candles: candles[...], signal: nil, now: 10, rules: rules, exactOnly: true)
            #expect(fast == exact, "position \(p), candles \(candles)")
            if exact.exit != nil { exits += 1 } else { quiet += 1 }
        }
        // Both outcomes are well represented.
        #expect(exits > 2_000 && quiet > 2_000, "exits \(exits), quiet \(quiet)")
    }

    @Test func adjustmentDecisionsAgree() {
        var g = SeededGenerator(seed: 9)
        var adjusted = 0, none = 0
        for _ in 0..<20_000 {
            let rules = Self.rules(&g)
            let p = Self.position(rules, &g)
            let atr = p.atrAtEntry, adds = Double(p.adjustments - (p.partialTakeProfitDone ? 1 : 0) + 1)
            let level = Bool.random(using: &g) ? Money.double(rules.basis(of: p)) + atr * rules.partialTakeProfitATR
                : Money.double(p.initialEntryPrice) + atr * rules.addTriggerATR * adds
            let close = Self.near(level, &g)
            let signal = Signal(symbol: "X", candleTime: 1, direction: Bool.random(using: &g) ? .long : .flat,
                                confidence: Double.random(in: 0...1, using: &g), score: 0, components: [:], indicators: [:], patterns: [:])
            let allowed = Bool.random(using: &g)
            let fast = AdjustmentRules.decide(p, lastClose: close, signal: signal, minConfidence: 0.5, rules: rules, addsAllowed: allowed)
            let exact = AdjustmentRules.decide(p, lastClose: close, signal: signal, minConfidence: 0.5, rules: rules, addsAllowed: allowed, exactOnly: true)
            #expect(fast == exact, "position \(p), close \(close)")
            if exact != nil { adjusted += 1 } else { none += 1 }
        }
        #expect(adjusted > 2_000 && none > 2_000, "adjusted \(adjusted), none \(none)")
    }

    /// Values `Money.decimal` cannot keep (beyond 1e128, below 1e-128) go the exact way, whatever they are.
    @Test func valuesOutsideTheDecimalRangeTakeTheExactWay() {
        let rules = ExitRules(trailingStop: false, partialTakeProfitATR: 1)
        let p = Position(id: 1, symbol: "X", state: .monitoring, quantity: 1, entryPrice: 100, initialEntryPrice: 100, cost: 100, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: 100, atrAtEntry: 5, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        for (low, high) in [(99.0, 1e130), (1e-130, 120.0), (-1e200, 101.0), (1e-320, 99.5)] {
            let candles = [Candle(openTime: 1, open: 100, high: high, low: low, close: 100, volume: 1)]
            let fast = ExitEvaluator.check(p, candles: candles[...], signal: nil, now: 2, rules: rules)
            let exact = ExitEvaluator.check(p, candles: candles[...], signal: nil, now: 2, rules: rules, exactOnly: true)
            #expect(fast == exact, "low \(low), high \(high)")
        }
        var huge = p
        huge.atrAtEntry = 1e130
        for close in [101.0, 1e131, 1e-130] {
            let fast = AdjustmentRules.decide(huge, lastClose: close, signal: nil, minConfidence: 0.5, rules: rules, addsAllowed: true)
            let exact = AdjustmentRules.decide(huge, lastClose: close, signal: nil, minConfidence: 0.5, rules: rules, addsAllowed: true, exactOnly: true)
            #expect(fast == exact, "atr 1e130, close \(close)")
        }
    }
}
