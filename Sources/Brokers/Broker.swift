import Foundation
import TradingDomain

/// An order as handed to a broker. The client order id was committed to the database as
/// `PENDING_SUBMIT` before the broker sees it (write-ahead; see `OrderLedger`).
public struct OrderRequest: Sendable, Equatable {
    public var clientOrderID: ClientOrderID
    public var symbol: Symbol
    public var side: OrderSide
    /// Base-asset quantity, already rounded to the venue's step.
    public var quantity: Quantity
    /// The price the decision was made at (the paper broker fills near it; live venues fill at market).
    public var referencePrice: Price

    public init(clientOrderID: ClientOrderID, symbol: Symbol, side: OrderSide, quantity: Quantity, referencePrice: Price) {
        self.clientOrderID = clientOrderID
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.referencePrice = referencePrice
    }
}

/// What a broker knows about one order: its status, the venue's id and every fill so far.
public struct OrderReport: Sendable, Equatable {
    public var clientOrderID: ClientOrderID
    public var status: OrderStatus
    public var venueOrderID: String?
    public var fills: [Fill]
    /// Why the venue rejected, cancelled or expired it, when it says.
    public var reason: String?
    /// Rejected without being sent because it is smaller than the smallest order the venue takes (its minimum
    /// quantity or notional): no order of that quantity can be placed at this price.
    public var belowVenueMinimum: Bool

    public init(clientOrderID: ClientOrderID, status: OrderStatus, venueOrderID: String? = nil, fills: [Fill] = [], reason: String? = nil,
                belowVenueMinimum: Bool = false) {
        self.clientOrderID = clientOrderID
        self.status = status
        self.venueOrderID = venueOrderID
        self.fills = fills
        self.reason = reason
        self.belowVenueMinimum = belowVenueMinimum
    }
}

/// The outcome of sending an order.
public enum SubmitOutcome: Sendable, Equatable {
    /// The venue answered; the report says what happened (possibly rejected).
    case answered(OrderReport)
    /// No answer (timeout, dropped connection, 5xx, -1007): the order may or may not exist. It stays
    /// `UNKNOWN` and is resolved with `query` before anything is sent again.
    case unknown(String)
}

/// The outcome of asking the venue about a client order id.
public enum QueryOutcome: Sendable, Equatable {
    case found(OrderReport)
    /// The venue has no order with that id: it was never placed.
    case notFound
}

/// Balances as the venue reports them, by asset (each an amount of that asset).
public struct Balances: Sendable, Equatable {
    public var free: [String: Money]
    public var locked: [String: Money]
    public init(free: [String: Money], locked: [String: Money] = [:]) {
        self.free = free
        self.locked = locked
    }
}

/// Order execution at a venue: the built-in paper broker or Binance Spot. Market orders only.
public protocol Broker: Sendable {
    /// `paper` or `binance`.
    var name: String { get }
    /// Whether real money is at stake.
    var isLive: Bool { get }
    /// Sends a market order. Must not throw for transport failures: those are `.unknown`.
    func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome
    /// Looks up an order by client order id (resolves `UNKNOWN` and `PENDING_SUBMIT` orders).
    func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome
    /// Cancels every open order of `symbol`; returns the reports of those cancelled.
    func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport]
    /// The venue's balances.
    func balances() async throws -> Balances
    /// The smallest quantity step of `symbol` the venue trades in: a position's remainder below it cannot be sold
    /// (dust). 0 when any quantity can be traded; nil when it cannot be learned now.
    func lotStep(symbol: Symbol) async -> Quantity?
    /// How long after a request was sent (ms) the venue may still book it: an order the venue does not know is taken
    /// as never placed only once this long has passed since the process that may have sent it was gone.
    var bookingWindowMs: Int64 { get }
}

/// An error by which a venue may say that the account's credentials are refused (a wrong or revoked API key, a key
/// without the permission or from another IP): nothing can be done with the account until the configuration changes.
public protocol CredentialsRefusal: Error {
    var refusesCredentials: Bool { get }
}

/// A trade the venue reports for the account (live reconciliation).
public struct VenueTrade: Sendable, Equatable {
    /// The venue's trade id (increasing per symbol).
    public var id: Int64
    /// The venue's id of the order the trade belongs to.
    public var venueOrderID: String
    /// The trade as a fill (its client order id is filled in from the database's order).
    public var fill: Fill

    public init(id: Int64, venueOrderID: String, fill: Fill) {
        self.id = id
        self.venueOrderID = venueOrderID
        self.fill = fill
    }
}

/// A live venue that can list an account's open orders and trades, so that each cycle can check that the database
/// explains everything the venue shows (step 0 of a live cycle).
public protocol AccountReconciling: Sendable {
    /// Client order ids of the open orders of `symbol`.
    func openClientOrderIDs(symbol: Symbol) async throws -> [ClientOrderID]
    /// Trades of `symbol` with an id above `afterTradeID` (all recent ones when nil), oldest first.
    func venueTrades(symbol: Symbol, afterTradeID: Int64?) async throws -> [VenueTrade]
    /// The order the venue knows by its own id, with its fills (nil when it has none): how a trade the database does
    /// not know is traced back to its client order id.
    func venueOrder(symbol: Symbol, venueOrderID: String) async throws -> OrderReport?
}
