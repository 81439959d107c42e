import Foundation
import Storage

/// What the limits allow for the next request.
enum LimitDecision: Sendable, Equatable {
    /// Send it; `trial` when it is the circuit breaker's half-open trial request.
    case proceed(trial: Bool)
    /// Wait this long, then ask again; `orElse` is the error to give when waiting is no longer possible.
    case wait(seconds: Double, orElse: BinanceError)
}

/// The venue's request-weight budget, back-off, IP ban and circuit breaker, as pure transitions of the
/// persisted `VenueStateRow`. The client applies them inside database transactions, so every process that
/// shares the database sees the same ban, breaker and weight.
///
/// * **Weight**: Binance counts request weight per (server-time) minute and reports it in `X-MBX-USED-WEIGHT-1M`.
///   A request is admitted when the weight used this minute plus its own stays within `max_weight_share` × the
///   limit (6000 unless exchangeInfo's REQUEST_WEIGHT says otherwise); otherwise it waits for the next minute when
///   that is within `maxWaitSeconds`, or fails.
/// * **429**: the venue asks to back off for Retry-After seconds; nothing is sent before then.
/// * **418 / -1003**: an IP ban until now + Retry-After (2 minutes when absent); nothing is sent before then.
/// * **Breaker**: `breaker_failures` consecutive failures (transport errors, 5xx, "execution status unknown")
///   open it for `breaker_cooldown_seconds`; then one trial request is let through (half-open): success closes
///   it, failure opens it again. Every opening is counted.
struct BinanceLimits: Sendable {
    let settings: BinanceSettings

    /// Binance Spot's REQUEST_WEIGHT limit per minute when exchangeInfo has not said otherwise.
    static let defaultWeightLimit = 6000
    /// How long a ban lasts when the 418 carries no Retry-After.
    static let defaultBanSeconds: Double = 120

    var cooldownMs: Int64 { Int64(max(settings.breakerCooldownSeconds, 0)) * 1000 }

    /// The weight allowed per minute.
    func budget(_ state: VenueStateRow) -> Int {
        let limit = state.weightLimit ?? Self.defaultWeightLimit
        return Int((Double(limit) * settings.maxWeightShare).rounded(.down))
    }

    /// Decides whether a request of `weight` may be sent at local time `now`, reserving its weight (and the
    /// breaker's trial) in `state` when it may. Throws when it must not be sent at all.
    func admit(_ state: inout VenueStateRow, weight: Int, endpoint: String, now: Int64) throws -> LimitDecision {
        if now < state.bannedUntil {
            throw BinanceError.banned(until: state.bannedUntil, reason: state.banReason ?? "IP banned")
        }

        var trial = false
        switch state.breakerState {
        case "open":
            if now < state.breakerOpenUntil { throw BinanceError.breakerOpen(until: state.breakerOpenUntil) }
            trial = true
        case "half_open":
            // One trial at a time; a trial whose process died long ago does not block forever.
            let trialEnds = state.breakerTrialStartedAt + max(cooldownMs, 1000)
            if now < trialEnds { throw BinanceError.breakerOpen(until: trialEnds) }
            trial = true
        default:
            break
        }

        if now < state.backoffUntil {
            let seconds = Double(state.backoffUntil - now) / 1000
            let error = BinanceError.rateLimited(retryAfterSeconds: seconds, endpoint: endpoint)
            if seconds > settings.maxWaitSeconds { throw error }
            return .wait(seconds: seconds, orElse: error)
        }

        let serverNow = now + (state.timeOffsetMs ?? 0)
        let minute = Self.minute(of: serverNow)
        let used = state.usedWeightMinute == minute ? state.usedWeight : 0
        let budget = budget(state)
        if used + weight > budget {
            let seconds = Double((minute + 1) * 60_000 - serverNow) / 1000
            let error = BinanceError.weightBudgetExhausted(used: used, weight: weight, budget: budget, waitSeconds: seconds)
            if weight > budget || seconds > settings.maxWaitSeconds { throw error }
            return .wait(seconds: seconds, orElse: error)
        }

        state.usedWeight = used + weight
        state.usedWeightMinute = minute
        if trial {
            state.breakerState = "half_open"
            state.breakerTrialStartedAt = now
        }
        state.updatedAt = now
        return .proceed(trial: trial)
    }

