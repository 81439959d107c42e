import Foundation
import TradingDomain

/// The limits that bound a new position (`risk.*`).
public struct RiskLimits: Sendable, Equatable {
    public var riskPerTrade: Double
    public var maxPositionFraction: Double
    public var maxTotalExposure: Double
    public var maxOpenPositions: Int
    public var minOrderNotional: Money
    public var stopLossATR: Double
    /// Fee rate plus slippage as a fraction, reserved from cash when sizing.
    public var costRate: Fixed

    public init(riskPerTrade: Double = 0.01, maxPositionFraction: Double = 0.2, maxTotalExposure: Double = 0.8,
                maxOpenPositions: Int = 4, minOrderNotional: Money = 10, stopLossATR: Double = 2, costRate: Fixed = 0) {
        self.riskPerTrade = riskPerTrade
        self.maxPositionFraction = maxPositionFraction
        self.maxTotalExposure = maxTotalExposure
        self.maxOpenPositions = maxOpenPositions
        self.minOrderNotional = minOrderNotional
        self.stopLossATR = stopLossATR
        self.costRate = costRate
    }

    /// The costs of a buy as a fraction of its notional at the reference price: the paper broker (and a venue's
    /// market order) pays the slippage on the price and then the fee on that notional, (1 + fee) × (1 + bps / 10,000)
    /// − 1, rounded up (sizing reserves no less than the costs: a buy bound by the cash is not refused for want of it).
    public static func costRate(feeRate: Fixed, slippageBasisPoints: Fixed) -> Fixed {
        guard let slippage = try? slippageBasisPoints.divided(by: 10_000, .up),
              let compound = try? feeRate + slippage + feeRate.multiplied(by: slippage, .up) else { return feeRate }
        return compound
    }
}

/// The account as the sizing sees it.
public struct AccountState: Sendable, Equatable {
    public var equity: Money
    public var cash: Money
    /// Market value of all open positions.
    public var exposure: Money
    public var openPositions: Int
    public init(equity: Money, cash: Money, exposure: Money, openPositions: Int) {
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
    case order(quantity: Quantity, notional: Money, boundBy: String)
    case none(reason: String)

    public var quantity: Quantity? {
        if case let .order(q, _, _) = self { return q }
        return nil
    }
}

/// Position sizing from risk per trade: the quantity whose loss at the initial stop (ATR-based distance)
/// is `riskPerTrade` × equity, capped by the maximum fraction of equity per position, the room left
/// under the maximum total exposure, and the cash available after fees and slippage; refused when
/// the maximum number of open positions is reached or the result is below the minimum order notional.
/// Amounts are rounded half-even, the cash left after costs and the quantity down (to `quantityScale` decimals).
public enum PositionSizer {
    public static func entry(price: Price, atr: Double, account: AccountState, limits: RiskLimits,
                             quantityScale: Int = 8) -> SizingDecision {
        guard account.openPositions < limits.maxOpenPositions else {
            return .none(reason: "max_open_positions: \(account.openPositions) of \(limits.maxOpenPositions) open")
        }
        guard price > 0, account.equity > 0 else { return .none(reason: "no equity or no price") }
        guard atr.isFinite, atr > 0, let stopDistance = try? Price(double: atr * limits.stopLossATR), stopDistance > 0 else {
            return .none(reason: "no ATR to place a stop")
        }
        do {
            let riskAmount = try account.equity.multiplied(by: Fixed(double: limits.riskPerTrade), .halfEven)
            let byRisk = try riskAmount.multiplied(by: price, dividedBy: stopDistance, .halfEven)
            return try cap(notional: byRisk, boundBy: "risk_per_trade", price: price, account: account, limits: limits, quantityScale: quantityScale)
        } catch {
            return .none(reason: "risk_per_trade: \(error)")
        }
    }

    /// Sizes an add of `requestedQuantity` to an existing position (the same caps apply; the position
    /// itself is already counted in `account.exposure`, and its current value in `positionValue`).
    public static func add(requestedQuantity: Quantity, price: Price, positionValue: Money, account: AccountState,
                           limits: RiskLimits, quantityScale: Int = 8) -> SizingDecision {
        guard price > 0, account.equity > 0 else { return .none(reason: "no equity or no price") }
        do {
            let roomInPosition = try account.equity.multiplied(by: Fixed(double: limits.maxPositionFraction), .halfEven) - positionValue
            guard roomInPosition > 0 else { return .none(reason: "max_position_fraction: the position is already at its cap") }
            var limitsForAdd = limits
            limitsForAdd.maxOpenPositions = Int.max
            let requested = try price.times(requestedQuantity, .halfEven)
            return try cap(notional: min(requested, roomInPosition), boundBy: requested <= roomInPosition ? "requested" : "max_position_fraction",
                           price: price, account: account, limits: limitsForAdd, quantityScale: quantityScale, skipPositionCap: true)
        } catch {
            return .none(reason: "max_position_fraction: \(error)")
        }
    }

    static func cap(notional start: Money, boundBy start_: String, price: Price, account: AccountState, limits: RiskLimits,
                    quantityScale: Int, skipPositionCap: Bool = false) throws(FixedPointError) -> SizingDecision {
        var notional = start
        var boundBy = start_
        if !skipPositionCap {
            let byPosition = try account.equity.multiplied(by: Fixed(double: limits.maxPositionFraction), .halfEven)
            if byPosition < notional { notional = byPosition; boundBy = "max_position_fraction" }
        }
        let byExposure = try account.equity.multiplied(by: Fixed(double: limits.maxTotalExposure), .halfEven) - account.exposure
        if byExposure < notional { notional = byExposure; boundBy = "max_total_exposure" }
        let byCash = try account.cash.divided(by: Fixed.one + limits.costRate, .down)
        if byCash < notional { notional = byCash; boundBy = "cash" }
        guard notional > 0 else {
            return .none(reason: "\(boundBy): no room left (exposure \(account.exposure.text(decimals: 2)), cash \(account.cash.text(decimals: 2)))")
        }
        let quantity = try notional.divided(by: price, .down).rounded(decimals: quantityScale, .down)
        let finalNotional = try price.times(quantity, .halfEven)
        guard finalNotional >= limits.minOrderNotional, quantity > 0 else {
            return .none(reason: "min_order_notional: \(finalNotional.text(decimals: 2)) below \(limits.minOrderNotional) (bound by \(boundBy))")
        }
        return .order(quantity: quantity, notional: finalNotional, boundBy: boundBy)
    }
}
