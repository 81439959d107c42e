import Foundation
import Brokers
import Storage
import TradingDomain

/// What the account check of a live cycle found.
struct AccountReconciliation {
    var fills = 0
    /// Orders, trades and balances the database does not explain (each recorded as an event).
    var unexplained = 0
    /// Orders of this job (`tj-` client ids) the venue showed and the database did not know, now taken in.
    var adopted = 0
}

extension TradingCycle {
    /// Live venues only (step 0, after the unresolved orders): the trades since the last run, the open orders and the
    /// balances, compared with the database. Trades of known orders become fills (once: fills are keyed by trade id).
    /// A trade of a `tj-` order the database does not know (a state restored from an older copy, say) is adopted: the
    /// order is written with the venue's status and fills, under its position when that still exists, else under a new
    /// position that sells what it holds. Anything else the database does not explain is recorded as an event and
    /// reported. Throws when the venue cannot be asked, which stops every new order for this run.
    @inline(__always)
    func reconcileAccount(runID: RunID, now: Int64) async throws -> AccountReconciliation {
        guard broker.isLive, let venue = broker as? any AccountReconciling else { return AccountReconciliation() }
        return try await reconcileAccount(with: venue, runID: runID, now: now)
    }

    /// The comparison itself (out of line: the paper broker's runs return before it without an async call).
    func reconcileAccount(with venue: any AccountReconciling, runID: RunID, now: Int64) async throws -> AccountReconciliation {
        let execution = execution
        var result = AccountReconciliation()
        for symbol in parameters.symbols {
            let cursorKey = "reconcile.trade_cursor.\(symbol)"
            let cursor = try await store.read { try $0.jobState(cursorKey) }.flatMap { Int64($0) }
            let trades = try await venue.venueTrades(symbol: symbol, afterTradeID: cursor)
            let openIDs = try await venue.openClientOrderIDs(symbol: symbol)
            // The venue orders of trades the database cannot place: asked for by the venue's id, to learn their client id.
            let strangers = try await store.read { ledger in
                try Set(trades.map(\.venueOrderID)).filter { try ledger.order(venueOrderID: $0, symbol: symbol) == nil }
            }
            var traced: [String: OrderReport] = [:]
            for id in strangers.sorted() {
                if let report = try await venue.venueOrder(symbol: symbol, venueOrderID: id), ClientOrderID.parse(report.clientOrderID) != nil {
                    traced[id] = report
                }
            }
            let step = await execution.lotStep(symbol)
            let tracedOrders = traced
            let found = try await store.write { ledger -> AccountReconciliation in
                var found = AccountReconciliation()
                for trade in trades {
                    if let order = try ledger.order(venueOrderID: trade.venueOrderID, symbol: symbol) {
                        var fill = trade.fill
                        fill.clientOrderID = order.clientOrderID
                        let report = OrderReport(clientOrderID: order.clientOrderID, status: order.status, venueOrderID: trade.venueOrderID, fills: [fill])
                        found.fills += try execution.apply(ledger, report: report, runID: runID, now: now, lotStep: step)
                        continue
                    }
                    if let report = tracedOrders[trade.venueOrderID] {
                        found.fills += try adopt(ledger, report: report, symbol: symbol, runID: runID, now: now, lotStep: step)
                        found.adopted += 1
                        continue
                    }
                    try ledger.record(runID: runID, time: now, kind: .unexplainedTrade, symbol: symbol,
                                      message: "venue trade \(trade.id) of order \(trade.venueOrderID) is unknown to the database (not an order of this job)",
                                      data: ["trade_id": "\(trade.id)", "venue_order_id": trade.venueOrderID])
                    found.unexplained += 1
                }
                if let last = trades.map(\.id).max() { try ledger.setJobState(cursorKey, "\(last)") }
                for id in openIDs where try ledger.order(clientOrderID: id) == nil {
                    try ledger.record(runID: runID, time: now, kind: .unexplainedOrder, symbol: symbol,
                                      message: "open venue order \(id) is unknown to the database", data: ["client_order_id": id.rawValue])
                    found.unexplained += 1
                }
                return found
            }
            result.fills += found.fills
            result.unexplained += found.unexplained
            result.adopted += found.adopted
        }
        // The venue's balances are the wallet of a live account (sizing reads the cash from it).
        let balances = try await refreshLiveWallet(force: true) ?? Balances(free: [:])
        // The venue must hold at least what the open positions say (less means something sold behind our back).
        let held = try await store.read { ledger in try ledger.activePositions() }
        let quote = parameters.quoteAsset
        var expected: [String: Quantity] = [:]
        for p in held {
            guard let asset = p.symbol.baseAsset(quotedIn: quote) else { continue }
            expected[asset] = try (expected[asset] ?? 0) + p.quantity
        }
        for (asset, quantity) in expected.sorted(by: { $0.key < $1.key }) {
            let venue = try ((balances.free[asset] ?? 0) + (balances.locked[asset] ?? 0)).reinterpreted(as: Quantity.self)
            if venue < quantity {
                try await event(runID, now, .unexplainedBalance, nil,
                                "the venue holds \(venue) \(asset) but open positions hold \(quantity)")
                result.unexplained += 1
            }
        }
        return result
    }

