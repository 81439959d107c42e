import Foundation
import TradingDomain

/// Exit and adjustment rules (`risk.*`), in ATR multiples of the ATR at entry.
public struct ExitRules: Sendable, Equatable {
    public enum StopBasis: String, Sendable { case initialEntry = "initial_entry", averagePrice = "average_price" }
    public var stopLossATR: Double { didSet { decimals = Decimals(self) } }
    public var takeProfitATR: Double { didSet { decimals = Decimals(self) } }
    public var trailingStop: Bool
    public var trailingActivationATR: Double { didSet { decimals = Decimals(self) } }
    public var trailingDistanceATR: Double { didSet { decimals = Decimals(self) } }
    /// 0 = no limit.
    public var maxHoldingMilliseconds: Int64
    public var exitConfidence: Double
    public var maxAdjustments: Int
    public var addTriggerATR: Double { didSet { decimals = Decimals(self) } }
    public var addFraction: Double { didSet { decimals = Decimals(self) } }
    /// 0 = no partial take-profit.
    public var partialTakeProfitATR: Double { didSet { decimals = Decimals(self) } }
    public var partialTakeProfitFraction: Double { didSet { decimals = Decimals(self) } }
    public var stopBasis: StopBasis

    /// The multiples and fractions as the decimals the money arithmetic uses (`Money.decimal` of each, 0 if not
    /// finite), converted when set instead of at every check.
    public struct Decimals: Sendable, Equatable {
        public let stopLoss, takeProfit, trailingActivation, trailingDistance, addTrigger, addFraction, partialTakeProfit, partialTakeProfitFraction: Decimal
        init(_ r: ExitRules) {
            func d(_ x: Double) -> Decimal { Money.decimal(x) ?? 0 }
            stopLoss = d(r.stopLossATR)
            takeProfit = d(r.takeProfitATR)
            trailingActivation = d(r.trailingActivationATR)
            trailingDistance = d(r.trailingDistanceATR)
            addTrigger = d(r.addTriggerATR)
            addFraction = d(r.addFraction)
            partialTakeProfit = d(r.partialTakeProfitATR)
            partialTakeProfitFraction = d(r.partialTakeProfitFraction)
        }
        init() {
            (stopLoss, takeProfit, trailingActivation, trailingDistance) = (0, 0, 0, 0)
            (addTrigger, addFraction, partialTakeProfit, partialTakeProfitFraction) = (0, 0, 0, 0)
        }
    }
    public private(set) var decimals = Decimals()

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
        decimals = Decimals(self)
    }

    /// The price stops and targets are measured from.
    public func basis(of position: Position) -> Decimal {
        stopBasis == .initialEntry ? position.initialEntryPrice : position.entryPrice
    }

    /// Stop and target levels for `position` (recomputed after every adjustment).
    public func levels(for position: Position) -> (stop: Decimal, takeProfit: Decimal) {
        let basis = basis(of: position)
        let atr = Money.decimal(position.atrAtEntry) ?? 0
        let stop = basis - atr * decimals.stopLoss
        let target = basis + atr * decimals.takeProfit
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

    /// `exactOnly` turns off the binary pre-check (tests compare both ways).
    public static func check(_ position: Position, candles window: ArraySlice<Candle>, signal: Signal?, now: Int64, rules: ExitRules,
                             exactOnly: Bool = false) -> ExitCheck {
        var p = position
        // The candles not checked yet: found from the newest end (usually one).
        var first = window.endIndex
        while first > window.startIndex, window[first - 1].openTime > p.lastCheckedCandle { first -= 1 }
        let candles = window[first...]
        let basis = rules.basis(of: p)
        var atrDecimal: Decimal?
        var binary = exactOnly || candles.isEmpty ? nil : BinaryLevels(p, basis: basis, rules: rules)
        for candle in candles where candle.openTime > p.lastCheckedCandle {
            p.lastCheckedCandle = candle.openTime
            if let levels = binary, let highest = levels.quietCandle(low: candle.low, high: candle.high, trailing: rules.trailingStop) {
                // Nothing crossed: only a new highest price to keep.
                if highest { p.highestPrice = Money.decimal(candle.high); binary?.highest = candle.high }
                continue
            }
            guard let low = Money.decimal(candle.low), let high = Money.decimal(candle.high) else { continue }
            let atr = atrDecimal ?? (Money.decimal(p.atrAtEntry) ?? 0)
            atrDecimal = atr
            let trailing = trailingStop(p, rules: rules, basis: basis, atr: atr)
            var effectiveStop = p.stopPrice
            if let trailing, effectiveStop.map({ trailing > $0 }) ?? true { effectiveStop = trailing }
            if let stop = effectiveStop, low <= stop {
                let reason: ExitReason = (trailing != nil && stop == trailing && stop > (p.stopPrice ?? stop - 1)) ? .trailingStop : .stopLoss
                return ExitCheck(exit: (reason, candle.openTime, stop), position: p)
            }
            if let target = p.takeProfitPrice, high >= target {
                return ExitCheck(exit: (.takeProfit, candle.openTime, target), position: p)
            }
            if p.highestPrice.map({ high > $0 }) ?? true {
                p.highestPrice = high
                binary?.highest = Money.double(high)
            }
        }
        if rules.maxHoldingMilliseconds > 0, now - p.openedAt >= rules.maxHoldingMilliseconds {
            return ExitCheck(exit: (.maxHoldingTime, p.lastCheckedCandle, nil), position: p)
        }
        if let signal, signal.direction == .flat, signal.confidence >= rules.exitConfidence {
            return ExitCheck(exit: (.signalReversed, signal.candleTime, nil), position: p)
        }
        return ExitCheck(exit: nil, position: p)
    }

    /// A position's levels in binary, to recognise cheaply a candle that crosses none of them. Each comparison keeps a
    /// margin of 1e-9 of the prices involved, far above the conversions' error (about 1e-15): a candle that comes that
    /// close to a level goes the exact decimal way, so the outcome is always the decimal one.
    struct BinaryLevels {
        var stop, target, highest: Double?
        let activation, distance, margin: Double
        /// False when an input lies where `Money.decimal` would not keep it (the exact way then decides everything).
        let usable: Bool

        init(_ p: Position, basis: Decimal, rules: ExitRules) {
            stop = p.stopPrice.map(Money.double)
            target = p.takeProfitPrice.map(Money.double)
            highest = p.highestPrice.map(Money.double)
            let basis = Money.double(basis), atr = p.atrAtEntry
            activation = basis + atr * rules.trailingActivationATR
            distance = atr * rules.trailingDistanceATR
            margin = 1e-9 * (abs(basis) + abs(activation) + abs(distance) + abs(stop ?? 0) + abs(target ?? 0) + abs(highest ?? 0))
            usable = margin.isFinite && [atr, rules.trailingActivationATR, rules.trailingDistanceATR].allSatisfy(Money.keepsInDecimal)
        }

        /// Whether the candle clearly crosses no level: nil if it may (or is not finite); otherwise whether its high
        /// is clearly a new highest price.
        func quietCandle(low: Double, high: Double, trailing: Bool) -> Bool? {
            guard usable, Money.keepsInDecimal(low), Money.keepsInDecimal(high) else { return nil }
            let m = margin + 1e-9 * (abs(low) + abs(high))
            if let stop, !(low > stop + m) { return nil }
            if trailing, let highest, !(highest < activation - m), !(low > highest - distance + m) { return nil }
            if let target, !(high < target - m) { return nil }
            guard let highest else { return true }
            if high > highest + m { return true }
            return high < highest - m ? false : nil
        }
    }

    /// The trailing stop level, once the highest price rose `trailingActivationATR` above the basis.
    public static func trailingStop(_ p: Position, rules: ExitRules, basis: Decimal, atr: Decimal) -> Decimal? {
        guard rules.trailingStop, let highest = p.highestPrice else { return nil }
        guard highest >= basis + atr * rules.decimals.trailingActivation else { return nil }
        return highest - atr * rules.decimals.trailingDistance
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
                              rules: ExitRules, addsAllowed: Bool, quantityScale: Int = 8, exactOnly: Bool = false) -> Adjustment? {
        guard p.state == .monitoring, p.adjustments < rules.maxAdjustments, p.quantity > 0 else { return nil }
        let adds = p.adjustments - (p.partialTakeProfitDone ? 1 : 0)
        let addCandidate = addsAllowed && signal.map { $0.direction == .long && $0.confidence > minConfidence } == true
        if !exactOnly, Money.keepsInDecimal(lastClose), Money.keepsInDecimal(p.atrAtEntry),
           Money.keepsInDecimal(rules.partialTakeProfitATR), Money.keepsInDecimal(rules.addTriggerATR) {
            // In binary first, with a margin far above the conversions' error: a close clearly below both triggers
            // needs no decimal arithmetic.
            let basis = Money.double(rules.basis(of: p)), entry = Money.double(p.initialEntryPrice), atr = p.atrAtEntry
            let partialLevel = basis + atr * rules.partialTakeProfitATR, addLevel = entry + atr * rules.addTriggerATR * Double(adds + 1)
            let m = 1e-9 * (abs(lastClose) + abs(basis) + abs(entry) + abs(partialLevel) + abs(addLevel))
            let partialPossible = rules.partialTakeProfitATR > 0 && !p.partialTakeProfitDone && !(lastClose < partialLevel - m)
            if m.isFinite, !partialPossible, !(addCandidate && !(lastClose < addLevel - m)) { return nil }
        }
        guard let close = Money.decimal(lastClose) else { return nil }
        let atr = Money.decimal(p.atrAtEntry) ?? 0
        if rules.partialTakeProfitATR > 0, !p.partialTakeProfitDone,
           close >= rules.basis(of: p) + atr * rules.decimals.partialTakeProfit {
            let qty = Money.round(p.quantity * rules.decimals.partialTakeProfitFraction, scale: quantityScale, .down)
            if qty > 0 { return .partialTakeProfit(quantity: qty, reason: "close \(close) ≥ basis + \(rules.partialTakeProfitATR) ATR") }
        }
        if addsAllowed, let signal, signal.direction == .long, signal.confidence > minConfidence,
           close >= p.initialEntryPrice + atr * rules.decimals.addTrigger * Decimal(adds + 1) {
            let qty = Money.round(p.quantity * rules.decimals.addFraction, scale: quantityScale, .down)
            if qty > 0 { return .add(quantity: qty, reason: "close \(close) ≥ entry + \(rules.addTriggerATR)×\(adds + 1) ATR, signal long \(String(format: "%.2f", signal.confidence))") }
        }
        return nil
    }
}
