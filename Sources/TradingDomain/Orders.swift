import Foundation

/// Buy or sell, with Binance's spelling.
public enum OrderSide: String, Sendable, Codable, CaseIterable {
    case buy = "BUY"
    case sell = "SELL"
}

/// What an order is for in a position's life.
public enum OrderPurpose: String, Sendable, Codable, CaseIterable {
    case entry = "ENTRY"
    case add = "ADD"
    case partialTakeProfit = "PARTIAL_TP"
    case exit = "EXIT"
    case emergencyClose = "EMERGENCY_CLOSE"

    /// Short tag used in deterministic client order ids.
    public var tag: String {
        switch self {
        case .entry: return "en"
        case .add: return "ad"
        case .partialTakeProfit: return "tp"
        case .exit: return "ex"
        case .emergencyClose: return "em"
        }
    }

    /// Whether filling the order adds exposure.
    public var addsExposure: Bool { self == .entry || self == .add }
}

/// The status of an order as tradejob knows it. `pendingSubmit` is written before the request is
/// sent (write-ahead); `unknown` means the request's outcome is not known and must be queried
/// before anything is sent again.
public enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case pendingSubmit = "PENDING_SUBMIT"
    case unknown = "UNKNOWN"
    case new = "NEW"
    case partiallyFilled = "PARTIALLY_FILLED"
    case filled = "FILLED"
    case canceled = "CANCELED"
    case rejected = "REJECTED"
    case expired = "EXPIRED"

    /// No further fills can come.
    public var isFinal: Bool {
        switch self {
        case .filled, .canceled, .rejected, .expired: return true
        default: return false
        }
    }
}

/// A deterministic client order id: the same position, leg and attempt always give the same id,
/// so a restarted job can find what it sent. Fits Binance's rule `^[a-zA-Z0-9-_]{1,36}$`.
public enum ClientOrderID {
    public static func make(positionID: Int64, purpose: OrderPurpose, leg: Int, attempt: Int) -> String {
        "tj-\(positionID)-\(purpose.tag)\(leg)-a\(attempt)"
    }

    /// The parts of an id made by `make`, or nil for any other id (an order placed by hand, another bot).
    public static func parse(_ id: String) -> (positionID: Int64, purpose: OrderPurpose, leg: Int, attempt: Int)? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "tj", let position = Int64(parts[1]), parts[3].hasPrefix("a"),
              let attempt = Int(parts[3].dropFirst()), parts[2].count > 2 else { return nil }
        let tag = String(parts[2].prefix(2))
        guard let purpose = OrderPurpose.allCases.first(where: { $0.tag == tag }), let leg = Int(parts[2].dropFirst(2)) else { return nil }
        guard make(positionID: position, purpose: purpose, leg: leg, attempt: attempt) == id else { return nil }
        return (position, purpose, leg, attempt)
    }

    /// True when `id` satisfies Binance's length and character rules.
    public static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 36 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

/// An execution of (part of) an order.
public struct Fill: Sendable, Equatable, Codable {
    public var clientOrderID: String
    /// The venue's trade id (unique per symbol); the paper broker numbers its own.
    public var tradeID: String
    public var symbol: String
    public var side: OrderSide
    public var quantity: Quantity
    public var price: Price
    /// An amount of `feeAsset` (a base-asset fee is a quantity of it, at the same scale).
    public var fee: Money
    public var feeAsset: String
    /// Milliseconds since 1970 UTC.
    public var time: Int64

    public init(clientOrderID: String, tradeID: String, symbol: String, side: OrderSide, quantity: Quantity,
                price: Price, fee: Money, feeAsset: String, time: Int64) {
        self.clientOrderID = clientOrderID
        self.tradeID = tradeID
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.feeAsset = feeAsset
        self.time = time
    }

    /// Quantity × price, half-even.
    public func notional() throws(FixedPointError) -> Money { try price.times(quantity, .halfEven) }
}

extension Collection where Element == Fill {
    /// The quantity of all the fills.
    public func totalQuantity() throws(FixedPointError) -> Quantity { try map(\.quantity).total() }

    /// The quantity-weighted average price (Σ quantity × price, each product half-even, ÷ Σ quantity, half-even);
    /// nil without quantity.
    public func averagePrice() throws(FixedPointError) -> Price? {
        let quantity = try totalQuantity()
        guard quantity > 0 else { return nil }
        var notional = Money.zero
        for fill in self { notional = try notional + fill.notional() }
        return try notional.divided(by: quantity, .halfEven)
    }
}
