import Foundation
import TradingDomain

/// Binance's decimal strings (`"0.00100000"`) straight into the fixed-point types, never through `Double`.
public enum BinanceDecimal {
    /// Parses a plain decimal (`-12.5`, `0.00100000`) with at most 8 decimals; nil for anything else (exponents,
    /// spaces, garbage, more decimals, out of range).
    public static func parse<T: FixedPointValue>(_ text: String, as _: T.Type = T.self) -> T? {
        var digits = 0
        var dots = 0
        for (index, scalar) in text.unicodeScalars.enumerated() {
            switch scalar {
            case "0"..."9": digits += 1
            case ".": dots += 1
            case "-" where index == 0: break
            default: return nil
            }
        }
        guard digits > 0, dots <= 1 else { return nil }
        return T(text)
    }

    /// A value as a plain parameter value (`0.037`, never an exponent).
    public static func text(_ value: some FixedPointValue) -> String { value.description }
}

extension KeyedDecodingContainer {
    func decimal<T: FixedPointValue>(_ key: Key) throws -> T {
        let text = try decode(String.self, forKey: key)
        guard let value: T = BinanceDecimal.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a decimal with at most 8 decimals: \(text)")
        }
        return value
    }

    func decimalIfPresent<T: FixedPointValue>(_ key: Key) throws -> T? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let value: T = BinanceDecimal.parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "not a decimal with at most 8 decimals: \(text)")
        }
        return value
    }
}

/// One execution inside a FULL order answer (`fills`).
public struct BinanceOrderFill: Sendable, Equatable, Decodable {
    public var price: Price
    public var qty: Quantity
    public var commission: Money
    public var commissionAsset: String
    public var tradeId: Int64

    enum CodingKeys: String, CodingKey { case price, qty, commission, commissionAsset, tradeId }

    public init(price: Price, qty: Quantity, commission: Money, commissionAsset: String, tradeId: Int64) {
        self.price = price
        self.qty = qty
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.tradeId = tradeId
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        price = try c.decimal(.price)
        qty = try c.decimal(.qty)
        commission = try c.decimal(.commission)
        commissionAsset = try c.decode(String.self, forKey: .commissionAsset)
        tradeId = try c.decode(Int64.self, forKey: .tradeId)
    }
}

/// An order as Binance reports it (placement, query, cancel and open-orders answers).
public struct BinanceOrder: Sendable, Equatable, Decodable {
    public var symbol: Symbol
    public var orderId: Int64
    /// The order's own client id (for a cancel answer, Binance's `origClientOrderId`).
    public var clientOrderId: String
    /// `BUY` or `SELL`.
    public var side: String
    /// `MARKET`, `LIMIT`, …
    public var type: String
    /// Binance's status: NEW, PENDING_NEW, PARTIALLY_FILLED, FILLED, CANCELED, PENDING_CANCEL, REJECTED, EXPIRED, EXPIRED_IN_MATCH.
    public var status: String
    public var price: Price
    public var origQty: Quantity
    public var executedQty: Quantity
    public var cummulativeQuoteQty: Money
    /// Placement time (`transactTime` of a placement answer, `time` of a query).
    public var time: Int64?
    public var updateTime: Int64?
    /// Executions included in a FULL placement answer (empty elsewhere).
    public var fills: [BinanceOrderFill]

    enum CodingKeys: String, CodingKey {
        case symbol, orderId, clientOrderId, origClientOrderId, side, type, status, price, origQty, executedQty, cummulativeQuoteQty,
             time, transactTime, updateTime, fills
    }

