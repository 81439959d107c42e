import Foundation
import Testing
import PostgresStorage
import Storage
import TradingDomain

/// The PostgreSQL ledger answers exactly as the SQLite ledger: the same script of every ledger call on both, compared
/// answer by answer (money as raw fixed-point values, so "equal" means every unit).
@Suite(.enabled(if: PostgresTestServer.available, PostgresTestServer.skipNote), .serialized)
struct PostgresLedgerTests {
    static let m15 = Timeframe("15m")!

    /// Every ledger method, with the answers written down as text.
    static func script(_ store: any StateStore) throws -> [String] {
        var out: [String] = []
        func note(_ label: String, _ value: Any) { out.append("\(label): \(value)") }
        let t0: Int64 = 1_700_000_000_000
        let btc: Symbol = "BTCUSDT", eth: Symbol = "ETHUSDT"
        let run = try store.writeNow { l in
            note("lastConfigHash empty", String(describing: try l.lastConfigHash()))
            note("walletIsEmpty", try l.walletIsEmpty())
            let run = try l.startRun(startedAt: t0, configHash: "abc")
            try l.setJobState("block.cooldown", "\(t0 + 5)")
            try l.setJobState("block.max_drawdown", "\(t0 + 9)")
            try l.setJobState("other", "x")
            try l.setJobState("other", "y")
            try l.setEquityPeak(try Money(parsing: "1234.56789012", rounding: .halfEven))
            try l.setBalance(asset: "USDT", free: try Money(parsing: "10000", rounding: .halfEven))
            try l.setBalance(asset: "BTC", free: try Money(parsing: "0.00000001", rounding: .halfEven))
            try l.setBalance(asset: "USDT", free: try Money(parsing: "9999.99999999", rounding: .halfEven))
            try l.appendEvent(runID: run, time: t0, kind: .runFinished, symbol: btc, message: "hello \"quoted\"", data: ["a": "1", "b": "é"])
            return run
        }
        try store.writeNow { l in
            note("jobState", String(describing: try l.jobState("other")))
            note("jobStates", try l.jobStates(prefix: "block.").sorted { $0.key < $1.key })
            note("equityPeak", String(describing: try l.equityPeak()))
            note("balances", try l.balances().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.raw)" })
            note("lastConfigHash", String(describing: try l.lastConfigHash()))
            try l.removeJobState("other")
            note("jobState removed", String(describing: try l.jobState("other")))
            try l.setEquityPeak(nil)
            note("equityPeak cleared", String(describing: try l.equityPeak()))
            // Candles: a backfill, a correction, windows.
            var candles: [Candle] = []
            for k in 0..<700 {
                let base: Double = 100 + Double(k) * 0.25
                let time: Int64 = t0 + Int64(k) * 900_000
                candles.append(Candle(openTime: time, open: base, high: base + 1, low: base - 0.5, close: base + 0.125, volume: 1e-7 * Double(k + 1)))
            }
            try l.upsertCandles(symbol: btc, timeframe: Self.m15, candles: candles)
            try l.upsertCandles(symbol: btc, timeframe: Self.m15, candles: [Candle(openTime: t0 + 5 * 900_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3)])
            note("newest", String(describing: try l.newestCandleTime(symbol: btc, timeframe: Self.m15)))
            note("newest none", String(describing: try l.newestCandleTime(symbol: eth, timeframe: Self.m15)))
            let window = try l.candleWindow(symbol: btc, timeframe: Self.m15, limit: 10, upTo: t0 + 8 * 900_000)
            note("window", window.map { "\($0.openTime) \($0.open) \($0.close) \($0.volume)" })
            let stored = try l.storeCandles([CandleBatch(symbol: eth, candles: Array(candles.prefix(3))), CandleBatch(symbol: btc, candles: [], readsWindow: true)],
                                            timeframe: Self.m15, window: 500, upTo: .max)
            note("storeCandles", stored.map { outcome in (try? outcome.get()).map { "\($0.count) \($0.first?.openTime ?? 0) \($0.last?.openTime ?? 0)" } ?? "failed" })
        }
        // Positions, orders, fills.
        let position = Position(id: 0, symbol: btc, state: .open, quantity: try Quantity(parsing: "0.12345678", rounding: .halfEven),
                                entryPrice: try Price(parsing: "43210.5", rounding: .halfEven), initialEntryPrice: try Price(parsing: "43210.5", rounding: .halfEven),
                                cost: try Money(parsing: "5334.62499962", rounding: .halfEven), stopPrice: try Price(parsing: "42000", rounding: .halfEven),
                                takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 123.456, adjustments: 0, partialTakeProfitDone: false,
                                openedAt: t0, lastCheckedCandle: t0)
        let id = try store.writeNow { l -> Int64 in
            let id = try l.insertPosition(position)
            let entryID = ClientOrderID(rawValue: "tj-\(id)-en0-a1")
            try l.insertPendingOrder(clientOrderID: entryID, runID: run, positionID: id, symbol: btc, side: .buy, purpose: .entry, leg: 0, attempt: 1,
                                     quantity: position.quantity, referencePrice: position.entryPrice, now: t0)
            try l.updateOrder(clientOrderID: entryID, status: .new, venueOrderID: "v1", filledQuantity: nil, averagePrice: nil, reason: "sent", now: t0 + 1)
            try l.updateOrder(clientOrderID: entryID, status: .filled, venueOrderID: nil, filledQuantity: position.quantity,
                              averagePrice: position.entryPrice, reason: nil, now: t0 + 2)
            let fill = Fill(clientOrderID: entryID, tradeID: "T1", symbol: btc, side: .buy, quantity: position.quantity, price: position.entryPrice,
                            fee: try Money(parsing: "0.00123457", rounding: .halfEven), feeAsset: "USDT", time: t0 + 2)
            note("insertFill", try l.insertFill(fill, runID: run))
            note("insertFill again", try l.insertFill(fill, runID: run))
            note("fillCount", try l.fillCount(runID: run))
            note("fills", try l.fills(clientOrderID: entryID))
            return id
        }
        let entryID = ClientOrderID(rawValue: "tj-\(id)-en0-a1")
        try store.writeNow { l in
            note("illegal move", (try? l.updateOrder(clientOrderID: entryID, status: .new, venueOrderID: nil, filledQuantity: nil, averagePrice: nil,
                                                     reason: nil, now: t0 + 3)) == nil ? "refused" : "allowed")
            note("order", String(describing: try l.order(clientOrderID: entryID).map { "\($0.status) \($0.venueOrderID ?? "-") \($0.filledQuantity.raw) \($0.averagePrice?.raw ?? 0) \($0.reason ?? "nil") \($0.updatedAt)" }))
            note("order by venue", String(describing: try l.order(venueOrderID: "v1", symbol: btc)?.clientOrderID))
            // An adopted order of a lost position 77, filed under this position: found by the lost position's number only.
            try l.insertPendingOrder(clientOrderID: "tj-77-en0-a1", runID: run, positionID: id, symbol: btc, side: .buy, purpose: .entry, leg: 0,
                                     attempt: 1, quantity: position.quantity, referencePrice: position.entryPrice, now: t0 + 2)
            note("adopted under", [77, 7, id].map { String(describing: try? l.positionOfAdoptedOrders(naming: $0, symbol: btc)) })
            note("adopted under, other symbol", String(describing: try l.positionOfAdoptedOrders(naming: 77, symbol: "ETHUSDT")))
            note("unresolved", try l.unresolvedOrders().map(\.clientOrderID))
            note("lastAttempt", String(describing: try l.lastAttempt(positionID: id, purpose: .entry, leg: 0)))
            note("lastAttempt none", String(describing: try l.lastAttempt(positionID: id, purpose: .exit, leg: 0)))
            note("orders", try l.orders(positionID: id).map { "\($0.clientOrderID) \($0.side) \($0.purpose) \($0.quantity.raw)" })
            note("active", try l.activePositions().map { "\($0.symbol) \($0.state) \($0.quantity.raw) \($0.cost.raw) \($0.atrAtEntry) \($0.partialTakeProfitDone)" })
            var closed = try #require(try l.position(id: id))
            closed.state = .closed
            closed.closedAt = t0 + 10
            closed.exitPrice = try Price(parsing: "41999.99", rounding: .halfEven)
            closed.exitReason = .stopLoss
            closed.partialTakeProfitDone = true
            closed.realizedPnL = try Money(parsing: "-149.52", rounding: .halfEven)
            try l.updatePosition(closed)
            note("closed", try l.closedPositions(since: t0).map { "\($0.id == id) \($0.exitReason.map { "\($0)" } ?? "-") \($0.realizedPnL.raw) \($0.partialTakeProfitDone)" })
            note("lastExit", try l.lastExitBySymbol().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            note("stopLossExits", try l.stopLossExits(since: 0))
            try l.recordEquity(time: t0 + 10, runID: run, equity: try Money(parsing: "9850.12345678", rounding: .halfEven), cash: .zero, safeMode: false)
            try l.recordEquity(time: t0 + 10, runID: run, equity: try Money(parsing: "9850.5", rounding: .halfEven), cash: .zero, safeMode: true)
            note("firstEquity", String(describing: try l.firstEquity(since: t0)?.raw))
            note("breakers", try l.totalBreakerOpenings())
            let paper = PaperOrderRecord(clientOrderID: "tj-p", symbol: btc, side: .sell, status: .filled, quantity: position.quantity,
                                         price: position.entryPrice, fee: .zero, feeAsset: "USDT", tradeID: "P-1", time: t0, reason: nil)
            try l.insertPaperOrder(paper)
            note("paper", try l.paperOrder(clientOrderID: "tj-p") == paper)
            note("paper none", try l.paperOrder(clientOrderID: "tj-q") == nil)
            try l.finishRun(id: run, endedAt: t0 + 20, outcome: .ok, volatility: 0.0123, next: (900, "calm", t0 + 900_000), symbolsAnalysed: 2,
                            symbolsFailed: [eth], summary: "done")
            let second = try l.startRun(startedAt: t0 + 30, configHash: "def")
            note("runStarted after", String(describing: try l.runStarted(after: run)))
            note("abandoned", try l.markAbandonedRuns(endedAt: t0 + 40).map { $0 == second })
            note("failures", try l.consecutiveFailedRuns())
            note("byInterval", try l.runsByInterval().sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            note("lastConfigHash after", String(describing: try l.lastConfigHash()))
        }
        return out
    }

    @Test func ledgerAnswersAsTheSQLiteLedger() throws {
        let account = PostgresTestServer.freshAccount("ledger")
        defer { PostgresTestServer.drop(account: account) }
        let sqlite = try StateDatabase(inMemory: ())
        let expected = try Self.script(sqlite.store)
        let state = try PostgresTestServer.open(account: account)
        defer { state.close() }
        let got = try Self.script(state)
        #expect(got.count == expected.count)
        for (a, b) in zip(got, expected) { #expect(a == b) }
        #expect(got.contains("illegal move: refused"))
        #expect(got.contains("insertFill again: false"))
    }

    @Test func aFailedWriteLeavesNothing() throws {
        let account = PostgresTestServer.freshAccount("rollback")
        defer { PostgresTestServer.drop(account: account) }
        let state = try PostgresTestServer.open(account: account)
        defer { state.close() }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try state.writeNow { l in
                try l.setJobState("written", "1")
                throw Stop()
            }
        }
        #expect(try state.writeNow { try $0.jobState("written") } == nil)
        // A statement the server refuses (a duplicate client order id) rolls the whole transaction back too.
        #expect(throws: PostgresStateError.self) {
            try state.writeNow { l in
                try l.setJobState("written", "2")
                for _ in 0..<2 {
                    try l.insertPendingOrder(clientOrderID: "tj-dup", runID: 1, positionID: nil, symbol: "BTCUSDT", side: .buy, purpose: .entry, leg: 0,
                                             attempt: 1, quantity: .zero, referencePrice: .zero, now: 0)
                }
            }
        }
        #expect(try state.writeNow { try $0.jobState("written") } == nil)
        #expect(try state.writeNow { try $0.order(clientOrderID: "tj-dup") } == nil)
    }
}
