import Foundation
import Logging
import Testing
import Brokers
@testable import Cycle
import Storage
import TradingDomain

/// Venue reports move an order only as the status table allows, and transitions record their facts as typed data.
@Suite("Order status enforcement")
struct OrderStatusEnforcementTests {
    func setup() throws -> (StateDatabase, OrderExecution, Position, ClientOrderID) {
        let db = try StateDatabase(inMemory: ())
        var p = Position(id: 0, symbol: "BTCUSDT", state: .open, quantity: 0, entryPrice: 100, initialEntryPrice: 100, cost: 0, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        let position = p
        p.id = try db.write { ledger in
            _ = try ledger.startRun(startedAt: 0, configHash: "x")
            return try ledger.insertPosition(position)
        }
        let cid = ClientOrderID.make(positionID: p.id, purpose: .entry, leg: 0, attempt: 1)
        let positionID = p.id
        try db.write { ledger in
            try ledger.insertPendingOrder(clientOrderID: cid, runID: 1, positionID: positionID, symbol: "BTCUSDT", side: .buy, purpose: .entry,
                                          leg: 0, attempt: 1, quantity: 2, referencePrice: 100, now: 0)
        }
        let execution = OrderExecution(database: db, broker: PaperlessBroker(), quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        return (db, execution, p, cid)
    }

    func apply(_ db: StateDatabase, _ execution: OrderExecution, _ report: OrderReport, now: Int64) throws {
        try db.write { ledger in _ = try execution.apply(ledger, report: report, runID: 1, now: now, lotStep: nil) }
    }

    @Test func aStaleReportKeepsTheStoredStatusAndIsRecorded() throws {
        let (db, execution, position, id) = try setup()
        let fill = Fill(clientOrderID: id, tradeID: "1", symbol: "BTCUSDT", side: .buy, quantity: 2, price: 100, fee: 0, feeAsset: "USDT", time: 5)
        try apply(db, execution, OrderReport(clientOrderID: id, status: .filled, venueOrderID: "v1", fills: [fill]), now: 10)
        // A slower replica answers with the order as it was before the fill.
        try apply(db, execution, OrderReport(clientOrderID: id, status: .new, venueOrderID: "v1"), now: 20)
        let order = try db.read { try $0.order(clientOrderID: id) }
        #expect(order?.status == .filled && order?.filledQuantity == 2)
        let refused = try db.read { try $0.events(ofKind: .orderStatusRejected) }
        #expect(refused.count == 1)
        #expect(try refused.first?.fields() == ["client_order_id": id.rawValue, "from": "FILLED", "to": "NEW"])
        #expect(refused.first?.message.contains("FILLED → NEW is not allowed (FILLED is final); FILLED kept") == true, "\(refused.first?.message ?? "")")
        #expect(try db.read { try $0.position(id: position.id) }?.quantity == 2)
        // The order's own event was recorded once, for the move that happened.
        #expect(try db.read { try $0.events(ofKind: .orderFilled) }.count == 1)
    }

    @Test func anEntryThatFailedIsAnOpenToClosedTransitionWithItsReasonAsData() throws {
        let (db, execution, position, id) = try setup()
        try apply(db, execution, OrderReport(clientOrderID: id, status: .rejected, reason: "insufficient balance"), now: 10)
        #expect(try db.read { try $0.position(id: position.id) }?.state == .closed)
        let transition = try db.read { try $0.events(ofKind: .transition) }.last
        #expect(try transition?.fields() == ["position_id": "\(position.id)", "from": "OPEN", "to": "CLOSED", "exit_reason": "entry_failed"])
        #expect(try db.read { try $0.events(ofKind: .orderRejected) }.count == 1)
    }

    @Test func fillEventsRecordTheOrdersPurpose() throws {
        let (db, execution, _, id) = try setup()
        let fill = Fill(clientOrderID: id, tradeID: "1", symbol: "BTCUSDT", side: .buy, quantity: 2, price: 100, fee: 0, feeAsset: "USDT", time: 5)
        try apply(db, execution, OrderReport(clientOrderID: id, status: .filled, fills: [fill]), now: 10)
        #expect(try db.read { try $0.events(ofKind: .fill) }.first?.fields()["purpose"] == "ENTRY")
    }
}

/// A broker these tests never call (reports are applied directly).
struct PaperlessBroker: Broker {
    let name = "none"
    let isLive = false
    func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome { .unknown("not used") }
    func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome { .notFound }
    func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport] { [] }
    func balances() async throws -> Balances { Balances(free: [:]) }
    func lotStep(symbol: Symbol) async -> Quantity? { 0 }
    var bookingWindowMs: Int64 { 0 }
}