    public init(symbol: Symbol, orderId: Int64, clientOrderId: String, side: String, type: String, status: String, price: Price = 0,
                origQty: Quantity, executedQty: Quantity, cummulativeQuoteQty: Money = 0, time: Int64? = nil, updateTime: Int64? = nil,
                fills: [BinanceOrderFill] = []) {
        self.symbol = symbol
        self.orderId = orderId
        self.clientOrderId = clientOrderId
        self.side = side
        self.type = type
        self.status = status
        self.price = price
        self.origQty = origQty
        self.executedQty = executedQty
        self.cummulativeQuoteQty = cummulativeQuoteQty
        self.time = time
        self.updateTime = updateTime
        self.fills = fills
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(Symbol.self, forKey: .symbol)
        orderId = try c.decode(Int64.self, forKey: .orderId)
        // A cancel answer's clientOrderId is the cancel request's own id; the order's is origClientOrderId.
        if let original = try c.decodeIfPresent(String.self, forKey: .origClientOrderId) {
            clientOrderId = original
        } else {
            clientOrderId = try c.decode(String.self, forKey: .clientOrderId)
        }
        side = try c.decode(String.self, forKey: .side)
        type = try c.decode(String.self, forKey: .type)
        status = try c.decode(String.self, forKey: .status)
        price = try c.decimalIfPresent(.price) ?? 0
        origQty = try c.decimal(.origQty)
        executedQty = try c.decimal(.executedQty)
        cummulativeQuoteQty = try c.decimalIfPresent(.cummulativeQuoteQty) ?? 0
        time = try c.decodeIfPresent(Int64.self, forKey: .transactTime) ?? c.decodeIfPresent(Int64.self, forKey: .time)
        updateTime = try c.decodeIfPresent(Int64.self, forKey: .updateTime)
        fills = try c.decodeIfPresent([BinanceOrderFill].self, forKey: .fills) ?? []
    }

    /// The order's side, when it is one tradejob knows.
    public var orderSide: OrderSide? { OrderSide(rawValue: side) }

    /// Binance's status as tradejob's. PENDING_NEW is `new`; PENDING_CANCEL is still working; EXPIRED and
    /// EXPIRED_IN_MATCH are `expired`; a status this code does not know is `unknown` (it will be queried again).
    public var orderStatus: OrderStatus {
        switch status {
        case "NEW", "PENDING_NEW": return .new
        case "PARTIALLY_FILLED": return .partiallyFilled
        case "PENDING_CANCEL": return executedQty > 0 ? .partiallyFilled : .new
        case "FILLED": return .filled
        case "CANCELED": return .canceled
        case "REJECTED": return .rejected
        case "EXPIRED", "EXPIRED_IN_MATCH": return .expired
        default: return .unknown
        }
    }

    /// The average execution price, when anything executed.
    /// The average execution price (quote ÷ quantity, half-even), when anything executed.
    public var averagePrice: Price? {
        executedQty > 0 && cummulativeQuoteQty > 0 ? try? cummulativeQuoteQty.divided(by: executedQty, .halfEven) : nil
    }
}

/// One of the account's trades (`GET /api/v3/myTrades`).
public struct BinanceTrade: Sendable, Equatable, Decodable {
    public var symbol: Symbol
    /// Binance's trade id (unique per symbol).
    public var id: Int64
    /// The venue order id the trade belongs to (`OrderReport.venueOrderID` holds it as text).
    public var orderId: Int64
    public var price: Price
    public var qty: Quantity
    public var quoteQty: Money
    public var commission: Money
    public var commissionAsset: String
    public var time: Int64
    public var isBuyer: Bool
    public var isMaker: Bool

    enum CodingKeys: String, CodingKey { case symbol, id, orderId, price, qty, quoteQty, commission, commissionAsset, time, isBuyer, isMaker }

