import Foundation
import TradingDomain

/// Exit and adjustment rules (`risk.*`), in ATR multiples of the ATR at entry.
public struct ExitRules: Sendable, Equatable {
    public enum StopBasis: String, Sendable { case initialEntry = "initial_entry", averagePrice = "average_price" }
    public var stopLossATR: Double
    public var takeProfitATR: Double
    public var trailingStop: Bool
    public var trailingActivationATR: Double
    public var trailingDistanceATR: Double
    /// 0 = no limit.
    public var maxHoldingMilliseconds: Int64
    public var exitConfidence: Double
    public var maxAdjustments: Int
    public var addTriggerATR: Double
    public var addFraction: Double
    /// 0 = no partial take-profit.
    public var partialTakeProfitATR: Double
    public var partialTakeProfitFraction: Double
    public var stopBasis: StopBasis

    public init(stopLossATR: Double = 2, takeProfitATR: Double = 4, trailingStop: Bool = true, trailingActivationATR: Double = 1.5,
                trailingDistanceATR: Double = 1.5, maxHoldingMilliseconds: Int64 = 0, exitConfidence: Double = 0.5,
                maxAdjustments: Int = 3, addTriggerATR: Double = 1, addFraction: Double = 0.5,
                partialTakeProfitATR: Double = 2.5, partialTakeProfitFraction: Double = 0.5, stopBasis: StopBasis = .initialEntry) {
        self.stopLossATR = stopLossATR
        self.takeProfitATR = takeProfitATR
        self.trailingStop = trailingStop
        self.trailingActivationATR = trailingActivationATR
        self.trailingDistanceATR = trailingDistanceATR
        self.maxHoldingMilliseconds = maxHoldingMilliseconds
        self.exitConfidence = exitConfidence
        self.maxAdjustments = maxAdjustments
        self.addTriggerATR = addTriggerATR
        self.addFraction = addFraction
        self.partialTakeProfitATR = partialTakeProfitATR
        self.partialTakeProfitFraction = partialTakeProfitFraction
        self.stopBasis = stopBasis
    }

    /// The price stops and targets are measured from.
    public func basis(of position: Position) -> Decimal {
        stopBasis == .initialEntry ? position.initialEntryPrice : position.entryPrice
    }

    /// Stop and target levels for `position` (recomputed after every adjustment).
    public func levels(for position: Position) -> (stop: Decimal, takeProfit: Decimal) {
        let basis = basis(of: position)
        let atr = Money.decimal(position.atrAtEntry) ?? 0
        let stop = basis - atr * (Money.decimal(stopLossATR) ?? 0)
        let target = basis + atr * (Money.decimal(takeProfitATR) ?? 0)
        return (stop, target)
    }
}

/// What the exit check found for a position.
public struct ExitCheck: Sendable, Equatable {
    /// The exit to take now, if any, with the candle that triggered it and the level crossed.
    public var exit: (reason: ExitReason, candleTime: Int64, level: Decimal?)?
    /// The position with its trailing state and last checked candle advanced.
    public var position: Position

    public static func == (a: ExitCheck, b: ExitCheck) -> Bool {
        a.position == b.position && a.exit?.reason == b.exit?.reason && a.exit?.candleTime == b.exit?.candleTime && a.exit?.level == b.exit?.level
    }
}

/// Pure exit evaluation. Every candle closed since the position was last checked is examined in order,
/// so a gap between runs cannot skip a stop: for each candle, first the stop (the larger of the stop loss
/// and an active trailing stop) against the candle's low, then the take-profit against its high, then the
/// highest price (and so the trailing stop) is advanced with the candle's high. Stop before target when a
/// candle touches both (the conservative reading). Then the holding time and the signal are checked.
public enum ExitEvaluator {
    public static func check(_ position: Position, candles: [Candle], signal: Signal?, now: Int64, rules: ExitRules) -> ExitCheck {
        check(position, candles: candles[...], signal: signal, now: now, rules: rules)
    }

