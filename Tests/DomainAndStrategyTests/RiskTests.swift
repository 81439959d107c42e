import Foundation
import Testing
import Strategy
import TradingDomain

@Suite("Position sizing and limits")
struct SizingTests {
    let limits = RiskLimits(riskPerTrade: 0.01, maxPositionFraction: 0.2, maxTotalExposure: 0.8, maxOpenPositions: 4, minOrderNotional: 10, stopLossATR: 2, costRate: 0)

    @Test func riskPerTradeSetsTheSize() {
        // equity 10,000, risk 1 % = 100; stop 2 × ATR 5 = 10 below → 10 units at 100 = 1,000 (under the 2,000 cap).
        let d = PositionSizer.entry(price: 100, atr: 5, account: AccountState(equity: 10000, cash: 10000, exposure: 0, openPositions: 0), limits: limits)
        #expect(d == .order(quantity: 10, notional: 1000, boundBy: "risk_per_trade"))
    }

    @Test func maxPositionFractionCaps() {
        let d = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: 10000, exposure: 0, openPositions: 0), limits: limits)
        #expect(d == .order(quantity: 20, notional: 2000, boundBy: "max_position_fraction"))
    }

    @Test func totalExposureCaps() {
        let d = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: 10000, exposure: 7500, openPositions: 3), limits: limits)
        #expect(d == .order(quantity: 5, notional: 500, boundBy: "max_total_exposure"))
    }

    @Test func cashCapsIncludingCosts() {
        var l = limits
        l.costRate = Fixed("0.25")!
        let d = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: 1000, exposure: 0, openPositions: 0), limits: l)
        #expect(d == .order(quantity: 8, notional: 800, boundBy: "cash"))
    }

    @Test func maxOpenPositionsAtItsBoundary() {
        let at = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: 10000, exposure: 0, openPositions: 4), limits: limits)
        #expect(at.quantity == nil)
        let below = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: 10000, exposure: 0, openPositions: 3), limits: limits)
        #expect(below.quantity != nil)
    }

    @Test func belowMinimumNotionalIsRefusedWithTheReason() {
        let d = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: Money("9.5")!, exposure: 0, openPositions: 0), limits: limits)
        guard case let .none(reason) = d else { Issue.record("expected no order"); return }
        #expect(reason.contains("min_order_notional"))
        // Exactly at the minimum is allowed.
        let atMin = PositionSizer.entry(price: 100, atr: 1, account: AccountState(equity: 10000, cash: 10, exposure: 0, openPositions: 0), limits: limits)
        #expect(atMin.quantity == Quantity("0.1"))
    }

    @Test func noATRNoOrder() {
        let d = PositionSizer.entry(price: 100, atr: .nan, account: AccountState(equity: 10000, cash: 10000, exposure: 0, openPositions: 0), limits: limits)
        #expect(d.quantity == nil)
    }
}

@Suite("Protections at their boundaries")
struct ProtectionTests {
    let rules = ProtectionRules(
        maxDrawdown: ProtectionRule(enabled: true, threshold: 0.10, action: .safeMode),
        dailyLoss: ProtectionRule(enabled: true, threshold: 0.05, action: .blockEntries),
        losingStreak: ProtectionRule(enabled: true, threshold: 3, action: .blockEntries, blockMilliseconds: 3_600_000, lookbackMilliseconds: 86_400_000),
        errorRate: ProtectionRule(enabled: true, threshold: 3, action: .safeMode),
        symbolCooldownMilliseconds: 3_600_000)
    let day: Int64 = 86_400_000

    func facts(equity: Money = 100, peak: Money = 100, dayStart: Money = 100, exits: [Int64] = [], failures: Int = 0) -> ProtectionFacts {
        ProtectionFacts(now: 10 * day + 1000, equity: equity, peakEquity: peak, dayStartEquity: dayStart, stopLossExits: exits, consecutiveFailures: failures)
    }

    @Test func drawdownTripsAtTheThreshold() {
        #expect(ProtectionEvaluator.evaluate(facts(equity: 90, dayStart: 90), rules: rules).map(\.name) == [.maxDrawdown])
        #expect(ProtectionEvaluator.evaluate(facts(equity: Money("90.01")!, dayStart: 90), rules: rules).isEmpty)
    }

    @Test func dailyLossBlocksUntilUTCMidnight() {
        let trips = ProtectionEvaluator.evaluate(facts(equity: 95, peak: 95, dayStart: 100), rules: rules)
        #expect(trips.map(\.name) == [.dailyLoss])
        #expect(trips.first?.until == 11 * day)
        #expect(ProtectionEvaluator.evaluate(facts(equity: Money("95.01")!, peak: 95, dayStart: 100), rules: rules).isEmpty)
    }

    @Test func losingStreakCountsOnlyTheLookback() {
        let now = 10 * day + 1000
        let inside = [now - 1000, now - 2000, now - 3000]
        #expect(ProtectionEvaluator.evaluate(facts(exits: inside), rules: rules).map(\.name) == [.losingStreak])
        #expect(ProtectionEvaluator.evaluate(facts(exits: [now - 1000, now - 2000, now - day]), rules: rules).isEmpty)
    }

    @Test func errorRateAtItsBoundary() {
        #expect(ProtectionEvaluator.evaluate(facts(failures: 3), rules: rules).map(\.name) == [.errorRate])
        #expect(ProtectionEvaluator.evaluate(facts(failures: 2), rules: rules).isEmpty)
    }

    /// Without reason texts (a backtest's idle cycle) the same protections trip, with the same actions and ends.
    @Test func tripsWithoutReasonsAreTheSame() {
        var tripped = 0
        let now = 10 * day + 1000
        for equity in [Money(80), 90, 95, Money("95.01")!, 100] {
            for exits in [[], [now - 1000, now - 2000, now - 3000]] {
                for failures in [0, 3] {
                    let f = facts(equity: equity, dayStart: 100, exits: exits, failures: failures)
                    let full = ProtectionEvaluator.evaluate(f, rules: rules), bare = ProtectionEvaluator.evaluate(f, rules: rules, reasons: false)
                    #expect(full.allSatisfy { !$0.reason.isEmpty } && bare.allSatisfy(\.reason.isEmpty))
                    #expect(full.map { trip in var t = trip; t.reason = ""; return t } == bare)
                    tripped += full.count
                }
            }
        }
        #expect(tripped > 10)
    }

    @Test func disabledProtectionsNeverTrip() {
        var r = rules
        r.maxDrawdown.enabled = false
        #expect(ProtectionEvaluator.evaluate(facts(equity: 50, dayStart: 50), rules: r).isEmpty)
    }

    @Test func symbolCooldown() {
        #expect(ProtectionEvaluator.symbolCoolingDown(lastExit: 1000, now: 1000 + 3_599_999, rules: rules))
        #expect(!ProtectionEvaluator.symbolCoolingDown(lastExit: 1000, now: 1000 + 3_600_000, rules: rules))
        #expect(!ProtectionEvaluator.symbolCoolingDown(lastExit: nil, now: 0, rules: rules))
    }
}
