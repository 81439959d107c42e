import Foundation
import Storage
import TradingDomain

/// The paper broker's settings (`paper.*`).
public struct PaperSettings: Sendable, Equatable {
    public var startingCash: Money
    public var quoteAsset: String
    public var feeRate: Fixed
    public var slippageBasisPoints: Fixed
    public init(startingCash: Money = 10000, quoteAsset: String = "USDT", feeRate: Fixed = Fixed(raw: 100_000) /* 0.001 */,
                slippageBasisPoints: Fixed = 5) {
        self.startingCash = startingCash
        self.quoteAsset = quoteAsset
        self.feeRate = feeRate
        self.slippageBasisPoints = slippageBasisPoints
    }
}

/// The built-in paper broker. Its account lives in the database (`wallet`, starting with `startingCash` of
/// the quote asset) and its order book in `paper_orders`, so it answers `query` like a venue after a
/// restart. Market orders fill at once at the reference price moved by the slippage (up for buys, down for
/// sells; rounded half away from zero), pay `feeRate` of the notional (half-even) in the quote asset (rounded up), and
/// are rejected when the wallet cannot pay: cash never goes negative. Every fill gets its own trade id.
public final class PaperBroker: Broker, @unchecked Sendable {
    public let name = "paper"
    public let isLive = false
    let store: any StateStore
    /// `store`'s sections, called directly when it is in memory.
    let sections: StateSections
    let settings: PaperSettings

    public init(store: any StateStore, settings: PaperSettings) {
        self.store = store
        sections = StateSections(store)
        self.settings = settings
    }

    /// On the job's state database.
    public convenience init(database: StateDatabase, settings: PaperSettings) {
        self.init(store: database.store, settings: settings)
    }

    /// Funds the wallet with the starting cash the first time.
    public func ensureFunded() throws {
        try store.writeNow { ledger in
            if try ledger.walletIsEmpty() { try ledger.setBalance(asset: settings.quoteAsset, free: settings.startingCash) }
        }
    }

    /// The base asset of `symbol` (the symbol without the quote asset suffix).
    public func baseAsset(_ symbol: Symbol) -> String {
        symbol.baseAsset(quotedIn: settings.quoteAsset) ?? symbol.rawValue
    }

    public func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
        let s = settings
        let base = baseAsset(order.symbol)
        let report: OrderReport = try await sections.write { ledger in
            if let existing = try ledger.paperOrder(clientOrderID: order.clientOrderID) { return Self.report(existing) }  // idempotent by client id
            // reference × (1 ± bps / 10,000) in one exact product
            let basisPoints: Fixed = 10_000
            let factor = try order.side == .buy ? basisPoints + s.slippageBasisPoints : basisPoints - s.slippageBasisPoints
            let price = try order.referencePrice.multiplied(by: factor, dividedBy: basisPoints, .halfAwayFromZero)
            let notional = try price.times(order.quantity, .halfEven)
            let fee = try notional.multiplied(by: s.feeRate, .up)
            let cash = try ledger.balance(asset: s.quoteAsset) ?? 0
            let held = (try ledger.balance(asset: base) ?? 0).reinterpreted(as: Quantity.self)
            var reason: String?
            if order.quantity <= 0 || price <= 0 { reason = "quantity and price must be positive" }
            else if order.side == .buy, try cash < notional + fee { reason = "insufficient balance: \(cash) \(s.quoteAsset) < \(try notional + fee)" }
            else if order.side == .sell, held < order.quantity { reason = "insufficient balance: \(held) \(base) < \(order.quantity)" }
            if let reason {
                try ledger.insertPaperOrder(PaperOrderRecord(clientOrderID: order.clientOrderID, symbol: order.symbol, side: order.side, status: .rejected,
                                                             quantity: order.quantity, time: now, reason: reason))
                return OrderReport(clientOrderID: order.clientOrderID, status: .rejected, reason: reason)
            }
            if order.side == .buy {
                try ledger.setBalance(asset: s.quoteAsset, free: cash - notional - fee)
                try ledger.setBalance(asset: base, free: (held + order.quantity).reinterpreted(as: Money.self))
            } else {
                try ledger.setBalance(asset: s.quoteAsset, free: cash + notional - fee)
                try ledger.setBalance(asset: base, free: (held - order.quantity).reinterpreted(as: Money.self))
            }
            let record = PaperOrderRecord(clientOrderID: order.clientOrderID, symbol: order.symbol, side: order.side, status: .filled,
                                          quantity: order.quantity, price: price, fee: fee, feeAsset: s.quoteAsset,
                                          tradeID: Self.tradeID(order.clientOrderID), time: now)
            try ledger.insertPaperOrder(record)
            return Self.report(record)
        }
        return .answered(report)
    }

    /// The paper venue's id of the one trade that fills `order`.
    static let tradeIDPrefix = Array("paper-".utf8)
    static func tradeID(_ order: ClientOrderID) -> TradeID {
        // Written into the new string's storage at once (appending to "paper-" grows a string twice).
        var id = order.rawValue
        let prefix = tradeIDPrefix
        return TradeID(rawValue: id.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: prefix.count + bytes.count) { out in
                for (i, byte) in prefix.enumerated() { out[i] = byte }
                for (i, byte) in bytes.enumerated() { out[prefix.count + i] = byte }
                return prefix.count + bytes.count
            }
        })
    }

    /// The venue's report of a paper order.
    static func report(_ o: PaperOrderRecord) -> OrderReport {
        var fills: [Fill] = []
        if o.status == .filled, let price = o.price {
            fills.append(Fill(clientOrderID: o.clientOrderID, tradeID: o.tradeID ?? Self.tradeID(o.clientOrderID), symbol: o.symbol, side: o.side,
                              quantity: o.quantity, price: price, fee: o.fee ?? 0, feeAsset: o.feeAsset ?? "", time: o.time))
        }
        return OrderReport(clientOrderID: o.clientOrderID, status: o.status, venueOrderID: o.tradeID?.rawValue, fills: fills, reason: o.reason)
    }

    public func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome {
        try await sections.read { ledger in
            try ledger.paperOrder(clientOrderID: clientOrderID).map { QueryOutcome.found(Self.report($0)) } ?? .notFound
        }
    }

    public func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport] { [] }  // paper market orders never rest

    public func balances() async throws -> Balances {
        Balances(free: try await sections.read { try $0.balances() })
    }

    /// Paper orders trade any quantity.
    public func lotStep(symbol: Symbol) async -> Quantity? { 0 }

    /// The paper book is written in one transaction with the fill: an order it does not have was never placed.
    public var bookingWindowMs: Int64 { 0 }
}
