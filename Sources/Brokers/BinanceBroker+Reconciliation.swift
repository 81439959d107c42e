import Foundation
import Binance
import TradingDomain

extension BinanceBroker: AccountReconciling {
    public func openClientOrderIDs(symbol: Symbol) async throws -> [ClientOrderID] {
        try await openOrders(symbol: symbol).map { ClientOrderID(rawValue: $0.clientOrderId) }
    }

    public func venueTrades(symbol: Symbol, afterTradeID: Int64?) async throws -> [VenueTrade] {
        try await myTrades(symbol: symbol, fromId: afterTradeID).map {
            VenueTrade(id: $0.id, venueOrderID: String($0.orderId), fill: $0.fill(clientOrderID: ""))
        }
    }

    public func venueOrder(symbol: Symbol, venueOrderID: String) async throws -> OrderReport? {
        guard let id = Int64(venueOrderID), let order = try await client.queryOrder(symbol: symbol, orderId: id) else { return nil }
        return try await report(withFills: order)
    }
}
