import Dispatch
import Foundation
import Strategy
import TradingDomain

/// `tradejob-bench risk [--iterations N]`: one full risk decision — sizing with every limit plus the
/// evaluation of every protection, on state already loaded — timed over many iterations (best of 5).
func riskBenchmark(_ arguments: [String]) -> Int32 {
    var iterations = 200_000
    if let i = arguments.firstIndex(of: "--iterations"), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 { iterations = n }
    let limits = RiskLimits(riskPerTrade: 0.01, maxPositionFraction: 0.2, maxTotalExposure: 0.8, maxOpenPositions: 4,
                            minOrderNotional: 10, stopLossATR: 2, costRate: Fixed("0.0015") ?? 0)
    let rules = ProtectionRules(
        maxDrawdown: ProtectionRule(enabled: true, threshold: 0.15, action: .safeMode),
        dailyLoss: ProtectionRule(enabled: true, threshold: 0.05, action: .blockEntries),
        losingStreak: ProtectionRule(enabled: true, threshold: 3, action: .blockEntries, blockMilliseconds: 14_400_000, lookbackMilliseconds: 86_400_000),
        errorRate: ProtectionRule(enabled: true, threshold: 3, action: .safeMode),
        symbolCooldownMilliseconds: 3_600_000)
    let now: Int64 = 1_700_000_000_000
    let facts = ProtectionFacts(now: now, equity: Money("10234.56") ?? 0, peakEquity: Money("10500.10") ?? 0,
                                dayStartEquity: Money("10300") ?? 0, stopLossExits: [now - 3_600_000, now - 7_200_000],
                                consecutiveFailures: 1)
    let account = AccountState(equity: Money("10234.56") ?? 0, cash: Money("6234.56") ?? 0,
                               exposure: Money("4000") ?? 0, openPositions: 2)
    let price = Price("43210.12") ?? 0
    var best = Double.infinity
    var sink = 0
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<iterations {
            let trips = ProtectionEvaluator.evaluate(facts, rules: rules)
            let cooling = ProtectionEvaluator.symbolCoolingDown(lastExit: now - Int64(i % 7_200_000), now: now, rules: rules)
            let sizing = PositionSizer.entry(price: price, atr: 350.5 + Double(i & 7), account: account, limits: limits)
            if sizing.quantity != nil { sink &+= 1 }
            sink &+= trips.count + (cooling ? 1 : 0)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        best = min(best, elapsed / Double(iterations))
    }
    print("risk_decision_ns \(String(format: "%.1f", best))")
    print("risk_decision_us \(String(format: "%.3f", best / 1000))")
    if sink == -1 { print(sink) }
    return 0
}