    public init(symbol: Symbol, id: Int64, orderId: Int64, price: Price, qty: Quantity, quoteQty: Money, commission: Money,
                commissionAsset: String, time: Int64, isBuyer: Bool, isMaker: Bool) {
        self.symbol = symbol
        self.id = id
        self.orderId = orderId
        self.price = price
        self.qty = qty
        self.quoteQty = quoteQty
        self.commission = commission
        self.commissionAsset = commissionAsset
        self.time = time
        self.isBuyer = isBuyer
        self.isMaker = isMaker
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        symbol = try c.decode(Symbol.self, forKey: .symbol)
        id = try c.decode(Int64.self, forKey: .id)
        orderId = try c.decode(Int64.self, forKey: .orderId)
        price = try c.decimal(.price)
        qty = try c.decimal(.qty)
        quoteQty = try c.decimalIfPresent(.quoteQty) ?? 0
        commission = try c.decimal(.commission)
        commissionAsset = try c.decode(String.self, forKey: .commissionAsset)
        time = try c.decode(Int64.self, forKey: .time)
        isBuyer = try c.decode(Bool.self, forKey: .isBuyer)
        isMaker = try c.decodeIfPresent(Bool.self, forKey: .isMaker) ?? false
    }

    /// The trade as a domain fill of the order with client id `clientOrderID`.
    public func fill(clientOrderID: ClientOrderID) -> Fill {
        Fill(clientOrderID: clientOrderID, tradeID: TradeID(rawValue: String(id)), symbol: symbol, side: isBuyer ? .buy : .sell, quantity: qty,
             price: price, fee: commission, feeAsset: commissionAsset, time: time)
    }
}

/// One asset of the account (`GET /api/v3/account`).
public struct BinanceBalance: Sendable, Equatable, Decodable {
    public var asset: String
    public var free: Money
    public var locked: Money

    enum CodingKeys: String, CodingKey { case asset, free, locked }

    public init(asset: String, free: Money, locked: Money) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        asset = try c.decode(String.self, forKey: .asset)
        free = try c.decimal(.free)
        locked = try c.decimal(.locked)
    }
}

struct BinanceAccount: Decodable {
    var balances: [BinanceBalance]
}

/// One kline as Binance sends it: prices and volume stay text (market observations become `Double` in MarketData).
public struct BinanceKline: Sendable, Equatable, Decodable {
    public var openTime: Int64
    public var open: String
    public var high: String
    public var low: String
    public var close: String
    public var volume: String
    /// The last millisecond of the bar (`openTime + interval - 1`).
    public var closeTime: Int64

    public init(openTime: Int64, open: String, high: String, low: String, close: String, volume: String, closeTime: Int64) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.closeTime = closeTime
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        openTime = try c.decode(Int64.self)
        open = try c.decode(String.self)
        high = try c.decode(String.self)
        low = try c.decode(String.self)
        close = try c.decode(String.self)
        volume = try c.decode(String.self)
        closeTime = try c.decode(Int64.self)
        // The remaining fields (quote volume, trades, taker volumes) are not used.
    }
}

struct BinanceServerTime: Decodable {
    var serverTime: Int64
}

struct BinanceTickerPrice: Decodable {
    var symbol: Symbol
    var price: String
}

struct BinanceErrorBody: Decodable {
    var code: Int
    var msg: String
}

struct BinanceExchangeInfo: Decodable {
    struct RateLimit: Decodable {
        var rateLimitType: String
        var interval: String
        var intervalNum: Int
        var limit: Int
    }
    struct Filter: Decodable {
        var filterType: String
        var tickSize: String?
        var stepSize: String?
        var minQty: String?
        var maxQty: String?
        var minNotional: String?
        var maxNotional: String?
        var applyMaxToMarket: Bool?
    }
    struct Symbol: Decodable {
        var symbol: TradingDomain.Symbol
        var baseAsset: String
        var quoteAsset: String
        var filters: [Filter]
    }
    var rateLimits: [RateLimit]?
    var symbols: [Symbol]

    /// The REQUEST_WEIGHT limit per one minute, when listed.
    var requestWeightPerMinute: Int? {
        rateLimits?.first { $0.rateLimitType == "REQUEST_WEIGHT" && $0.interval == "MINUTE" && $0.intervalNum == 1 }?.limit
    }
}
