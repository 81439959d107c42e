import Binance
import Foundation
import TradingDomain

/// Market orders on Binance Spot through `BinanceClient`.
///
/// `submit` rounds the quantity down to the symbol's step, cuts it to the symbol's maximum quantity and notional
/// (the rest is left to a later order), and refuses, without sending anything, an order below the minimum quantity
/// or notional; otherwise it sends one MARKET order whose `newClientOrderId` is the request's
/// client order id. It never sends an order twice: an answer it cannot be sure of (timeout, lost connection, 5xx,
/// -1007, an unreadable answer) is `.unknown` and is resolved later with `query`. An order that certainly did not
/// reach the venue (banned, breaker open, weight budget, refused connection) is reported `rejected` with a reason
/// starting "not sent".
public final class BinanceBroker: Broker, Sendable {
    public let name = "binance"
    public let isLive = true
    public let client: BinanceClient

    public init(client: BinanceClient) {
        self.client = client
    }

    public func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
        func refused(_ reason: String) -> SubmitOutcome {
            .answered(OrderReport(clientOrderID: order.clientOrderID, status: .rejected, reason: reason))
        }
        guard ClientOrderID.isValid(order.clientOrderID.rawValue) else {
            return refused("not sent: client order id \(order.clientOrderID) does not fit Binance's rules")
        }
        guard order.referencePrice > 0 else { return refused("not sent: the reference price is not positive") }

        let filters: SymbolFilters
        do {
            filters = try await client.symbolFilters(order.symbol)
        } catch {
            return refused("not sent: the exchange filters of \(order.symbol) are unavailable: \(error)")
        }
        guard let stepped = try? filters.roundQuantityDown(order.quantity) else {
            return refused("not sent: \(order.quantity) \(order.symbol) is out of range for the step \(filters.stepSize)")
        }
        // Above the venue's maximum it would be refused whole, run after run: the largest order it takes is sent.
        let quantity = filters.capped(stepped, price: order.referencePrice)
        let check = filters.minimumCheck(quantity: quantity, price: order.referencePrice)
        if let reason = filters.refusal(check, quantity: quantity, price: order.referencePrice) {
            return .answered(OrderReport(clientOrderID: order.clientOrderID, status: .rejected, reason: reason,
                                         belowVenueMinimum: check.isBelowSmallestOrder))
        }

        let placed: BinanceOrder
        do {
            placed = try await client.placeMarketOrder(symbol: order.symbol, side: order.side, quantity: quantity,
                                                       clientOrderID: order.clientOrderID)
        } catch let error as BinanceError {
            if error.outcomeUnknown { return .unknown(error.description) }
            if case .api = error {
                // -1013: a filter refused it, so the cached filters are out of date; the next attempt fetches them anew.
                if error.code == -1013 { try? await client.forgetSymbolFilters(order.symbol) }
                return refused(Self.reason(error))
            }
            return refused("not sent: \(error)")
        } catch {
            return .unknown("\(error)")
        }
        guard placed.clientOrderId == order.clientOrderID.rawValue else {
            return .unknown("the venue answered for client order id \(placed.clientOrderId), not \(order.clientOrderID)")
        }
        let fills = placed.fills.map { fill in
            Fill(clientOrderID: order.clientOrderID, tradeID: TradeID(rawValue: String(fill.tradeId)), symbol: placed.symbol, side: placed.orderSide ?? order.side,
                 quantity: fill.qty, price: fill.price, fee: fill.commission, feeAsset: fill.commissionAsset, time: placed.time ?? now)
        }
        return .answered(Self.report(placed, fills: fills))
    }

    public func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome {
        guard let order = try await client.queryOrder(symbol: symbol, clientOrderID: clientOrderID) else { return .notFound }
        return .found(try await report(withFills: order))
    }

    public func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport] {
        var reports: [OrderReport] = []
        for open in try await client.openOrders(symbol: symbol) where open.clientOrderId.hasPrefix("tj-") {
            let final: BinanceOrder
            do {
                final = try await client.cancelOrder(symbol: symbol, orderId: open.orderId)
            } catch let error as BinanceError where error.code == -2011 {
                // Not cancellable any more (filled or cancelled meanwhile): report what it is now.
                guard let now = try await client.queryOrder(symbol: symbol, clientOrderID: ClientOrderID(rawValue: open.clientOrderId)) else { continue }
                final = now
            }
            reports.append(try await report(withFills: final))
        }
        return reports
    }

    public func balances() async throws -> Balances {
        var free: [String: Money] = [:]
        var locked: [String: Money] = [:]
        for balance in try await client.accountBalances() {
            if balance.free != 0 { free[balance.asset] = balance.free }
            if balance.locked != 0 { locked[balance.asset] = balance.locked }
        }
        return Balances(free: free, locked: locked)
    }

    public func lotStep(symbol: Symbol) async -> Quantity? {
        try? await client.symbolFilters(symbol).stepSize
    }

    /// Binance refuses a request whose `timestamp` is older than `recvWindow`; one second more covers the error of the
    /// measured clock offset.
    public var bookingWindowMs: Int64 { Int64(min(max(client.settings.recvWindowMs, 1), 60_000)) + 1_000 }

    // MARK: - Reconciliation

    /// The symbol's working orders at the venue (all of them, not only tradejob's `tj-` ones).
    public func openOrders(symbol: Symbol) async throws -> [BinanceOrder] {
        try await client.openOrders(symbol: symbol)
    }

    /// Every trade of `symbol` with a trade id greater than `fromId` (all when nil), oldest first. A trade names its
    /// venue order id (`BinanceTrade.orderId`), which is the `venueOrderID` of the order's `OrderReport`.
    public func myTrades(symbol: Symbol, fromId: Int64?) async throws -> [BinanceTrade] {
        try await client.myTrades(symbol: symbol, after: fromId)
    }

    // MARK: - Mapping

    /// The order with its fills (fetched with `myTrades` by order id when anything executed).
    func report(withFills order: BinanceOrder) async throws -> OrderReport {
        var fills: [Fill] = []
        if order.executedQty > 0 {
            fills = try await client.myTrades(symbol: order.symbol, after: nil, orderId: order.orderId)
                .filter { $0.orderId == order.orderId }
                .map { $0.fill(clientOrderID: ClientOrderID(rawValue: order.clientOrderId)) }
        }
        return Self.report(order, fills: fills)
    }

    static func report(_ order: BinanceOrder, fills: [Fill]) -> OrderReport {
        var reason: String?
        switch order.orderStatus {
        case .expired:
            reason = "Binance status \(order.status): \(order.executedQty) of \(order.origQty) filled"
        case .canceled:
            reason = "canceled with \(order.executedQty) of \(order.origQty) filled"
        case .rejected:
            reason = "Binance status REJECTED"
        case .unknown:
            reason = "Binance status \(order.status) is not one tradejob knows; it will be queried again"
        default:
            break
        }
        return OrderReport(clientOrderID: ClientOrderID(rawValue: order.clientOrderId), status: order.orderStatus, venueOrderID: String(order.orderId),
                           fills: fills, reason: reason)
    }

    /// The venue's refusal as a report reason: its code and message.
    static func reason(_ error: BinanceError) -> String {
        if case let .api(_, code, message, _) = error { return "Binance \(code): \(message)" }
        return error.description
    }
}

extension BinanceError: CredentialsRefusal {
    /// HTTP 401, or Binance's -2014 (API-key format invalid) / -2015 (invalid API key, IP or permissions).
    public var refusesCredentials: Bool {
        if case let .api(status, code, _, _) = self { return status == 401 || code == -2014 || code == -2015 }
        return false
    }
}
