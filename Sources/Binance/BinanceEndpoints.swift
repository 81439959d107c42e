import Foundation
import TradingDomain

/// Typed Binance Spot endpoints (weights as Binance documents them).
extension BinanceClient {
    /// `GET /api/v3/klines` (weight 2): at most `limit` (≤ 1000) klines from `startTime`, oldest first. Without a start
    /// time Binance answers the most recent ones; the last one may still be open.
    public func klines(symbol: Symbol, interval: String, startTime: Int64? = nil, endTime: Int64? = nil, limit: Int = 1000) async throws -> [BinanceKline] {
        var parameters = [("symbol", symbol.rawValue), ("interval", interval)]
        if let startTime { parameters.append(("startTime", String(startTime))) }
        if let endTime { parameters.append(("endTime", String(endTime))) }
        parameters.append(("limit", String(min(max(limit, 1), 1000))))
        let request = BinanceRequest(path: "/api/v3/klines", parameters: parameters, weight: 2)
        return try decode(try await send(request), endpoint: request.endpoint)
    }

    /// `GET /api/v3/ticker/price?symbol=` (weight 2): the last price.
    public func tickerPrice(symbol: Symbol) async throws -> Price {
        let request = BinanceRequest(path: "/api/v3/ticker/price", parameters: [("symbol", symbol.rawValue)], weight: 2)
        let ticker: BinanceTickerPrice = try decode(try await send(request), endpoint: request.endpoint)
        guard let price: Price = BinanceDecimal.parse(ticker.price), price > 0 else {
            throw BinanceError.malformed(endpoint: request.endpoint, detail: "price \(ticker.price)")
        }
        return price
    }

    /// `POST /api/v3/order` (weight 1): a MARKET order for `quantity` of the base asset with the given client order id,
    /// answered FULL (with its fills). Sent again only when it certainly did not reach the venue.
    public func placeMarketOrder(symbol: Symbol, side: OrderSide, quantity: Quantity, clientOrderID: ClientOrderID) async throws -> BinanceOrder {
        let request = BinanceRequest(method: "POST", path: "/api/v3/order", parameters: [
            ("symbol", symbol.rawValue), ("side", side.rawValue), ("type", "MARKET"), ("quantity", BinanceDecimal.text(quantity)),
            ("newClientOrderId", clientOrderID.rawValue), ("newOrderRespType", "FULL"),
        ], signed: true, weight: 1, repeatability: .onlyIfNotReceived)
        return try decode(try await send(request), endpoint: request.endpoint)
    }

    /// `GET /api/v3/order?origClientOrderId=` (weight 4); nil when the venue has no such order (-2013).
    public func queryOrder(symbol: Symbol, clientOrderID: ClientOrderID) async throws -> BinanceOrder? {
        let request = BinanceRequest(path: "/api/v3/order", parameters: [("symbol", symbol.rawValue), ("origClientOrderId", clientOrderID.rawValue)],
                                     signed: true, weight: 4)
        do {
            return try decode(try await send(request), endpoint: request.endpoint)
        } catch let error as BinanceError where error.code == -2013 {
            return nil
        }
    }

    /// `GET /api/v3/order?orderId=` (weight 4): an order by the venue's id (to learn the client id of a trade the
    /// database does not know); nil when the venue has no such order (-2013).
    public func queryOrder(symbol: Symbol, orderId: Int64) async throws -> BinanceOrder? {
        let request = BinanceRequest(path: "/api/v3/order", parameters: [("symbol", symbol.rawValue), ("orderId", String(orderId))],
                                     signed: true, weight: 4)
        do {
            return try decode(try await send(request), endpoint: request.endpoint)
        } catch let error as BinanceError where error.code == -2013 {
            return nil
        }
    }

    /// `DELETE /api/v3/order?orderId=` (weight 1): cancels one order; the answer names the order's own client id.
    public func cancelOrder(symbol: Symbol, orderId: Int64) async throws -> BinanceOrder {
        let request = BinanceRequest(method: "DELETE", path: "/api/v3/order", parameters: [("symbol", symbol.rawValue), ("orderId", String(orderId))],
                                     signed: true, weight: 1, repeatability: .onlyIfNotReceived)
        return try decode(try await send(request), endpoint: request.endpoint)
    }

    /// `GET /api/v3/openOrders?symbol=` (weight 6): the symbol's working orders.
    public func openOrders(symbol: Symbol) async throws -> [BinanceOrder] {
        let request = BinanceRequest(path: "/api/v3/openOrders", parameters: [("symbol", symbol.rawValue)], signed: true, weight: 6)
        return try decode(try await send(request), endpoint: request.endpoint)
    }

    /// `GET /api/v3/myTrades` (weight 20): one page (at most 1000) of the account's trades of `symbol`, oldest first
    /// from `fromId` (inclusive) and/or of one order.
    public func myTradesPage(symbol: Symbol, orderId: Int64? = nil, fromId: Int64? = nil, limit: Int = 1000) async throws -> [BinanceTrade] {
        var parameters = [("symbol", symbol.rawValue)]
        if let orderId { parameters.append(("orderId", String(orderId))) }
        if let fromId { parameters.append(("fromId", String(fromId))) }
        parameters.append(("limit", String(min(max(limit, 1), 1000))))
        let request = BinanceRequest(path: "/api/v3/myTrades", parameters: parameters, signed: true, weight: 20)
        return try decode(try await send(request), endpoint: request.endpoint)
    }

    /// Every trade of `symbol` with a trade id greater than `afterId` (all of them when nil), oldest first,
    /// fetched a page of 1000 at a time.
    public func myTrades(symbol: Symbol, after afterId: Int64?, orderId: Int64? = nil) async throws -> [BinanceTrade] {
        if let orderId, afterId == nil {
            // One order's trades: `symbol + orderId` answers them all unless there are more than a page.
            let page = try await myTradesPage(symbol: symbol, orderId: orderId, limit: 1000)
            if page.count < 1000 { return page.sorted { $0.id < $1.id } }
        }
        var result: [BinanceTrade] = []
        var from = (afterId ?? -1) + 1
        for _ in 0..<10_000 {
            let page = try await myTradesPage(symbol: symbol, orderId: orderId, fromId: from, limit: 1000)
            let fresh = page.filter { $0.id >= from }
            result += fresh
            guard page.count >= 1000, let last = fresh.map(\.id).max() else { break }
            from = last + 1
        }
        return result.sorted { $0.id < $1.id }
    }

    /// `GET /api/v3/account` (weight 20, `omitZeroBalances=true`): the balances.
    public func accountBalances() async throws -> [BinanceBalance] {
        let request = BinanceRequest(path: "/api/v3/account", parameters: [("omitZeroBalances", "true")], signed: true, weight: 20)
        let account: BinanceAccount = try decode(try await send(request), endpoint: request.endpoint)
        return account.balances
    }
}