    public static func check(_ position: Position, candles window: ArraySlice<Candle>, signal: Signal?, now: Int64, rules: ExitRules) -> ExitCheck {
        var p = position
        // The candles not checked yet: found from the newest end (usually one).
        var first = window.endIndex
        while first > window.startIndex, window[first - 1].openTime > p.lastCheckedCandle { first -= 1 }
        let candles = window[first...]
        let atr = Money.decimal(p.atrAtEntry) ?? 0
        let basis = rules.basis(of: p)
        for candle in candles where candle.openTime > p.lastCheckedCandle {
            p.lastCheckedCandle = candle.openTime
            guard let low = Money.decimal(candle.low), let high = Money.decimal(candle.high) else { continue }
            let trailing = trailingStop(p, rules: rules, basis: basis, atr: atr)
            let effectiveStop = [p.stopPrice, trailing].compactMap { $0 }.max()
            if let stop = effectiveStop, low <= stop {
                let reason: ExitReason = (trailing != nil && stop == trailing && stop > (p.stopPrice ?? stop - 1)) ? .trailingStop : .stopLoss
                return ExitCheck(exit: (reason, candle.openTime, stop), position: p)
            }
            if let target = p.takeProfitPrice, high >= target {
                return ExitCheck(exit: (.takeProfit, candle.openTime, target), position: p)
            }
            if p.highestPrice.map({ high > $0 }) ?? true { p.highestPrice = high }
        }
        if rules.maxHoldingMilliseconds > 0, now - p.openedAt >= rules.maxHoldingMilliseconds {
            return ExitCheck(exit: (.maxHoldingTime, p.lastCheckedCandle, nil), position: p)
        }
        if let signal, signal.direction == .flat, signal.confidence >= rules.exitConfidence {
            return ExitCheck(exit: (.signalReversed, signal.candleTime, nil), position: p)
        }
        return ExitCheck(exit: nil, position: p)
    }

    /// The trailing stop level, once the highest price rose `trailingActivationATR` above the basis.
    public static func trailingStop(_ p: Position, rules: ExitRules, basis: Decimal, atr: Decimal) -> Decimal? {
        guard rules.trailingStop, let highest = p.highestPrice else { return nil }
        guard highest >= basis + atr * (Money.decimal(rules.trailingActivationATR) ?? 0) else { return nil }
        return highest - atr * (Money.decimal(rules.trailingDistanceATR) ?? 0)
    }
}

/// An adjustment decided for a monitored position.
public enum Adjustment: Sendable, Equatable {
    /// Buy `quantity` more (before the sizing caps).
    case add(quantity: Decimal, reason: String)
    /// Sell `quantity` (part of the position).
    case partialTakeProfit(quantity: Decimal, reason: String)
}

/// Pure adjustment rules, at most `maxAdjustments` per position:
/// - partial take-profit (once): the last close is at least `partialTakeProfitATR` ATRs above the basis →
///   sell `partialTakeProfitFraction` of the quantity;
/// - add: the signal is long with confidence above `minConfidence` and the last close is at least
///   `addTriggerATR × (adds so far + 1)` ATRs above the initial entry → buy `addFraction` of the quantity
///   (not while adding exposure is blocked).
public enum AdjustmentRules {
    public static func decide(_ p: Position, lastClose: Double, signal: Signal?, minConfidence: Double,
                              rules: ExitRules, addsAllowed: Bool, quantityScale: Int = 8) -> Adjustment? {
        guard p.state == .monitoring, p.adjustments < rules.maxAdjustments, p.quantity > 0,
              let close = Money.decimal(lastClose) else { return nil }
        let atr = Money.decimal(p.atrAtEntry) ?? 0
        if rules.partialTakeProfitATR > 0, !p.partialTakeProfitDone,
           close >= rules.basis(of: p) + atr * (Money.decimal(rules.partialTakeProfitATR) ?? 0) {
            let qty = Money.round(p.quantity * (Money.decimal(rules.partialTakeProfitFraction) ?? 0), scale: quantityScale, .down)
            if qty > 0 { return .partialTakeProfit(quantity: qty, reason: "close \(close) ≥ basis + \(rules.partialTakeProfitATR) ATR") }
        }
        let adds = p.adjustments - (p.partialTakeProfitDone ? 1 : 0)
        if addsAllowed, let signal, signal.direction == .long, signal.confidence > minConfidence,
           close >= p.initialEntryPrice + atr * (Money.decimal(rules.addTriggerATR) ?? 0) * Decimal(adds + 1) {
            let qty = Money.round(p.quantity * (Money.decimal(rules.addFraction) ?? 0), scale: quantityScale, .down)
            if qty > 0 { return .add(quantity: qty, reason: "close \(close) ≥ entry + \(rules.addTriggerATR)×\(adds + 1) ATR, signal long \(String(format: "%.2f", signal.confidence))") }
        }
        return nil
    }
}