    /// Records the `X-MBX-USED-WEIGHT-1M` of an answer received at local time `now`. Within one minute the larger of
    /// the stored count (which includes our own reservations) and the venue's is kept, so answers arriving out of
    /// order never lower it.
    func recordUsedWeight(_ state: inout VenueStateRow, header: String?, now: Int64) {
        guard let text = header?.trimmingCharacters(in: .whitespaces), let used = Int(text), used >= 0 else { return }
        let minute = Self.minute(of: now + (state.timeOffsetMs ?? 0))
        if state.usedWeightMinute == minute {
            state.usedWeight = max(state.usedWeight, used)
        } else {
            state.usedWeight = used
            state.usedWeightMinute = minute
        }
        state.updatedAt = now
    }

    /// Records the outcome of a request for the circuit breaker.
    func recordBreaker(_ state: inout VenueStateRow, success: Bool, now: Int64) {
        state.updatedAt = now
        if success {
            state.breakerFailures = 0
            state.breakerState = "closed"
            state.breakerOpenUntil = 0
            state.breakerTrialStartedAt = 0
            return
        }
        state.breakerFailures += 1
        let reopen = state.breakerState == "half_open"
        let trip = state.breakerState == "closed" && state.breakerFailures >= max(settings.breakerFailures, 1)
        if reopen || trip {
            state.breakerState = "open"
            state.breakerOpenUntil = now + cooldownMs
            state.breakerTrialStartedAt = 0
            state.breakerOpenings += 1
        }
    }

    /// Records a 429: nothing is sent before `now + retryAfter` (the next minute when the venue gave no Retry-After).
    /// Returns the wait in seconds.
    @discardableResult
    func recordRateLimited(_ state: inout VenueStateRow, retryAfterSeconds: Double?, now: Int64) -> Double {
        let seconds: Double
        if let retryAfterSeconds, retryAfterSeconds >= 0 {
            seconds = retryAfterSeconds
        } else {
            let serverNow = now + (state.timeOffsetMs ?? 0)
            seconds = Double((Self.minute(of: serverNow) + 1) * 60_000 - serverNow) / 1000
        }
        state.backoffUntil = max(state.backoffUntil, now + Int64((seconds * 1000).rounded(.up)))
        state.updatedAt = now
        return seconds
    }

    /// Records an IP ban; returns when it ends.
    @discardableResult
    func recordBan(_ state: inout VenueStateRow, retryAfterSeconds: Double?, reason: String, now: Int64) -> Int64 {
        let seconds = retryAfterSeconds.flatMap { $0 > 0 ? $0 : nil } ?? Self.defaultBanSeconds
        let until = now + Int64((seconds * 1000).rounded(.up))
        if until > state.bannedUntil {
            state.bannedUntil = until
            state.banReason = reason
        }
        state.updatedAt = now
        return state.bannedUntil
    }

    /// The minute number of a time in ms (floor division, also for negative times).
    static func minute(of ms: Int64) -> Int64 {
        ms >= 0 ? ms / 60_000 : (ms - 59_999) / 60_000
    }

    /// A delay of the exponential backoff with full jitter for retry number `retry` (0 for the first retry):
    /// uniform in [0, min(max, base × 2^retry)], drawn from `random` (a value in [0, 1)).
    func backoffSeconds(retry: Int, random: Double) -> Double {
        let bound = min(settings.backoffMaxSeconds, settings.backoffBaseSeconds * pow(2, Double(min(retry, 30))))
        return max(0, min(1, random)) * max(0, bound)
    }
}
