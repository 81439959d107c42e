import Foundation
import Brokers
import Storage
import TradingDomain

/// What the account check of a live cycle found.
struct AccountReconciliation {
    var fills = 0
    /// Orders, trades and balances the database does not explain (each recorded as an event).
    var unexplained = 0
}

extension TradingCycle {
    /// Live venues only (step 0, after the unresolved orders): the trades since the last run, the open orders and the
    /// balances, compared with the database. Trades of known orders become fills (once: fills are keyed by trade id);
    /// anything the database does not explain is recorded as an event and reported. Throws when the venue cannot be
    /// asked, which stops new entries for this run.
    func reconcileAccount(runID: Int64, now: Int64) async throws -> AccountReconciliation {
        guard broker.isLive, let venue = broker as? any AccountReconciling else { return AccountReconciliation() }
        var result = AccountReconciliation()
        for symbol in parameters.symbols {
            let cursorKey = "reconcile.trade_cursor.\(symbol)"
            let cursor = try await store.read { try $0.jobState(cursorKey) }.flatMap { Int64($0) }
            let trades = try await venue.venueTrades(symbol: symbol, afterTradeID: cursor)
            let openIDs = try await venue.openClientOrderIDs(symbol: symbol)
            let found = try await store.write { ledger -> AccountReconciliation in
                var found = AccountReconciliation()
                for trade in trades {
                    guard let order = try ledger.order(venueOrderID: trade.venueOrderID, symbol: symbol) else {
                        try ledger.record(runID: runID, time: now, kind: "unexplained_trade", symbol: symbol,
                                          message: "venue trade \(trade.id) of order \(trade.venueOrderID) is unknown to the database",
                                          data: ["trade_id": "\(trade.id)", "venue_order_id": trade.venueOrderID])
                        found.unexplained += 1
                        continue
                    }
                    var fill = trade.fill
                    fill.clientOrderID = order.clientOrderID
                    let report = OrderReport(clientOrderID: order.clientOrderID, status: order.status, venueOrderID: trade.venueOrderID, fills: [fill])
                    found.fills += try execution.apply(ledger, report: report, runID: runID, now: now)
                }
                if let last = trades.map(\.id).max() { try ledger.setJobState(cursorKey, "\(last)") }
                for id in openIDs where try ledger.order(clientOrderID: id) == nil {
                    try ledger.record(runID: runID, time: now, kind: "unexplained_order", symbol: symbol,
                                      message: "open venue order \(id) is unknown to the database", data: ["client_order_id": id])
                    found.unexplained += 1
                }
                return found
            }
            result.fills += found.fills
            result.unexplained += found.unexplained
        }
        // Balances: the venue must hold at least what the open positions say (less means something sold behind our back).
        let balances = try await broker.balances()
        // The venue's balances are the wallet of a live account (sizing reads the cash from it).
        try await store.write { ledger in
            for (asset, free) in balances.free { try ledger.setBalance(asset: asset, free: free) }
        }
        let held = try await store.read { ledger in try ledger.activePositions() }
        let quote = parameters.quoteAsset
        var expected: [String: Decimal] = [:]
        for p in held where p.symbol.hasSuffix(quote) {
            expected[String(p.symbol.dropLast(quote.count)), default: 0] += p.quantity
        }
        for (asset, quantity) in expected.sorted(by: { $0.key < $1.key }) {
            let venue = (balances.free[asset] ?? 0) + (balances.locked[asset] ?? 0)
            if venue < quantity {
                try await event(runID, now, "unexplained_balance", nil,
                                "the venue holds \(Money.text(venue)) \(asset) but open positions hold \(Money.text(quantity))")
                result.unexplained += 1
            }
        }
        return result
    }
}
