import Foundation
import GRDB
import Storage
import TradingDomain

/// The paper broker's settings (`paper.*`).
public struct PaperSettings: Sendable, Equatable {
    public var startingCash: Decimal
    public var quoteAsset: String
    public var feeRate: Decimal
    public var slippageBasisPoints: Decimal
    public init(startingCash: Decimal = 10000, quoteAsset: String = "USDT", feeRate: Decimal = Decimal(string: "0.001") ?? 0,
                slippageBasisPoints: Decimal = 5) {
        self.startingCash = startingCash
        self.quoteAsset = quoteAsset
        self.feeRate = feeRate
        self.slippageBasisPoints = slippageBasisPoints
    }
}

/// The built-in paper broker. Its account lives in the database (`wallet`, starting with `startingCash` of
/// the quote asset) and its order book in `paper_orders`, so it answers `query` like a venue after a
/// restart. Market orders fill at once at the reference price moved by the slippage (up for buys, down for
/// sells), pay `feeRate` of the notional in the quote asset, and are rejected when the wallet cannot pay:
/// cash never goes negative. Every fill gets its own trade id.
public final class PaperBroker: Broker, @unchecked Sendable {
    public let name = "paper"
    public let isLive = false
    let database: DatabaseQueue
    let settings: PaperSettings

    public init(database: DatabaseQueue, settings: PaperSettings) {
        self.database = database
        self.settings = settings
    }

    /// Funds the wallet with the starting cash the first time.
    public func ensureFunded() throws {
        try database.write { db in
            if try Wallet.isEmpty(db) { try Wallet.set(db, asset: settings.quoteAsset, free: settings.startingCash) }
        }
    }

    /// The base asset of `symbol` (the symbol without the quote asset suffix).
    public func baseAsset(_ symbol: String) -> String {
        symbol.hasSuffix(settings.quoteAsset) ? String(symbol.dropLast(settings.quoteAsset.count)) : symbol
    }

    public func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
        let s = settings
        let base = baseAsset(order.symbol)
        let report: OrderReport = try await database.write { db in
            if let existing = try Self.paperOrder(db, order.clientOrderID) { return existing }  // idempotent by client id
            let slip = order.referencePrice * s.slippageBasisPoints / 10000
            let price = Money.round(order.side == .buy ? order.referencePrice + slip : order.referencePrice - slip, scale: 8)
            let notional = order.quantity * price
            let fee = Money.round(notional * s.feeRate, scale: 8, .up)
            var balances = try Wallet.balances(db)
            let cash = balances[s.quoteAsset] ?? 0
            let held = balances[base] ?? 0
            var reason: String?
            if order.quantity <= 0 || price <= 0 { reason = "quantity and price must be positive" }
            else if order.side == .buy, cash < notional + fee { reason = "insufficient balance: \(Money.text(cash)) \(s.quoteAsset) < \(Money.text(notional + fee))" }
            else if order.side == .sell, held < order.quantity { reason = "insufficient balance: \(Money.text(held)) \(base) < \(Money.text(order.quantity))" }
            if let reason {
                try db.execute(sql: "INSERT INTO paper_orders (client_order_id, symbol, side, status, quantity, time, reason) VALUES (?, ?, ?, 'REJECTED', ?, ?, ?)",
                               arguments: [order.clientOrderID, order.symbol, order.side.rawValue, Money.text(order.quantity), now, reason])
                return OrderReport(clientOrderID: order.clientOrderID, status: .rejected, reason: reason)
            }
            if order.side == .buy {
                balances[s.quoteAsset] = cash - notional - fee
                balances[base] = held + order.quantity
            } else {
                balances[s.quoteAsset] = cash + notional - fee
                balances[base] = held - order.quantity
            }
            for asset in [s.quoteAsset, base] { try Wallet.set(db, asset: asset, free: balances[asset] ?? 0) }
            let tradeID = "paper-\(order.clientOrderID)"
            try db.execute(sql: """
                INSERT INTO paper_orders (client_order_id, symbol, side, status, quantity, price, fee, fee_asset, trade_id, time)
                VALUES (?, ?, ?, 'FILLED', ?, ?, ?, ?, ?, ?)
                """, arguments: [order.clientOrderID, order.symbol, order.side.rawValue, Money.text(order.quantity), Money.text(price),
                                 Money.text(fee), s.quoteAsset, tradeID, now])
            let fill = Fill(clientOrderID: order.clientOrderID, tradeID: tradeID, symbol: order.symbol, side: order.side,
                            quantity: order.quantity, price: price, fee: fee, feeAsset: s.quoteAsset, time: now)
            return OrderReport(clientOrderID: order.clientOrderID, status: .filled, venueOrderID: tradeID, fills: [fill])
        }
        return .answered(report)
    }

    static func paperOrder(_ db: Database, _ clientOrderID: String) throws -> OrderReport? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM paper_orders WHERE client_order_id = ?", arguments: [clientOrderID]) else { return nil }
        let statusText: String = row["status"]
        let status = OrderStatus(rawValue: statusText) ?? .rejected
        var fills: [Fill] = []
        if status == .filled, let price = (row["price"] as String?).flatMap(Money.parse), let qty = (row["quantity"] as String?).flatMap(Money.parse) {
            let sideText: String = row["side"]
            fills.append(Fill(clientOrderID: clientOrderID, tradeID: row["trade_id"] ?? "paper-\(clientOrderID)", symbol: row["symbol"],
                              side: OrderSide(rawValue: sideText) ?? .buy, quantity: qty, price: price,
                              fee: (row["fee"] as String?).flatMap(Money.parse) ?? 0, feeAsset: row["fee_asset"] ?? "", time: row["time"]))
        }
        return OrderReport(clientOrderID: clientOrderID, status: status, venueOrderID: row["trade_id"], fills: fills, reason: row["reason"])
    }

    public func query(clientOrderID: String, symbol: String) async throws -> QueryOutcome {
        try await database.read { db in
            try Self.paperOrder(db, clientOrderID).map(QueryOutcome.found) ?? .notFound
        }
    }

    public func cancelOpenOrders(symbol: String) async throws -> [OrderReport] { [] }  // paper market orders never rest

    public func balances() async throws -> Balances {
        Balances(free: try await database.read { try Wallet.balances($0) })
    }
}
