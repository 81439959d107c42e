import Foundation

/// A spot long position and its lifecycle, as stored in the `positions` table.
public struct Position: Sendable, Equatable {
    public var id: Int64
    public var symbol: String
    public var state: PositionState
    /// Base-asset quantity held now.
    public var quantity: Decimal
    /// Average entry price of the quantity held.
    public var entryPrice: Decimal
    /// Price of the first entry fill.
    public var initialEntryPrice: Decimal
    /// Quote spent on the quantity held (average price × quantity, fees excluded).
    public var cost: Decimal
    public var stopPrice: Decimal?
    public var takeProfitPrice: Decimal?
    /// Highest price seen since entry (trailing stop).
    public var highestPrice: Decimal?
    /// ATR at the entry, the unit of stop, target and trailing distances.
    public var atrAtEntry: Double
    public var adjustments: Int
    public var partialTakeProfitDone: Bool
    public var openedAt: Int64
    /// Open time of the last candle whose range has been checked against the stops.
    public var lastCheckedCandle: Int64
    public var closedAt: Int64?
    public var exitPrice: Decimal?
    public var exitReason: ExitReason?
    /// Realised P&L net of all fees paid so far (buys and sells).
    public var realizedPnL: Decimal
    public var fees: Decimal

    public init(id: Int64, symbol: String, state: PositionState, quantity: Decimal, entryPrice: Decimal,
                initialEntryPrice: Decimal, cost: Decimal, stopPrice: Decimal?, takeProfitPrice: Decimal?,
                highestPrice: Decimal?, atrAtEntry: Double, adjustments: Int, partialTakeProfitDone: Bool,
                openedAt: Int64, lastCheckedCandle: Int64, closedAt: Int64? = nil, exitPrice: Decimal? = nil,
                exitReason: ExitReason? = nil, realizedPnL: Decimal = 0, fees: Decimal = 0) {
        self.id = id
        self.symbol = symbol
        self.state = state
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.initialEntryPrice = initialEntryPrice
        self.cost = cost
        self.stopPrice = stopPrice
        self.takeProfitPrice = takeProfitPrice
        self.highestPrice = highestPrice
        self.atrAtEntry = atrAtEntry
        self.adjustments = adjustments
        self.partialTakeProfitDone = partialTakeProfitDone
        self.openedAt = openedAt
        self.lastCheckedCandle = lastCheckedCandle
        self.closedAt = closedAt
        self.exitPrice = exitPrice
        self.exitReason = exitReason
        self.realizedPnL = realizedPnL
        self.fees = fees
    }

    /// Applies a buy fill: quantity and cost grow, the average entry price is recomputed.
    /// Fees count against `realizedPnL` when paid; a fee in the base asset also reduces the quantity received.
    public mutating func applyBuy(_ fill: Fill, quoteAsset: String) {
        var received = fill.quantity
        if fill.feeAsset != quoteAsset && fill.symbol.hasPrefix(fill.feeAsset) { received -= fill.fee }
        cost += fill.quantity * fill.price
        quantity += received
        if quantity > 0 { entryPrice = cost / quantity }
        let fee = feeInQuote(fill, quoteAsset: quoteAsset)
        fees += fee
        realizedPnL -= fee
    }

    /// Applies a sell fill: realised P&L of the part sold (against the average entry price, net of this fill's fee).
    public mutating func applySell(_ fill: Fill, quoteAsset: String) {
        let sold = min(fill.quantity, quantity)
        let fee = feeInQuote(fill, quoteAsset: quoteAsset)
        realizedPnL += sold * (fill.price - entryPrice) - fee
        fees += fee
        cost -= sold * entryPrice
        quantity -= sold
        if quantity <= 0 {
            quantity = 0
            cost = 0
        }
    }

    /// The fee in the quote asset (a base-asset fee is valued at the fill price; other assets are
    /// valued at 0 here and accounted in the wallet).
    public func feeInQuote(_ fill: Fill, quoteAsset: String) -> Decimal {
        if fill.feeAsset == quoteAsset { return fill.fee }
        if fill.symbol.hasPrefix(fill.feeAsset) { return fill.fee * fill.price }
        return 0
    }

    /// P&L of the position so far, net of every fee: realised plus unrealised at `price`.
    public func totalPnL(at price: Decimal) -> Decimal {
        realizedPnL + quantity * (price - entryPrice)
    }
}
