import Foundation
import Testing
import TestSupport
import Strategy
import TradingDomain

@Suite("Exits and adjustments")
struct ExitTests {
    let rules = ExitRules(stopLossATR: 2, takeProfitATR: 4, trailingStop: true, trailingActivationATR: 1, trailingDistanceATR: 1,
                          maxHoldingMilliseconds: 0, exitConfidence: 0.5, maxAdjustments: 3, addTriggerATR: 1, addFraction: 0.5,
                          partialTakeProfitATR: 0, partialTakeProfitFraction: 0.5, stopBasis: .initialEntry)

    func position() -> Position {
        var p = Position(id: 1, symbol: "X", state: .monitoring, quantity: 1, entryPrice: 100, initialEntryPrice: 100, cost: 100, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: 100, atrAtEntry: 5, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        guard let levels = try? rules.levels(for: p) else { return p }
        p.stopPrice = levels.stop
        p.takeProfitPrice = levels.takeProfit
        return p
    }

    func candle(_ t: Int64, _ o: Double, _ h: Double, _ l: Double, _ c: Double) -> Candle { Candle(openTime: t, open: o, high: h, low: l, close: c, volume: 1) }

    @Test func levelsFromATR() {
        #expect(position().stopPrice == 90)
        #expect(position().takeProfitPrice == 120)
    }

    @Test func aGapBetweenRunsDoesNotSkipTheStop() {
        // Three candles since the last run; the middle one went through the stop, the last recovered.
        let candles = [candle(1, 100, 101, 99, 100), candle(2, 100, 100, 85, 88), candle(3, 88, 104, 88, 103)]
        let check = ExitEvaluator.check(position(), candles: candles, signal: nil, now: 4, rules: rules)
        #expect(check.exit?.reason == .stopLoss)
        #expect(check.exit?.candleTime == 2)
        #expect(check.position.lastCheckedCandle == 2)
    }

    @Test func candlesAlreadyCheckedAreSkipped() {
        var p = position()
        p.lastCheckedCandle = 2
        let candles = [candle(1, 100, 100, 50, 60), candle(2, 100, 100, 50, 60), candle(3, 100, 101, 99, 100)]
        #expect(ExitEvaluator.check(p, candles: candles, signal: nil, now: 4, rules: rules).exit == nil)
    }

    @Test func stopBeforeTargetWhenOneCandleTouchesBoth() {
        let check = ExitEvaluator.check(position(), candles: [candle(1, 100, 125, 85, 100)], signal: nil, now: 2, rules: rules)
        #expect(check.exit?.reason == .stopLoss)
    }

    @Test func takeProfit() {
        #expect(ExitEvaluator.check(position(), candles: [candle(1, 100, 120, 99, 119)], signal: nil, now: 2, rules: rules).exit?.reason == .takeProfit)
    }

    @Test func trailingStopFollowsTheHigh() {
        // High 112 activates (≥ 105) and trails at 107; the next candle's low 106 hits it.
        let candles = [candle(1, 100, 112, 100, 111), candle(2, 111, 111, 106, 107)]
        let check = ExitEvaluator.check(position(), candles: candles, signal: nil, now: 3, rules: rules)
        #expect(check.exit?.reason == .trailingStop)
        #expect(check.exit?.level == 107)
    }

    @Test func reversedSignalExits() {
        let flat = Signal(symbol: "X", candleTime: 1, direction: .flat, confidence: 0.5, score: -0.3, components: [:], indicators: [:], patterns: [:])
        #expect(ExitEvaluator.check(position(), candles: [], signal: flat, now: 2, rules: rules).exit?.reason == .signalReversed)
        var weak = flat
        weak.confidence = 0.49
        #expect(ExitEvaluator.check(position(), candles: [], signal: weak, now: 2, rules: rules).exit == nil)
    }

    @Test func maxHoldingTime() {
        var r = rules
        r.maxHoldingMilliseconds = 1000
        #expect(ExitEvaluator.check(position(), candles: [], signal: nil, now: 1000, rules: r).exit?.reason == .maxHoldingTime)
        #expect(ExitEvaluator.check(position(), candles: [], signal: nil, now: 999, rules: r).exit == nil)
    }

    @Test func addsOnlyWhenTriggeredAndAllowed() {
        let long = Signal(symbol: "X", candleTime: 1, direction: .long, confidence: 0.7, score: 0.5, components: [:], indicators: [:], patterns: [:])
        let p = position()
        guard case let .add(quantity, _)? = AdjustmentRules.decide(p, lastClose: 105, signal: long, minConfidence: 0.6, rules: rules, addsAllowed: true) else {
            Issue.record("expected an add")
            return
        }
        #expect(quantity == Quantity("0.5"))
        #expect(AdjustmentRules.decide(p, lastClose: 104.9, signal: long, minConfidence: 0.6, rules: rules, addsAllowed: true) == nil)
        #expect(AdjustmentRules.decide(p, lastClose: 105, signal: long, minConfidence: 0.6, rules: rules, addsAllowed: false) == nil)
        var maxed = p
        maxed.adjustments = 3
        #expect(AdjustmentRules.decide(maxed, lastClose: 200, signal: long, minConfidence: 0.6, rules: rules, addsAllowed: true) == nil)
    }

    @Test func partialTakeProfitOnce() {
        var r = rules
        r.partialTakeProfitATR = 2
        let p = position()
        guard case .partialTakeProfit(let q, _)? = AdjustmentRules.decide(p, lastClose: 110, signal: nil, minConfidence: 0.6, rules: r, addsAllowed: true) else {
            Issue.record("expected a partial take-profit")
            return
        }
        #expect(q == Quantity("0.5"))
        var done = p
        done.partialTakeProfitDone = true
        done.adjustments = 1
        #expect(AdjustmentRules.decide(done, lastClose: 110, signal: nil, minConfidence: 0.6, rules: r, addsAllowed: true) == nil)
    }

    /// Without reason texts (a backtest's idle cycle) the same adjustments are decided, with the same quantities.
    @Test func decisionsWithoutReasonsAreTheSame() {
        var decided = 0
        for partialATR in [0.0, 2.0] {
            var r = rules
            r.partialTakeProfitATR = partialATR
            for adjustments in 0...3 {
                for done in [false, true] {
                    var p = position()
                    p.adjustments = adjustments
                    p.partialTakeProfitDone = done
                    for close in stride(from: 95.0, through: 125.0, by: 0.25) {
                        for confidence in [0.5, 0.6, 0.61, 0.9] {
                            for direction in [SignalDirection.long, .flat] {
                                let signal = Signal(symbol: "X", candleTime: 1, direction: direction, confidence: confidence, score: 0.5,
                                                    components: [:], indicators: [:], patterns: [:])
                                for allowed in [true, false] {
                                    let full = AdjustmentRules.decide(p, lastClose: close, signal: signal, minConfidence: 0.6, rules: r, addsAllowed: allowed)
                                    let bare = AdjustmentRules.decide(p, lastClose: close, signal: signal, minConfidence: 0.6, rules: r, addsAllowed: allowed,
                                                                      reasons: false)
                                    switch (full, bare) {
                                    case (nil, nil): break
                                    case let (.add(a, why)?, .add(b, none)?), let (.partialTakeProfit(a, why)?, .partialTakeProfit(b, none)?):
                                        #expect(a == b && !why.isEmpty && none.isEmpty)
                                        decided += 1
                                    default: Issue.record("\(String(describing: full)) against \(String(describing: bare))")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(decided > 100)
    }

    @Test func stopBasisAfterAnAdd() throws {
        var p = position()
        p.entryPrice = 104
        var r = rules
        #expect(try r.levels(for: p).stop == 90)
        r.stopBasis = .averagePrice
        #expect(try r.levels(for: p).stop == 94)
    }
}

@Suite("Next run interval")
struct ScheduleTests {
    let policy = SchedulePolicy(volatilityLow: 0.3, volatilityHigh: 0.8, fastSeconds: 900, normalSeconds: 1800, slowSeconds: 14_400, offsetSeconds: 15)
    let tf = Timeframe("15m")!
    let now: Int64 = 1_700_000_123_000

    @Test func cadenceFromVolatility() {
        #expect(RunIntervalPolicy.choose(volatility: 0.81, now: now, timeframe: tf, policy: policy).cadence == .fast)
        #expect(RunIntervalPolicy.choose(volatility: 0.8, now: now, timeframe: tf, policy: policy).cadence == .normal)
        #expect(RunIntervalPolicy.choose(volatility: 0.3, now: now, timeframe: tf, policy: policy).cadence == .normal)
        #expect(RunIntervalPolicy.choose(volatility: 0.29, now: now, timeframe: tf, policy: policy).cadence == .slow)
        #expect(RunIntervalPolicy.choose(volatility: nil, now: now, timeframe: tf, policy: policy).cadence == .normal)
    }

    @Test func alignedToACandleClosePlusOffset() {
        let next = RunIntervalPolicy.choose(volatility: 1, now: now, timeframe: tf, policy: policy)
        #expect((next.at - 15_000) % 900_000 == 0)
        #expect(next.at >= now + 900_000 - 15_000)
        #expect(next.at < now + 1_800_000)
        // A run just after a close (plus the offset) is followed exactly one interval later.
        let onTime: Int64 = 1_700_000_100_000 / 900_000 * 900_000 + 15_000
        #expect(RunIntervalPolicy.choose(volatility: 1, now: onTime, timeframe: tf, policy: policy).at == onTime + 900_000)
        #expect(RunIntervalPolicy.choose(volatility: 0.5, now: onTime, timeframe: tf, policy: policy).at == onTime + 1_800_000)
    }

    @Test func safeModeUntilBoundsTheNextRun() {
        let next = RunIntervalPolicy.choose(volatility: 0.1, now: now, timeframe: tf, policy: policy, notLaterThan: now + 60_000)
        #expect(next.at == now + 60_000)
    }

    @Test func medianVolatility() {
        #expect(RunIntervalPolicy.marketVolatility([0.1, 0.9, 0.5]) == 0.5)
        #expect(RunIntervalPolicy.marketVolatility([0.1, 0.3, 0.5, 0.9]) == 0.4)
        #expect(RunIntervalPolicy.marketVolatility([]) == nil)
        // One figure: itself when finite (no list filtered and sorted for it), nil otherwise; NaN left out of longer lists.
        #expect(RunIntervalPolicy.marketVolatility([0.7]) == 0.7)
        for bad in [Double.nan, .infinity, -.infinity] { #expect(RunIntervalPolicy.marketVolatility([bad]) == nil) }
        #expect(RunIntervalPolicy.marketVolatility([.nan, 0.2]) == 0.2)
    }

    /// Read from the candles in place, the volatility is the one of the copied closes, bit for bit: seeded windows and
    /// lengths, slices that do not start at zero, closes at or below zero, too few candles.
    @Test func realizedVolatilityOfCandlesIsThatOfTheirCloses() {
        var g = SeededGenerator(seed: 5)
        var compared = 0
        for round in 0..<500 {
            let count = Int.random(in: 0...60, using: &g)
            var close = 100.0
            let candles = (0..<count).map { i -> Candle in
                close *= exp(Double.random(in: -0.05...0.05, using: &g))
                let value = round % 25 == 0 && i == count / 2 ? [0, -1][round % 2] : close
                return Candle(openTime: Int64(i) * 900_000, open: value, high: value, low: value, close: value, volume: 1)
            }
            let from = Int.random(in: 0...count, using: &g)
            let slice = candles[from...]
            for window in [0, 1, 2, 5, 20] {
                let expected = RunIntervalPolicy.realizedVolatility(closes: slice.suffix(window + 1).map(\.close), window: window, barsPerYear: 35_040)
                let got = RunIntervalPolicy.realizedVolatility(candles: slice, window: window, barsPerYear: 35_040)
                #expect(got?.bitPattern == expected?.bitPattern, "round \(round), window \(window)")
                if expected != nil { compared += 1 }
            }
        }
        #expect(compared > 500)
    }

    @Test func realizedVolatilityOfConstantReturnsIsZero() {
        let closes = (0..<30).map { 100 * pow(1.01, Double($0)) }
        let v = RunIntervalPolicy.realizedVolatility(closes: closes, window: 20, barsPerYear: 35_040)
        #expect(v != nil && v! < 1e-9)
    }
}
