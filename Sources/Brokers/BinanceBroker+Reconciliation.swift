import Foundation
import Binance
import TradingDomain

extension BinanceBroker: AccountReconciling {
    public func openClientOrderIDs(symbol: String) async throws -> [String] {
        try await openOrders(symbol: symbol).map(\.clientOrderId)
    }

    public func venueTrades(symbol: String, afterTradeID: Int64?) async throws -> [VenueTrade] {
        try await myTrades(symbol: symbol, fromId: afterTradeID).map {
            VenueTrade(id: $0.id, venueOrderID: String($0.orderId), fill: $0.fill(clientOrderID: ""))
        }
    }

    public func venueOrder(symbol: String, venueOrderID: String) async throws -> OrderReport? {
        guard let id = Int64(venueOrderID), let order = try await client.queryOrder(symbol: symbol, orderId: id) else { return nil }
        return try await report(withFills: order)
    }
}
