import Foundation
import GRDB
import Logging
import Testing
import Brokers
@testable import Cycle
import Storage
import TradingDomain

/// A venue whose answer to an order can be lost: it accepts and fills the order, then the reply never comes
/// (as after a timeout). It counts every submit, so a blind resend would show.
final class LossyVenue: Broker, @unchecked Sendable {
    let name = "lossy"
    let isLive = false
    private let lock = NSLock()
    private var orders: [String: OrderReport] = [:]
    private(set) var submits = 0
    var loseReplies = true

    func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
        lock.withLock {
            submits += 1
            let fill = Fill(clientOrderID: order.clientOrderID, tradeID: "t\(submits)", symbol: order.symbol, side: order.side,
                            quantity: order.quantity, price: order.referencePrice, fee: 0, feeAsset: "USDT", time: now)
            let report = OrderReport(clientOrderID: order.clientOrderID, status: .filled, venueOrderID: "v\(submits)", fills: [fill])
            orders[order.clientOrderID] = report
            return loseReplies ? .unknown("timed out") : .answered(report)
        }
    }
    func query(clientOrderID: String, symbol: String) async throws -> QueryOutcome {
        lock.withLock { orders[clientOrderID].map(QueryOutcome.found) ?? .notFound }
    }
    func cancelOpenOrders(symbol: String) async throws -> [OrderReport] { [] }
    func balances() async throws -> Balances { Balances(free: [:]) }
}

@Suite("Write-ahead order execution")
struct OrderExecutionTests {
    func setup() throws -> (StateDatabase, Position) {
        let db = try StateDatabase(inMemory: ())
        var p = Position(id: 0, symbol: "BTCUSDT", state: .open, quantity: 0, entryPrice: 100, initialEntryPrice: 100, cost: 0, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        p.id = try db.writer.write { d in
            try d.execute(sql: "INSERT INTO runs (started_at, config_hash) VALUES (0, 'x')")
            return try Positions.insert(d, p)
        }
        return (db, p)
    }

    @Test func anUnknownOutcomeIsResolvedByQueryNeverByResending() async throws {
        let (db, position) = try setup()
        let venue = LossyVenue()
        let execution = OrderExecution(database: db.writer, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        let report = try await execution.place(runID: 1, position: position, side: .buy, purpose: .entry, quantity: 2, referencePrice: 100, now: 10)
        #expect(report == nil)
        let pending = try await db.writer.read { try Orders.unresolved($0) }
        #expect(pending.map(\.status) == [.unknown])
        #expect(pending.first?.clientOrderID == ClientOrderID.make(positionID: position.id, purpose: .entry, leg: 0, attempt: 1))

        let resolved = try await execution.resolveUnresolved(runID: 1, now: 20)
        #expect(resolved.unresolved == 0)
        #expect(resolved.fills == 1)
        #expect(venue.submits == 1)
        let p = try await db.writer.read { try Positions.find($0, id: position.id) }
        #expect(p?.quantity == 2)
        #expect(try await db.writer.read { try Orders.unresolved($0) }.isEmpty)
        // Resolving again changes nothing (fills are recorded once).
        _ = try await execution.resolveUnresolved(runID: 1, now: 30)
        #expect(try await db.writer.read { try Fills.count($0) } == 1)
    }

    @Test func anOrderTheVenueNeverSawIsRejectedAndTheNextAttemptGetsANewID() async throws {
        let (db, position) = try setup()
        let venue = LossyVenue()
        // A crash after the write-ahead commit, before the request: the order exists only in the database.
        try await db.writer.write { d in
            _ = try Orders.insertPending(d, clientOrderID: ClientOrderID.make(positionID: position.id, purpose: .entry, leg: 0, attempt: 1), runID: 1,
                                         positionID: position.id, symbol: "BTCUSDT", side: .buy, purpose: .entry, leg: 0, attempt: 1, quantity: 1,
                                         referencePrice: 100, now: 5)
        }
        let execution = OrderExecution(database: db.writer, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        _ = try await execution.resolveUnresolved(runID: 1, now: 10)
        let order = try await db.writer.read { try Orders.all($0) }.first
        #expect(order?.status == .rejected)
        #expect(venue.submits == 0)
        let p = try await db.writer.read { try Positions.find($0, id: position.id) }
        #expect(p?.state == .closed)
        #expect(p?.exitReason == .entryFailed)
    }

    @Test func writeAheadRowExistsBeforeTheVenueIsCalled() async throws {
        let (db, position) = try setup()
        final class Inspecting: Broker, @unchecked Sendable {
            let name = "inspect", isLive = false
            let db: DatabaseQueue
            var seenStatus: String?
            init(db: DatabaseQueue) { self.db = db }
            func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
                seenStatus = try await db.read { try String.fetchOne($0, sql: "SELECT status FROM orders WHERE client_order_id = ?", arguments: [order.clientOrderID]) }
                return .answered(OrderReport(clientOrderID: order.clientOrderID, status: .rejected, reason: "test"))
            }
            func query(clientOrderID: String, symbol: String) async throws -> QueryOutcome { .notFound }
            func cancelOpenOrders(symbol: String) async throws -> [OrderReport] { [] }
            func balances() async throws -> Balances { Balances(free: [:]) }
        }
        let venue = Inspecting(db: db.writer)
        let execution = OrderExecution(database: db.writer, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        _ = try await execution.place(runID: 1, position: position, side: .buy, purpose: .entry, quantity: 1, referencePrice: 100, now: 1)
        #expect(venue.seenStatus == "PENDING_SUBMIT")
    }
}
