/// A spot long position and its lifecycle, as stored in the `positions` table.
public struct Position: Sendable, Equatable {
    public var id: Int64
    public var symbol: Symbol
    public var state: PositionState
    /// Base-asset quantity held now.
    public var quantity: Quantity
    /// Average entry price of the quantity held (cost ÷ quantity, rounded half-even).
    public var entryPrice: Price
    /// Price of the first entry fill.
    public var initialEntryPrice: Price
    /// Quote spent on the quantity held (average price × quantity, fees excluded).
    public var cost: Money
    public var stopPrice: Price?
    public var takeProfitPrice: Price?
    /// Highest price seen since entry (trailing stop).
    public var highestPrice: Price?
    /// ATR at the entry, the unit of stop, target and trailing distances.
    public var atrAtEntry: Double
    public var adjustments: Int
    public var partialTakeProfitDone: Bool
    public var openedAt: Int64
    /// Open time of the last candle whose range has been checked against the stops.
    public var lastCheckedCandle: Int64
    public var closedAt: Int64?
    public var exitPrice: Price?
    public var exitReason: ExitReason?
    /// Realised P&L net of all fees paid so far (buys and sells).
    public var realizedPnL: Money
    public var fees: Money

    public init(id: Int64, symbol: Symbol, state: PositionState, quantity: Quantity, entryPrice: Price,
                initialEntryPrice: Price, cost: Money, stopPrice: Price?, takeProfitPrice: Price?,
                highestPrice: Price?, atrAtEntry: Double, adjustments: Int, partialTakeProfitDone: Bool,
                openedAt: Int64, lastCheckedCandle: Int64, closedAt: Int64? = nil, exitPrice: Price? = nil,
                exitReason: ExitReason? = nil, realizedPnL: Money = 0, fees: Money = 0) {
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

    /// Applies a buy fill: quantity and cost grow, the average entry price is recomputed (half-even).
    /// A fee in the quote asset counts against `realizedPnL` when paid. A fee in the base asset reduces the quantity
    /// received instead: the cost paid for the whole quantity bought is then spread over fewer coins, so the fee is
    /// already in the P&L through the cost (it is counted in `fees`, not charged a second time).
    public mutating func applyBuy(_ fill: Fill, quoteAsset: String) throws(FixedPointError) {
        var received = fill.quantity
        let feeInBase = fill.feeAsset != quoteAsset && fill.symbol.starts(withAsset: fill.feeAsset)
        if feeInBase { received = try received - fill.fee.reinterpreted(as: Quantity.self) }
        cost = try cost + fill.price.times(fill.quantity, .halfEven)
        quantity = try quantity + received
        if quantity > 0 { entryPrice = try cost.divided(by: quantity, .halfEven) }
        let fee = try feeInQuote(fill, quoteAsset: quoteAsset)
        fees = try fees + fee
        if !feeInBase { realizedPnL = try realizedPnL - fee }
    }

    /// Applies a sell fill: realised P&L of the part sold (proceeds less its share of the cost, net of this fill's fee).
    /// The share of the cost is cost × sold ÷ quantity (half-even; all of it when all is sold), so the P&L is not
    /// thrown off by the rounding of the average entry price.
    public mutating func applySell(_ fill: Fill, quoteAsset: String) throws(FixedPointError) {
        let sold = min(fill.quantity, quantity)
        let fee = try feeInQuote(fill, quoteAsset: quoteAsset)
        let costSold = sold == quantity ? cost : try cost.multiplied(by: sold, dividedBy: quantity, .halfEven)
        realizedPnL = try realizedPnL + fill.price.times(sold, .halfEven) - costSold - fee
        fees = try fees + fee
        cost = try cost - costSold
        quantity = try quantity - sold
        if quantity <= 0 {
            quantity = 0
            cost = 0
        }
    }

    /// The fee in the quote asset (a base-asset fee is valued at the fill price, half-even; other assets are
    /// valued at 0 here and accounted in the wallet).
    public func feeInQuote(_ fill: Fill, quoteAsset: String) throws(FixedPointError) -> Money {
        if fill.feeAsset == quoteAsset { return fill.fee }
        if fill.symbol.starts(withAsset: fill.feeAsset) { return try fill.price.times(fill.fee.reinterpreted(as: Quantity.self), .halfEven) }
        return 0
    }

    /// P&L of the position so far, net of every fee: realised plus unrealised at `price`.
    public func totalPnL(at price: Price) throws(FixedPointError) -> Money {
        try realizedPnL + price.times(quantity, .halfEven) - cost
    }
}
