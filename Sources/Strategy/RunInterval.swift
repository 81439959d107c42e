import Foundation
import TradingDomain

/// The three run cadences.
public enum RunCadence: String, Sendable, Codable {
    case fast = "FAST"
    case normal = "NORMAL"
    case slow = "SLOW"
}

/// `volatility.*` and `schedule.*`.
public struct SchedulePolicy: Sendable, Equatable {
    public var volatilityLow: Double
    public var volatilityHigh: Double
    public var fastSeconds: Int64
    public var normalSeconds: Int64
    public var slowSeconds: Int64
    public var offsetSeconds: Int64

    public init(volatilityLow: Double = 0.3, volatilityHigh: Double = 0.8, fastSeconds: Int64 = 900, normalSeconds: Int64 = 1800,
                slowSeconds: Int64 = 14_400, offsetSeconds: Int64 = 15) {
        self.volatilityLow = volatilityLow
        self.volatilityHigh = volatilityHigh
        self.fastSeconds = fastSeconds
        self.normalSeconds = normalSeconds
        self.slowSeconds = slowSeconds
        self.offsetSeconds = offsetSeconds
    }
}

/// The chosen next run.
public struct NextRun: Sendable, Equatable {
    public var cadence: RunCadence
    public var intervalSeconds: Int64
    /// Epoch ms.
    public var at: Int64
    /// The market volatility the choice was made on (nil: no figure).
    public var volatility: Double?
    public var policy: SchedulePolicy
    /// Whether safe mode's end moved the run earlier.
    public var boundBySafeMode: Bool

    /// Why this cadence (built on demand: backtests never ask).
    public var reason: String {
        var text: String
        if let v = volatility {
            switch cadence {
            case .fast: text = "market volatility \(FixedDecimals.text(v, decimals: 3)) above volatility.high \(FixedDecimals.text(policy.volatilityHigh, decimals: 3))"
            case .slow: text = "market volatility \(FixedDecimals.text(v, decimals: 3)) below volatility.low \(FixedDecimals.text(policy.volatilityLow, decimals: 3))"
            case .normal: text = "market volatility \(FixedDecimals.text(v, decimals: 3)) between \(FixedDecimals.text(policy.volatilityLow, decimals: 3)) and \(FixedDecimals.text(policy.volatilityHigh, decimals: 3))"
            }
        } else {
            text = "no volatility figure (no symbol analysed)"
        }
        if boundBySafeMode { text += "; safe mode ends earlier" }
        return text
    }
}

/// Chooses the next run from market volatility.
///
/// Market volatility = the median across symbols of each symbol's annualised realised volatility
/// (sample standard deviation of the last `volatility.window` log returns × √(bars per year)).
/// Above `volatility.high` → FAST, below `volatility.low` → SLOW, otherwise NORMAL (no figure → NORMAL).
/// The time is `now − offset + interval`, rounded up to a close of a bar of `min(timeframe, interval)`, plus
/// `schedule.offset_seconds` (so the run sees the candle that just closed): a run at 10:00:15 with a 15-minute
/// interval is followed by one at 10:15:15. In safe mode the next
/// run is no later than the lock's `until`.
public enum RunIntervalPolicy {
    public static func marketVolatility(_ perSymbol: [Double]) -> Double? {
        if perSymbol.count < 2 { return perSymbol.first.flatMap { $0.isFinite ? $0 : nil } }  // (no filtered, sorted copy)
        let values = perSymbol.filter { $0.isFinite }.sorted()
        guard !values.isEmpty else { return nil }
        let mid = values.count / 2
        return values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
    }

    /// The cadence for a market volatility (nil: no figure → NORMAL).
    @inline(__always)
    public static func cadence(volatility: Double?, policy: SchedulePolicy) -> RunCadence {
        guard let v = volatility else { return .normal }
        return v > policy.volatilityHigh ? .fast : v < policy.volatilityLow ? .slow : .normal
    }

    /// The interval in seconds of `cadence`.
    @inline(__always)
    public static func intervalSeconds(_ cadence: RunCadence, policy: SchedulePolicy) -> Int64 {
        cadence == .fast ? policy.fastSeconds : cadence == .slow ? policy.slowSeconds : policy.normalSeconds
    }

    public static func choose(volatility: Double?, now: Int64, timeframe: Timeframe, policy: SchedulePolicy, notLaterThan: Int64? = nil) -> NextRun {
        let cadence = cadence(volatility: volatility, policy: policy)
        let interval = intervalSeconds(cadence, policy: policy)
        let boundary = min(timeframe.seconds, interval) * 1000
        let offset = policy.offsetSeconds * 1000
        let target = now - offset + interval * 1000
        var at = ((target + boundary - 1) / boundary) * boundary + offset
        var bound = false
        if let limit = notLaterThan, limit < at {
            at = max(limit, now)
            bound = true
        }
        return NextRun(cadence: cadence, intervalSeconds: interval, at: at, volatility: volatility, policy: policy, boundBySafeMode: bound)
    }

    /// `realizedVolatility(closes:)` of the closes of `candles` (the same returns summed in the same order), without
    /// copying the closes out.
    public static func realizedVolatility(candles: ArraySlice<Candle>, window: Int, barsPerYear: Double) -> Double? {
        guard window >= 2, candles.count > window else { return nil }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: window) { returns -> Double? in
            let end = candles.endIndex
            for k in 0..<window {
                let a = candles[end - window - 1 + k].close, b = candles[end - window + k].close
                guard a > 0, b > 0 else { return nil }
                returns[k] = log(b / a)
            }
            var sum = 0.0
            for k in 0..<window { sum += returns[k] }
            let mean = sum / Double(window)
            var squares = 0.0
            for k in 0..<window { squares += (returns[k] - mean) * (returns[k] - mean) }
            return sqrt(squares / Double(window - 1)) * sqrt(barsPerYear)
        }
    }

    /// Annualised realised volatility of the last `window` log returns of `closes`.
    public static func realizedVolatility(closes: [Double], window: Int, barsPerYear: Double) -> Double? {
        guard window >= 2, closes.count > window else { return nil }
        var returns: [Double] = []
        returns.reserveCapacity(window)
        for i in (closes.count - window)..<closes.count {
            let a = closes[i - 1], b = closes[i]
            guard a > 0, b > 0 else { return nil }
            returns.append(log(b / a))
        }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        return sqrt(variance) * sqrt(barsPerYear)
    }
}