    /// Takes in a venue order of this job that the database did not know: the order row with the venue's status and
    /// fills, under its position when the database has it (a closed one re-opens to sell a late buy), else under the
    /// position an earlier order of the same lost position was taken in under (its exit then sells what its entry bought,
    /// instead of leaving a position that holds coins already sold), else under a new position that is closed by selling
    /// what the order bought. Returns the new fills.
    func adopt(_ ledger: any Ledger, report: OrderReport, symbol: Symbol, runID: RunID, now: Int64, lotStep: Quantity?) throws -> Int {
        if try ledger.order(clientOrderID: report.clientOrderID) == nil, let parts = ClientOrderID.parse(report.clientOrderID) {
            let side = report.fills.first?.side ?? (parts.purpose.addsExposure ? .buy : .sell)
            let quantity = try report.fills.totalQuantity()
            let price = try report.fills.averagePrice() ?? 0
            var positionID = parts.positionID
            if try ledger.position(id: positionID).map({ $0.symbol != symbol }) ?? true {
                // An order of the same lost position taken in before (its entry, say) has a position: this one joins it.
                positionID = try ledger.positionOfAdoptedOrders(naming: parts.positionID, symbol: symbol)
                    ?? newAdoptedPosition(ledger, symbol: symbol, price: price, clientOrderID: report.clientOrderID, runID: runID, now: now)
            }
            try ledger.insertPendingOrder(clientOrderID: report.clientOrderID, runID: runID, positionID: positionID, symbol: symbol, side: side,
                                          purpose: parts.purpose, leg: parts.leg, attempt: parts.attempt, quantity: quantity, referencePrice: price, now: now)
            try ledger.record(runID: runID, time: now, kind: .orderAdopted, symbol: symbol,
                              message: "venue order \(report.clientOrderID) (\(report.venueOrderID ?? "?")) was unknown to the database; taken in under position \(positionID)",
                              data: ["client_order_id": report.clientOrderID.rawValue, "position_id": "\(positionID)"])
        }
        return try execution.apply(ledger, report: report, runID: runID, now: now, lotStep: lotStep)
    }

    /// A new position for an adopted order, opened and at once on its way out through the lifecycle: OPEN → CLOSING
    /// (adopted). Returns its id.
    private func newAdoptedPosition(_ ledger: any Ledger, symbol: Symbol, price: Price, clientOrderID: ClientOrderID, runID: RunID, now: Int64) throws -> Int64 {
        var adopted = Position(id: 0, symbol: symbol, state: .open, quantity: 0, entryPrice: price, initialEntryPrice: price, cost: 0,
                               stopPrice: nil, takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 0, adjustments: 0, partialTakeProfitDone: false,
                               openedAt: now, lastCheckedCandle: 0)
        adopted.id = try ledger.insertPosition(adopted)
        adopted.state = try PositionLifecycle.next(from: .open, on: .beginExit(.adopted), adjustments: 0, maxAdjustments: parameters.exits.maxAdjustments)
        adopted.exitReason = .adopted
        try ledger.updatePosition(adopted)
        try execution.transitionEvent(ledger, runID: runID, now: now, adopted, from: .open, note: "adopted venue order \(clientOrderID)")
        return adopted.id
    }
}
