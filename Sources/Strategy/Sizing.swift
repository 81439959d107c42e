import Foundation
import TradingDomain

/// The limits that bound a new position (`risk.*`).
public struct RiskLimits: Sendable, Equatable {
    public var riskPerTrade: Double { didSet { riskPerTradeDecimal = Money.decimal(riskPerTrade) ?? 0 } }
    public var maxPositionFraction: Double { didSet { maxPositionFractionDecimal = Money.decimal(maxPositionFraction) ?? 0 } }
    public var maxTotalExposure: Double { didSet { maxTotalExposureDecimal = Money.decimal(maxTotalExposure) ?? 0 } }
    /// The fractions as decimals, converted once (sizing runs on money).
    var riskPerTradeDecimal: Decimal = 0
    var maxPositionFractionDecimal: Decimal = 0
    var maxTotalExposureDecimal: Decimal = 0
    public var maxOpenPositions: Int
    public var minOrderNotional: Decimal
    public var stopLossATR: Double
    /// Fee rate plus slippage as a fraction, reserved from cash when sizing.
    public var costRate: Decimal

    public init(riskPerTrade: Double = 0.01, maxPositionFraction: Double = 0.2, maxTotalExposure: Double = 0.8,
                maxOpenPositions: Int = 4, minOrderNotional: Decimal = 10, stopLossATR: Double = 2, costRate: Decimal = 0) {
        self.riskPerTrade = riskPerTrade
        self.maxPositionFraction = maxPositionFraction
        self.maxTotalExposure = maxTotalExposure
        self.maxOpenPositions = maxOpenPositions
        self.minOrderNotional = minOrderNotional
        self.stopLossATR = stopLossATR
        self.costRate = costRate
        riskPerTradeDecimal = Money.decimal(riskPerTrade) ?? 0
        maxPositionFractionDecimal = Money.decimal(maxPositionFraction) ?? 0
        maxTotalExposureDecimal = Money.decimal(maxTotalExposure) ?? 0
    }
}

/// The account as the sizing sees it.
public struct AccountState: Sendable, Equatable {
    public var equity: Decimal
    public var cash: Decimal
    /// Market value of all open positions.
    public var exposure: Decimal
    public var openPositions: Int
    public init(equity: Decimal, cash: Decimal, exposure: Decimal, openPositions: Int) {
        self.equity = equity
        self.cash = cash
        self.exposure = exposure
        self.openPositions = openPositions
    }
}

/// The outcome of sizing an order: a quantity, or why none.
public enum SizingDecision: Sendable, Equatable {
    /// `boundBy` names the limit that set the size (`risk_per_trade`, `max_position_fraction`,
    /// `max_total_exposure`, `cash`, `requested`).
    case order(quantity: Decimal, notional: Decimal, boundBy: String)
    case none(reason: String)

    public var quantity: Decimal? {
        if case let .order(q, _, _) = self { return q }
        return nil
    }
}

/// Position sizing from risk per trade: the quantity whose loss at the initial stop (ATR-based distance)
/// is `riskPerTrade` × equity, capped by the maximum fraction of equity per position, the room left
/// under the maximum total exposure, and the cash available after fees and slippage; refused when
/// the maximum number of open positions is reached or the result is below the minimum order notional.
/// Quantities are rounded down to `quantityScale` decimals.
public enum PositionSizer {
    public static func entry(price: Decimal, atr: Double, account: AccountState, limits: RiskLimits,
                             quantityScale: Int = 8) -> SizingDecision {
        guard account.openPositions < limits.maxOpenPositions else {
            return .none(reason: "max_open_positions: \(account.openPositions) of \(limits.maxOpenPositions) open")
        }
        guard price > 0, account.equity > 0 else { return .none(reason: "no equity or no price") }
        guard atr.isFinite, atr > 0, let stopDistance = Money.approximate(atr * limits.stopLossATR), stopDistance > 0 else {
            return .none(reason: "no ATR to place a stop")
        }
        let riskAmount = account.equity * limits.riskPerTradeDecimal
        let byRisk = riskAmount / stopDistance * price
        return cap(notional: byRisk, boundBy: "risk_per_trade", price: price, account: account, limits: limits, quantityScale: quantityScale)
    }

    /// Sizes an add of `requestedQuantity` to an existing position (the same caps apply; the position
    /// itself is already counted in `account.exposure`, and its current value in `positionValue`).
    public static func add(requestedQuantity: Decimal, price: Decimal, positionValue: Decimal, account: AccountState,
                           limits: RiskLimits, quantityScale: Int = 8) -> SizingDecision {
        guard price > 0, account.equity > 0 else { return .none(reason: "no equity or no price") }
        let roomInPosition = account.equity * limits.maxPositionFractionDecimal - positionValue
        guard roomInPosition > 0 else { return .none(reason: "max_position_fraction: the position is already at its cap") }
        var limitsForAdd = limits
        limitsForAdd.maxOpenPositions = Int.max
        let requested = requestedQuantity * price
        let decision = cap(notional: min(requested, roomInPosition), boundBy: requested <= roomInPosition ? "requested" : "max_position_fraction",
                           price: price, account: account, limits: limitsForAdd, quantityScale: quantityScale, skipPositionCap: true)
        return decision
    }

    static func cap(notional start: Decimal, boundBy start_: String, price: Decimal, account: AccountState, limits: RiskLimits,
                    quantityScale: Int, skipPositionCap: Bool = false) -> SizingDecision {
        var notional = start
        var boundBy = start_
        if !skipPositionCap {
            let byPosition = account.equity * limits.maxPositionFractionDecimal
            if byPosition < notional { notional = byPosition; boundBy = "max_position_fraction" }
        }
        let byExposure = account.equity * limits.maxTotalExposureDecimal - account.exposure
        if byExposure < notional { notional = byExposure; boundBy = "max_total_exposure" }
        let byCash = account.cash / (1 + limits.costRate)
        if byCash < notional { notional = byCash; boundBy = "cash" }
        guard notional > 0 else {
            return .none(reason: "\(boundBy): no room left (exposure \(Money.text(Money.round(account.exposure, scale: 2))), cash \(Money.text(Money.round(account.cash, scale: 2))))")
        }
        let quantity = Money.round(notional / price, scale: quantityScale, .down)
        let finalNotional = quantity * price
        guard finalNotional >= limits.minOrderNotional, quantity > 0 else {
            return .none(reason: "min_order_notional: \(Money.text(Money.round(finalNotional, scale: 2))) below \(Money.text(limits.minOrderNotional)) (bound by \(boundBy))")
        }
        return .order(quantity: quantity, notional: finalNotional, boundBy: boundBy)
    }
}
