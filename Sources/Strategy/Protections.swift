import Foundation
import TradingDomain

/// What a tripped protection does.
public enum ProtectionAction: String, Sendable, Equatable {
    /// No new entries (and no adds) until the block ends.
    case blockEntries = "block_entries"
    /// Enter safe mode: close everything, hold the cooldown.
    case safeMode = "safe_mode"
}

/// One protection's rule (`protections.<name>.*`).
public struct ProtectionRule: Sendable, Equatable {
    public var enabled: Bool
    /// Fraction (drawdown, daily loss) or count (losing streak, failures), depending on the protection.
    public var threshold: Double
    public var action: ProtectionAction
    public var blockMilliseconds: Int64
    /// Lookback window (losing streak).
    public var lookbackMilliseconds: Int64

    public init(enabled: Bool, threshold: Double, action: ProtectionAction, blockMilliseconds: Int64 = 0, lookbackMilliseconds: Int64 = 0) {
        self.enabled = enabled
        self.threshold = threshold
        self.action = action
        self.blockMilliseconds = blockMilliseconds
        self.lookbackMilliseconds = lookbackMilliseconds
    }
}

/// All protections' rules.
public struct ProtectionRules: Sendable, Equatable {
    public var maxDrawdown: ProtectionRule
    public var dailyLoss: ProtectionRule
    public var losingStreak: ProtectionRule
    public var errorRate: ProtectionRule
    /// 0 = off.
    public var symbolCooldownMilliseconds: Int64

    public init(maxDrawdown: ProtectionRule, dailyLoss: ProtectionRule, losingStreak: ProtectionRule, errorRate: ProtectionRule,
                symbolCooldownMilliseconds: Int64) {
        self.maxDrawdown = maxDrawdown
        self.dailyLoss = dailyLoss
        self.losingStreak = losingStreak
        self.errorRate = errorRate
        self.symbolCooldownMilliseconds = symbolCooldownMilliseconds
    }
}

/// The persisted facts the protections judge (all read from the database at the start of a run).
public struct ProtectionFacts: Sendable, Equatable {
    public var now: Int64
    public var equity: Money
    /// Highest equity ever recorded.
    public var peakEquity: Money
    /// First equity recorded on the current UTC day.
    public var dayStartEquity: Money
    /// Times of stop-loss exits (any window; the rule filters).
    public var stopLossExits: [Int64]
    /// Consecutive failed cycles (or failing source) up to now.
    public var consecutiveFailures: Int

    public init(now: Int64, equity: Money, peakEquity: Money, dayStartEquity: Money, stopLossExits: [Int64], consecutiveFailures: Int) {
        self.now = now
        self.equity = equity
        self.peakEquity = peakEquity
        self.dayStartEquity = dayStartEquity
        self.stopLossExits = stopLossExits
        self.consecutiveFailures = consecutiveFailures
    }
}

/// A protection that tripped.
public struct ProtectionTrip: Sendable, Equatable {
    public var name: ProtectionName
    public var action: ProtectionAction
    /// For `blockEntries`: when the block ends.
    public var until: Int64
    public var reason: String
}

/// Pure evaluation of the protections at their boundaries (a value equal to the threshold trips), exactly in fixed point.
/// - max drawdown: (peak − equity) / peak ≥ fraction;
/// - daily loss: (day start − equity) / day start ≥ fraction; a block lasts until the next UTC midnight;
/// - losing streak: at least `count` stop-loss exits within the lookback;
/// - error rate: at least `count` consecutive failed cycles.
///
/// `reasons: false` leaves each trip's reason text empty (a backtest's idle cycle reads only which protections trip,
/// their actions and until when).
public enum ProtectionEvaluator {
    public static func evaluate(_ f: ProtectionFacts, rules: ProtectionRules, reasons: Bool = true) -> [ProtectionTrip] {
        var trips: [ProtectionTrip] = []
        let r = rules
        if r.maxDrawdown.enabled, f.peakEquity > 0, f.equity < f.peakEquity || r.maxDrawdown.threshold <= 0,
           reaches(f.peakEquity, f.equity, r.maxDrawdown.threshold) {
            let drawdown = (f.peakEquity.double - f.equity.double) / f.peakEquity.double
            trips.append(ProtectionTrip(name: .maxDrawdown, action: r.maxDrawdown.action, until: f.now + r.maxDrawdown.blockMilliseconds,
                                        reason: !reasons ? "" : "drawdown \(FixedDecimals.text(drawdown * 100, decimals: 2))% from peak \(f.peakEquity.text(decimals: 2)) reached the limit \(FixedDecimals.text(r.maxDrawdown.threshold * 100, decimals: 2))%"))
        }
        if r.dailyLoss.enabled, f.dayStartEquity > 0, f.equity < f.dayStartEquity || r.dailyLoss.threshold <= 0,
           reaches(f.dayStartEquity, f.equity, r.dailyLoss.threshold) {
            let loss = (f.dayStartEquity.double - f.equity.double) / f.dayStartEquity.double
            trips.append(ProtectionTrip(name: .dailyLoss, action: r.dailyLoss.action, until: nextUTCMidnight(after: f.now),
                                        reason: !reasons ? "" : "loss \(FixedDecimals.text(loss * 100, decimals: 2))% since the UTC day began reached the limit \(FixedDecimals.text(r.dailyLoss.threshold * 100, decimals: 2))%"))
        }
        if r.losingStreak.enabled {
            let since = f.now - r.losingStreak.lookbackMilliseconds
            let count = f.stopLossExits.filter { $0 > since && $0 <= f.now }.count
            if Double(count) >= r.losingStreak.threshold {
                trips.append(ProtectionTrip(name: .losingStreak, action: r.losingStreak.action, until: f.now + r.losingStreak.blockMilliseconds,
                                            reason: !reasons ? "" : "\(count) stop-loss exits within \(r.losingStreak.lookbackMilliseconds / 60_000) min (limit \(Int(r.losingStreak.threshold)))"))
            }
        }
        if r.errorRate.enabled, Double(f.consecutiveFailures) >= r.errorRate.threshold {
            trips.append(ProtectionTrip(name: .errorRate, action: r.errorRate.action, until: f.now + r.errorRate.blockMilliseconds,
                                        reason: !reasons ? "" : "\(f.consecutiveFailures) consecutive failed cycles (limit \(Int(r.errorRate.threshold)))"))
        }
        return trips
    }

    /// Whether the fall from `reference` to `equity` is at least `threshold` × `reference`, exactly: the threshold as a
    /// fraction at 1e-8 (`Fixed(double:)`), its product with the reference rounded up (the fall is a whole number of
    /// 1e-8 units, so comparing with the ceiling is comparing with the exact product). Out of range: true.
    static func reaches(_ reference: Money, _ equity: Money, _ threshold: Double) -> Bool {
        guard let fraction = try? Fixed(double: threshold), let fall = try? reference - equity,
              let limit = try? reference.multiplied(by: fraction, .up) else { return true }
        return fall >= limit
    }

    /// Whether `symbol`'s cooldown after its last exit still holds.
    public static func symbolCoolingDown(lastExit: Int64?, now: Int64, rules: ProtectionRules) -> Bool {
        guard rules.symbolCooldownMilliseconds > 0, let lastExit else { return false }
        return now < lastExit + rules.symbolCooldownMilliseconds
    }

    public static func nextUTCMidnight(after ms: Int64) -> Int64 {
        let day: Int64 = 86_400_000
        return (ms / day + 1) * day
    }

    public static func utcDayStart(_ ms: Int64) -> Int64 { (ms / 86_400_000) * 86_400_000 }
}
