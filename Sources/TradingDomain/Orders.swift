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

/// A status change of an order that `OrderStatusTransitions` does not allow.
public struct IllegalOrderStatusMove: Error, Equatable, CustomStringConvertible {
    public let clientOrderID: ClientOrderID
    public let from: OrderStatus
    public let to: OrderStatus
    public init(clientOrderID: ClientOrderID, from: OrderStatus, to: OrderStatus) {
        self.clientOrderID = clientOrderID
        self.from = from
        self.to = to
    }
    public var description: String {
        "order \(clientOrderID): status \(from.rawValue) → \(to.rawValue) is not allowed (\(OrderStatusTransitions.why(from: from, to: to)))"
    }
}

/// The order status table, after Binance's spot semantics: NEW (accepted) → PARTIALLY_FILLED → FILLED, and from
/// NEW or PARTIALLY_FILLED the ends CANCELED and EXPIRED (EXPIRED also for a MARKET order that filled in part).
/// REJECTED means the venue never took the order, so it comes only before the venue acknowledged it — or when the
/// venue, asked again, no longer has an order it had shown (tradejob takes it as ended without a fill). FILLED,
/// CANCELED, REJECTED and EXPIRED are final. Our own states come first: PENDING_SUBMIT (written before the
/// request) may move anywhere but back to itself; UNKNOWN (the request's outcome is not known) may become any venue
/// status once the venue is asked. A repeated report of the same status is no move. Everything else — a stale NEW
/// read after PARTIALLY_FILLED, FILLED → NEW, CANCELED → PARTIALLY_FILLED, any venue status → UNKNOWN — is backwards.
public enum OrderStatusTransitions {
    /// Whether an order stored as `from` may be stored as `to`.
    public static func allows(from: OrderStatus, to: OrderStatus) -> Bool {
        if from == to { return true }
        switch from {
        case .pendingSubmit: return to != .pendingSubmit
        case .unknown: return to != .pendingSubmit
        case .new: return [.partiallyFilled, .filled, .canceled, .expired, .rejected].contains(to)
        case .partiallyFilled: return [.filled, .canceled, .expired].contains(to)
        case .filled, .canceled, .rejected, .expired: return false
        }
    }

    /// Checks a move; throws `IllegalOrderStatusMove` when the table does not allow it.
    public static func check(clientOrderID: ClientOrderID, from: OrderStatus, to: OrderStatus) throws {
        guard allows(from: from, to: to) else { throw IllegalOrderStatusMove(clientOrderID: clientOrderID, from: from, to: to) }
    }

    /// Why a move is not allowed (for messages).
    static func why(from: OrderStatus, to: OrderStatus) -> String {
        if from.isFinal { return "\(from.rawValue) is final" }
        if to == .pendingSubmit { return "an order is PENDING_SUBMIT only before it is sent" }
        if to == .unknown { return "the venue already reported the order" }
        return "a move backwards"
    }
}

/// An order's client order id, the key of the `orders` table. The job's own are deterministic (`make`): the same
/// position, leg and attempt always give the same id, so a restarted job can find what it sent; they fit Binance's
/// rule `^[a-zA-Z0-9-_]{1,36}$`. Any other id (an order placed by hand, another bot) is kept as the venue gave it.
public struct ClientOrderID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public static func < (a: ClientOrderID, b: ClientOrderID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }

    /// `tj-<position>-<purpose tag><leg>-a<attempt>`, the numbers in decimal (written byte by byte into a buffer on
    /// the stack: a string interpolation, or a growing byte array, costs more than the rest of placing a paper order).
    public static func make(positionID: Int64, purpose: OrderPurpose, leg: Int, attempt: Int) -> ClientOrderID {
        // 3 + 20 + 1 + 2 + 20 + 2 + 20 bytes at most (each number with a sign).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 68) { buffer in
            var count = 0
            func put(_ byte: UInt8) { buffer[count] = byte; count += 1 }
            func putDecimal(_ value: Int64) {
                if value < 0 { put(UInt8(ascii: "-")) }
                var magnitude = value.magnitude
                let start = count
                repeat {
                    put(UInt8(ascii: "0") + UInt8(magnitude % 10))
                    magnitude /= 10
                } while magnitude > 0
                var (i, j) = (start, count - 1)
                while i < j { buffer.swapAt(i, j); i += 1; j -= 1 }
            }
            put(UInt8(ascii: "t")); put(UInt8(ascii: "j")); put(UInt8(ascii: "-"))
            putDecimal(positionID)
            put(UInt8(ascii: "-"))
            for byte in purpose.tag.utf8 { put(byte) }
            putDecimal(Int64(leg))
            put(UInt8(ascii: "-")); put(UInt8(ascii: "a"))
            putDecimal(Int64(attempt))
            return ClientOrderID(rawValue: String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self))
        }
    }

    /// The parts of an id made by `make`, or nil for any other id (an order placed by hand, another bot).
    public static func parse(_ id: ClientOrderID) -> (positionID: Int64, purpose: OrderPurpose, leg: Int, attempt: Int)? {
        let parts = id.rawValue.split(separator: "-", omittingEmptySubsequences: false)
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
    public var clientOrderID: ClientOrderID
    /// The venue's trade id (unique per symbol); the paper broker numbers its own.
    public var tradeID: TradeID
    public var symbol: Symbol
    public var side: OrderSide
    public var quantity: Quantity
    public var price: Price
    /// An amount of `feeAsset` (a base-asset fee is a quantity of it, at the same scale).
    public var fee: Money
    public var feeAsset: String
    /// Milliseconds since 1970 UTC.
    public var time: Int64

    public init(clientOrderID: ClientOrderID, tradeID: TradeID, symbol: Symbol, side: OrderSide, quantity: Quantity,
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
    @inlinable  // specialised where it is called (a generic call through witness tables costs more than the sum)
    public func totalQuantity() throws(FixedPointError) -> Quantity {
        var sum = Quantity.zero  // summed in place: no list of the quantities is built
        for fill in self { sum = try sum + fill.quantity }
        return sum
    }

    /// The quantity-weighted average price (Σ quantity × price, each product half-even, ÷ Σ quantity, half-even);
    /// nil without quantity.
    @inlinable
    public func averagePrice() throws(FixedPointError) -> Price? {
        let quantity = try totalQuantity()
        guard quantity > 0 else { return nil }
        var notional = Money.zero
        for fill in self { notional = try notional + fill.notional() }
        return try notional.divided(by: quantity, .halfEven)
    }
}
