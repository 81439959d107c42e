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
    public func basis(of position: Position) -> Price {
        stopBasis == .initialEntry ? position.initialEntryPrice : position.entryPrice
    }

    /// `multiple` ATRs at entry as a price distance: the ATR and the multiple each as fixed point (`init(double:)`),
    /// their product rounded as `rounding` says.
    public static func distance(atr: Double, _ multiple: Double, _ rounding: FixedRounding) throws(FixedPointError) -> Price {
        try Price(double: atr).multiplied(by: Fixed(double: multiple), rounding)
    }

    /// Stop and target levels for `position` (recomputed after every adjustment), each on the side of the exact
    /// level nearer the price: the stop at or above basis − stop ATRs, the target at or below basis + target ATRs.
    public func levels(for position: Position) throws(FixedPointError) -> (stop: Price, takeProfit: Price) {
        let basis = basis(of: position)
        let stop = try basis - Self.distance(atr: position.atrAtEntry, stopLossATR, .down)
        let target = try basis + Self.distance(atr: position.atrAtEntry, takeProfitATR, .down)
        return (stop, target)
    }
}

/// What the exit check found for a position.
public struct ExitCheck: Sendable, Equatable {
    /// The exit to take now, if any, with the candle that triggered it and the level crossed.
    public var exit: (reason: ExitReason, candleTime: Int64, level: Price?)?
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
        let basis = rules.basis(of: p)
        for candle in candles where candle.openTime > p.lastCheckedCandle {
            p.lastCheckedCandle = candle.openTime
            guard let low = try? Price(double: candle.low), let high = try? Price(double: candle.high) else { continue }
            let trailing = trailingStop(p, rules: rules, basis: basis)
            var effectiveStop = p.stopPrice
            if let trailing, effectiveStop.map({ trailing > $0 }) ?? true { effectiveStop = trailing }
            if let stop = effectiveStop, low <= stop {
                let reason: ExitReason = (trailing != nil && stop == trailing && p.stopPrice.map { stop > $0 } ?? true) ? .trailingStop : .stopLoss
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

    /// The trailing stop level, once the highest price rose `trailingActivationATR` above the basis (the activation
    /// level rounded up, the distance down: the trailing stop activates no earlier and sits no lower than exactly).
    /// Nil when off, not active, or out of range.
    public static func trailingStop(_ p: Position, rules: ExitRules, basis: Price) -> Price? {
        guard rules.trailingStop, let highest = p.highestPrice,
              let activation = try? basis + ExitRules.distance(atr: p.atrAtEntry, rules.trailingActivationATR, .up),
              highest >= activation else { return nil }
        return try? highest - ExitRules.distance(atr: p.atrAtEntry, rules.trailingDistanceATR, .down)
    }
}

/// An adjustment decided for a monitored position.
public enum Adjustment: Sendable, Equatable {
    /// Buy `quantity` more (before the sizing caps).
    case add(quantity: Quantity, reason: String)
    /// Sell `quantity` (part of the position).
    case partialTakeProfit(quantity: Quantity, reason: String)
}

/// Pure adjustment rules, at most `maxAdjustments` per position:
/// - partial take-profit (once): the last close is at least `partialTakeProfitATR` ATRs above the basis →
///   sell `partialTakeProfitFraction` of the quantity;
/// - add: the signal is long with confidence above `minConfidence` and the last close is at least
///   `addTriggerATR × (adds so far + 1)` ATRs above the initial entry → buy `addFraction` of the quantity
///   (not while adding exposure is blocked).
///
/// `reasons: false` leaves the adjustment's reason text empty (a backtest's idle cycle reads only its kind and
/// quantity, which are the same either way).
public enum AdjustmentRules {
    public static func decide(_ p: Position, lastClose: Double, signal: Signal?, minConfidence: Double,
                              rules: ExitRules, addsAllowed: Bool, quantityScale: Int = 8, reasons: Bool = true) -> Adjustment? {
        guard p.state == .monitoring, p.adjustments < rules.maxAdjustments, p.quantity > 0 else { return nil }
        let adds = p.adjustments - (p.partialTakeProfitDone ? 1 : 0)
        guard let close = try? Price(double: lastClose) else { return nil }
        if rules.partialTakeProfitATR > 0, !p.partialTakeProfitDone,
           let level = try? rules.basis(of: p) + ExitRules.distance(atr: p.atrAtEntry, rules.partialTakeProfitATR, .halfEven), close >= level,
           let qty = try? p.quantity.multiplied(by: Fixed(double: rules.partialTakeProfitFraction), .down).rounded(decimals: quantityScale, .down),
           qty > 0 {
            return .partialTakeProfit(quantity: qty, reason: reasons ? "close \(close) ≥ basis + \(rules.partialTakeProfitATR) ATR" : "")
        }
        if addsAllowed, let signal, signal.direction == .long, signal.confidence > minConfidence,
           let step = try? ExitRules.distance(atr: p.atrAtEntry, rules.addTriggerATR, .halfEven),
           let level = try? p.initialEntryPrice + step.times(adds + 1), close >= level,
           let qty = try? p.quantity.multiplied(by: Fixed(double: rules.addFraction), .down).rounded(decimals: quantityScale, .down),
           qty > 0 {
            guard reasons else { return .add(quantity: qty, reason: "") }
            return .add(quantity: qty, reason: "close \(close) ≥ entry + \(rules.addTriggerATR)×\(adds + 1) ATR, signal long \(FixedDecimals.text(signal.confidence, decimals: 2))")
        }
        return nil
    }
}
