import Foundation
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
    private var orders: [ClientOrderID: OrderReport] = [:]
    private(set) var submits = 0
    var loseReplies = true

    func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
        lock.withLock {
            submits += 1
            let fill = Fill(clientOrderID: order.clientOrderID, tradeID: TradeID(rawValue: "t\(submits)"), symbol: order.symbol, side: order.side,
                            quantity: order.quantity, price: order.referencePrice, fee: 0, feeAsset: "USDT", time: now)
            let report = OrderReport(clientOrderID: order.clientOrderID, status: .filled, venueOrderID: "v\(submits)", fills: [fill])
            orders[order.clientOrderID] = report
            return loseReplies ? .unknown("timed out") : .answered(report)
        }
    }
    func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome {
        lock.withLock { orders[clientOrderID].map(QueryOutcome.found) ?? .notFound }
    }
    func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport] { [] }
    func balances() async throws -> Balances { Balances(free: [:]) }
    func lotStep(symbol: Symbol) async -> Quantity? { 0 }
    var bookingWindowMs: Int64 { 0 }
}

@Suite("Write-ahead order execution")
struct OrderExecutionTests {
    func setup() throws -> (StateDatabase, Position) {
        let db = try StateDatabase(inMemory: ())
        var p = Position(id: 0, symbol: "BTCUSDT", state: .open, quantity: 0, entryPrice: 100, initialEntryPrice: 100, cost: 0, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        p.id = try db.write { ledger in
            _ = try ledger.startRun(startedAt: 0, configHash: "x")
            return try ledger.insertPosition(p)
        }
        return (db, p)
    }

    @Test func anUnknownOutcomeIsResolvedByQueryNeverByResending() async throws {
        let (db, position) = try setup()
        let venue = LossyVenue()
        let execution = OrderExecution(database: db, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        let report = try await execution.place(runID: 1, position: position, side: .buy, purpose: .entry, quantity: 2, referencePrice: 100, now: 10)
        #expect(report == nil)
        let pending = try await db.read { try $0.unresolvedOrders() }
        #expect(pending.map(\.status) == [.unknown])
        #expect(pending.first?.clientOrderID == ClientOrderID.make(positionID: position.id, purpose: .entry, leg: 0, attempt: 1))

        let resolved = try await execution.resolveUnresolved(runID: 1, now: 20)
        #expect(resolved.unresolved == 0)
        #expect(resolved.fills == 1)
        #expect(venue.submits == 1)
        let p = try await db.read { try $0.position(id: position.id) }
        #expect(p?.quantity == 2)
        #expect(try await db.read { try $0.unresolvedOrders() }.isEmpty)
        // Resolving again changes nothing (fills are recorded once).
        _ = try await execution.resolveUnresolved(runID: 1, now: 30)
        #expect(try await db.read { try $0.fillCount(runID: 1) } == 1)
    }

    @Test func anOrderTheVenueNeverSawIsRejectedAndTheNextAttemptGetsANewID() async throws {
        let (db, position) = try setup()
        let venue = LossyVenue()
        // A crash after the write-ahead commit, before the request: the order exists only in the database.
        try await db.write { ledger in
            try ledger.insertPendingOrder(clientOrderID: ClientOrderID.make(positionID: position.id, purpose: .entry, leg: 0, attempt: 1), runID: 1,
                                          positionID: position.id, symbol: "BTCUSDT", side: .buy, purpose: .entry, leg: 0, attempt: 1, quantity: 1,
                                          referencePrice: 100, now: 5)
        }
        let execution = OrderExecution(database: db, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        _ = try await execution.resolveUnresolved(runID: 1, now: 10)
        let order = try await db.read { try $0.orders(positionID: position.id) }.first
        #expect(order?.status == .rejected)
        #expect(venue.submits == 0)
        let p = try await db.read { try $0.position(id: position.id) }
        #expect(p?.state == .closed)
        #expect(p?.exitReason == .entryFailed)
    }

    @Test func writeAheadRowExistsBeforeTheVenueIsCalled() async throws {
        let (db, position) = try setup()
        final class Inspecting: Broker, @unchecked Sendable {
            let name = "inspect", isLive = false
            let db: StateDatabase
            var seenStatus: String?
            init(db: StateDatabase) { self.db = db }
            func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome {
                seenStatus = try await db.read { try $0.order(clientOrderID: order.clientOrderID)?.status.rawValue }
                return .answered(OrderReport(clientOrderID: order.clientOrderID, status: .rejected, reason: "test"))
            }
            func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome { .notFound }
            func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport] { [] }
            func balances() async throws -> Balances { Balances(free: [:]) }
            func lotStep(symbol: Symbol) async -> Quantity? { 0 }
            var bookingWindowMs: Int64 { 0 }
        }
        let venue = Inspecting(db: db)
        let execution = OrderExecution(database: db, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
        _ = try await execution.place(runID: 1, position: position, side: .buy, purpose: .entry, quantity: 1, referencePrice: 100, now: 1)
        #expect(venue.seenStatus == "PENDING_SUBMIT")
    }
}

/// A venue that knows no order at all, and may still book one for `window` ms after it was sent (as Binance within
/// `recvWindow`).
final class ForgetfulVenue: Broker, @unchecked Sendable {
    let name = "forgetful", isLive = true
    let window: Int64
    init(window: Int64) { self.window = window }
    var bookingWindowMs: Int64 { window }
    func submit(_ order: OrderRequest, now: Int64) async throws -> SubmitOutcome { .unknown("no reply") }
    func query(clientOrderID: ClientOrderID, symbol: Symbol) async throws -> QueryOutcome { .notFound }
    func cancelOpenOrders(symbol: Symbol) async throws -> [OrderReport] { [] }
    func balances() async throws -> Balances { Balances(free: [:]) }
    func lotStep(symbol: Symbol) async -> Quantity? { 0 }
}

@Suite("Exactly-once rules of order execution")
struct ExactlyOnceRuleTests {
    func setup(state: PositionState = .open, quantity: Quantity = 0) throws -> (StateDatabase, Position) {
        let db = try StateDatabase(inMemory: ())
        var p = Position(id: 0, symbol: "BTCUSDT", state: state, quantity: quantity, entryPrice: 100, initialEntryPrice: 100, cost: try Price(100).times(quantity, .halfEven),
                         stopPrice: nil, takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false,
                         openedAt: 0, lastCheckedCandle: 0)
        p.id = try db.write { ledger in
            _ = try ledger.startRun(startedAt: 0, configHash: "x")
            return try ledger.insertPosition(p)
        }
        return (db, p)
    }

    func execution(_ db: StateDatabase, _ venue: any Broker) -> OrderExecution {
        OrderExecution(database: db, broker: venue, quoteAsset: "USDT", maxAdjustments: 3, logger: Logger(label: "test"))
    }

    func fill(_ id: ClientOrderID, _ trade: TradeID, _ side: OrderSide, _ quantity: Quantity) -> Fill {
        Fill(clientOrderID: id, tradeID: trade, symbol: "BTCUSDT", side: side, quantity: quantity, price: 100, fee: 0, feeAsset: "USDT", time: 1)
    }

    @Test func noSecondOrderWhileAnOrderOfThePositionIsNotFinal() async throws {
        let (db, position) = try setup(state: .closing, quantity: 1)
        let venue = LossyVenue()
        let execution = execution(db, venue)
        #expect(try await execution.place(runID: 1, position: position, side: .sell, purpose: .exit, quantity: 1, referencePrice: 100, now: 1) == nil)
        // The exit's outcome is unknown: a second exit must not go out (it would sell coins the job may no longer hold).
        let closing = position
        let again = try await execution.place(runID: 1, positionID: position.id, symbol: "BTCUSDT", side: .sell, purpose: .exit, quantity: 1,
                                              referencePrice: 100, now: 2) { ledger in
            var changed = closing
            changed.exitReason = .manual
            try ledger.updatePosition(changed)
            return changed
        }
        #expect(again == nil)
        #expect(venue.submits == 1)
        #expect(try await db.read { try $0.orders(positionID: position.id) }.count == 1)
        #expect(try await db.read { try $0.position(id: position.id) }?.exitReason == nil, "the refused decision was not applied")
        #expect(try await db.read { try $0.events(after: 0).filter { $0.kind == .orderNotSent }.count } == 1)
    }

    @Test func nothingIsSentOnceTheRunsReconciliationFailed() async throws {
        let (db, position) = try setup(state: .monitoring, quantity: 1)
        let venue = LossyVenue()
        let execution = execution(db, venue)
        execution.gate.close("reconciliation failed this run")
        #expect(try await execution.place(runID: 1, position: position, side: .sell, purpose: .exit, quantity: 1, referencePrice: 100, now: 1) == nil)
        #expect(venue.submits == 0)
        #expect(try await db.read { try $0.orders(positionID: position.id) }.isEmpty)
    }

    @Test func aPositionClosesOnlyBelowOneLotStepAndDustIsRecordedWithItsAmount() async throws {
        let (db, position) = try setup(state: .closing, quantity: 1)
        let execution = execution(db, LossyVenue())
        try await db.write { ledger in
            for (attempt, id) in ["tj-1-ex0-a1", "tj-1-ex0-a2"].enumerated() {
                try ledger.insertPendingOrder(clientOrderID: ClientOrderID(rawValue: id), runID: 1, positionID: position.id, symbol: "BTCUSDT", side: .sell, purpose: .exit,
                                              leg: 0, attempt: attempt + 1, quantity: 1, referencePrice: 100, now: 1)
            }
        }
        // The first exit sold half (a partial fill, then expired): 0.5 is 50 lot steps, not dust.
        try await db.write { ledger in
            try execution.apply(ledger, report: OrderReport(clientOrderID: "tj-1-ex0-a1", status: .expired, venueOrderID: "1",
                                                                    fills: [self.fill("tj-1-ex0-a1", "t1", .sell, Quantity("0.5")!)]),
                                runID: 1, now: 2, lotStep: Quantity("0.01")!)
        }
        var p = try #require(try await db.read { try $0.position(id: position.id) })
        #expect(p.state == .closing && p.quantity == Quantity("0.5"))
        // The second sold all but 0.004, below the step of 0.01: dust, and the position closes.
        try await db.write { ledger in
            try execution.apply(ledger, report: OrderReport(clientOrderID: "tj-1-ex0-a2", status: .filled, venueOrderID: "2",
                                                                    fills: [self.fill("tj-1-ex0-a2", "t2", .sell, Quantity("0.496")!)]),
                                runID: 1, now: 3, lotStep: Quantity("0.01")!)
        }
        p = try #require(try await db.read { try $0.position(id: position.id) })
        #expect(p.state == .closed && p.quantity == 0)
        // Sold at the entry price without fees: the P&L is what the dust cost (0.004 × 100), not zero.
        #expect(p.realizedPnL == (try Money(parsing: "-0.4", rounding: .halfEven)), "\(p.realizedPnL)")
        let dust = try await db.read { try $0.events(after: 0).first { $0.kind == .dust }?.data }
        #expect(dust?.contains("\"asset\":\"BTC\"") == true && dust?.contains("\"quantity\":\"0.004\"") == true, "\(dust ?? "no dust event")")
    }

    @Test func aLateFillReopensAClosedPositionToSellIt() async throws {
        let (db, position) = try setup(state: .closed, quantity: 0)
        let execution = execution(db, LossyVenue())
        try await db.write { ledger in
            try ledger.insertPendingOrder(clientOrderID: ClientOrderID(rawValue: "tj-1-en0-a1"), runID: 1, positionID: position.id, symbol: "BTCUSDT", side: .buy, purpose: .entry,
                                          leg: 0, attempt: 1, quantity: 2, referencePrice: 100, now: 1)
            try execution.apply(ledger, report: OrderReport(clientOrderID: "tj-1-en0-a1", status: .filled, venueOrderID: "9",
                                                                    fills: [self.fill("tj-1-en0-a1", "t9", .buy, 2)]),
                                runID: 1, now: 5, lotStep: Quantity("0.01")!)
        }
        let p = try #require(try await db.read { try $0.position(id: position.id) })
        #expect(p.state == .closing && p.quantity == 2 && p.closedAt == nil)
    }

    @Test func anOrderFoundFilledLaterDropsItsTimeoutReason() async throws {
        let (db, position) = try setup()
        let venue = LossyVenue()
        let execution = execution(db, venue)
        _ = try await execution.place(runID: 1, position: position, side: .buy, purpose: .entry, quantity: 1, referencePrice: 100, now: 1)
        #expect(try await db.read { try $0.orders(positionID: position.id) }.first?.reason == "timed out")
        _ = try await execution.resolveUnresolved(runID: 1, now: 2)
        let order = try #require(try await db.read { try $0.orders(positionID: position.id) }.first)
        #expect(order.status == .filled && order.reason == nil)
    }

    @Test func anUnknownOrderIsTakenAsNeverPlacedOnlyAfterTheBookingWindow() async throws {
        let (db, position) = try setup()
        let execution = execution(db, ForgetfulVenue(window: 6_000))
        _ = try await execution.place(runID: 1, position: position, side: .buy, purpose: .entry, quantity: 1, referencePrice: 100, now: 1_000)
        // The next run starts at 2,000: the order may still be booked until 8,000.
        _ = try await db.write { try $0.startRun(startedAt: 2000, configHash: "x") }
        #expect(try await execution.resolveUnresolved(runID: 2, now: 7_999).unresolved == 1)
        #expect(try await db.read { try $0.orders(positionID: position.id) }.first?.status == .unknown)
        #expect(try await execution.resolveUnresolved(runID: 2, now: 8_000).unresolved == 0)
        #expect(try await db.read { try $0.orders(positionID: position.id) }.first?.status == .rejected)
        #expect(try await db.read { try $0.position(id: position.id) }?.exitReason == .entryFailed)
    }

    @Test func aFailedEntryStartsNoSymbolCooldown() async throws {
        for store in [SQLiteStateStore(try StateDatabase(inMemory: ())) as any StateStore, MemoryStateStore()] {
            let exits = try await store.write { ledger -> [Symbol: Int64] in
                for (symbol, reason) in [(Symbol("BTCUSDT"), ExitReason.entryFailed), ("ETHUSDT", .stopLoss)] {
                    var p = Position(id: 0, symbol: symbol, state: .open, quantity: 0, entryPrice: 1, initialEntryPrice: 1, cost: 0, stopPrice: nil,
                                     takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false,
                                     openedAt: 0, lastCheckedCandle: 0)
                    p.id = try ledger.insertPosition(p)
                    p.state = .closed
                    p.closedAt = 100
                    p.exitReason = reason
                    try ledger.updatePosition(p)
                }
                return try ledger.lastExitBySymbol()
            }
            #expect(exits == ["ETHUSDT": 100], "\(type(of: store))")
        }
    }
}
