import Foundation
import GRDB
import Testing
@testable import Storage
import TradingDomain

/// Stored values decode to the domain's enums or fail with a clear error; order rows move only as the status table allows.
@Suite("Typed rows")
struct TypedRowTests {
    let cid = ClientOrderID.make(positionID: 1, purpose: .entry, leg: 0, attempt: 1)
    var id: String { cid.rawValue }

    func databaseWithOrder() throws -> StateDatabase {
        let db = try StateDatabase(inMemory: ())
        try db.writer.write { d in
            try d.execute(sql: "INSERT INTO runs (started_at, config_hash) VALUES (0, 'x')")
            _ = try Orders.insertPending(d, clientOrderID: cid, runID: 1, positionID: nil, symbol: "BTCUSDT", side: .buy, purpose: .entry,
                                         leg: 0, attempt: 1, quantity: 1, referencePrice: 100, now: 0)
        }
        return db
    }

    func corruptRow(_ body: () throws -> Void) -> CorruptRow? {
        do { try body() } catch let error as CorruptRow { return error } catch { return nil }
        return nil
    }

    @Test func anUnknownOrderStatusIsACorruptRowNamingTableRowColumnAndValue() throws {
        let db = try databaseWithOrder()
        try db.writer.write { try $0.execute(sql: "UPDATE orders SET status = 'HALF_FILLED'") }
        let error = corruptRow { _ = try db.writer.read { try Orders.find($0, clientOrderID: cid) } }
        #expect(error?.table == "orders" && error?.column == "status" && error?.key == id && error?.value == "HALF_FILLED")
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("unknown value \"HALF_FILLED\"") && text.contains("expected one of PENDING_SUBMIT, UNKNOWN, NEW"), "\(text)")
        // Every reader of the table fails the same way; nothing is taken as some default.
        #expect(corruptRow { _ = try db.writer.read { try Orders.unresolved($0) } } == nil)  // not selected: not unresolved
        #expect(corruptRow { _ = try db.writer.read { try Orders.all($0) } } != nil)
    }

    @Test func unknownSideAndPurposeAreCorruptRowsToo() throws {
        let db = try databaseWithOrder()
        try db.writer.write { try $0.execute(sql: "UPDATE orders SET side = 'buy'") }
        #expect(corruptRow { _ = try db.writer.read { try Orders.find($0, clientOrderID: cid) } }?.column == "side")
        try db.writer.write { try $0.execute(sql: "UPDATE orders SET side = 'BUY', purpose = 'HEDGE'") }
        #expect(corruptRow { _ = try db.writer.read { try Orders.find($0, clientOrderID: cid) } }?.value == "HEDGE")
    }

    @Test func anUnknownPositionStateOrExitReasonIsACorruptRow() throws {
        let db = try StateDatabase(inMemory: ())
        let p = Position(id: 0, symbol: "ETHUSDT", state: .monitoring, quantity: 1, entryPrice: 10, initialEntryPrice: 10, cost: 10, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        let positionID = try db.writer.write { try Positions.insert($0, p) }
        try db.writer.write { try $0.execute(sql: "UPDATE positions SET state = 'WATCHING'") }
        let state = corruptRow { _ = try db.writer.read { try Positions.active($0) } }
        #expect(state?.table == "positions" && state?.column == "state" && state?.key == "\(positionID)" && state?.value == "WATCHING")
        try db.writer.write { try $0.execute(sql: "UPDATE positions SET state = 'MONITORING', exit_reason = 'panic'") }
        #expect(corruptRow { _ = try db.writer.read { try Positions.find($0, id: positionID) } }?.column == "exit_reason")
        try db.writer.write { try $0.execute(sql: "UPDATE positions SET exit_reason = NULL, quantity = 'lots'") }
        #expect(corruptRow { _ = try db.writer.read { try Positions.find($0, id: positionID) } }?.value == "lots")
    }

    @Test func anUnknownEventKindOrRunOutcomeIsACorruptRow() throws {
        let db = try StateDatabase(inMemory: ())
        try db.writer.write { d in
            try Events.append(d, runID: nil, time: 1, kind: .transition, message: "ok", data: ["to": "CLOSED"])
            try d.execute(sql: "INSERT INTO events (run_id, time, kind, message) VALUES (NULL, 2, 'teleport', 'x')")
            try d.execute(sql: "INSERT INTO runs (started_at, ended_at, config_hash, outcome) VALUES (0, 1, 'x', 'exploded')")
        }
        #expect(try db.writer.read { try Events.ofKind($0, .transition) }.map(\.kind) == [.transition])
        #expect(try db.writer.read { try Events.ofKind($0, .transition) }.first?.fields() == ["to": "CLOSED"])
        #expect(corruptRow { _ = try db.writer.read { try Events.since($0, id: 0) } }?.value == "teleport")
        #expect(corruptRow { _ = try db.writer.read { try Runs.last($0) } }?.value == "exploded")
        #expect(corruptRow { _ = try db.writer.read { try Runs.consecutiveFailures($0) } }?.column == "outcome")
        try db.writer.write { try JobState.set($0, JobStatus.key, "DREAMING") }
        #expect(corruptRow { _ = try db.writer.read { try JobState.status($0) } }?.value == "DREAMING")
    }

    /// A value of the wrong kind in any column (text where a number belongs, a number where text or an enum belongs) is a
    /// `CorruptRow` naming the table, column and value, never a stop of the process (GRDB's subscript would stop it).
    @Test func aValueOfTheWrongKindIsACorruptRowNotACrash() throws {
        let db = try databaseWithOrder()
        let p = Position(id: 0, symbol: "ETHUSDT", state: .monitoring, quantity: 1, entryPrice: 10, initialEntryPrice: 10, cost: 10, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        let positionID = try db.writer.write { try Positions.insert($0, p) }
        try db.writer.write { try $0.execute(sql: "UPDATE positions SET adjustments = 'two'") }
        let adjustments = corruptRow { _ = try db.writer.read { try Positions.active($0) } }
        #expect(adjustments?.table == "positions" && adjustments?.column == "adjustments" && adjustments?.value == "\"two\"", "\(String(describing: adjustments))")
        try db.writer.write { try $0.execute(sql: "UPDATE positions SET adjustments = 0, atr_at_entry = X'00'") }
        #expect(corruptRow { _ = try db.writer.read { try Positions.find($0, id: positionID) } }?.column == "atr_at_entry")
        try db.writer.write { try $0.execute(sql: "UPDATE orders SET side = 5") }
        let side = corruptRow { _ = try db.writer.read { try Orders.find($0, clientOrderID: cid) } }
        #expect(side?.column == "side" && side?.value == "5", "\(String(describing: side))")
        try db.writer.write { d in
            try d.execute(sql: "UPDATE orders SET side = 'BUY'")
            try d.execute(sql: "UPDATE runs SET ended_at = 1, outcome = 'ok', symbols_analysed = 'many'")
        }
        #expect(corruptRow { _ = try db.writer.read { try Runs.consecutiveFailures($0) } }?.column == "symbols_analysed")
        // Every value of the right kind still reads as before.
        try db.writer.write { d in
            try d.execute(sql: "UPDATE positions SET atr_at_entry = 1.5")
            try d.execute(sql: "UPDATE runs SET symbols_analysed = 8")
            try d.execute(sql: "INSERT INTO job_state (key, value) VALUES ('block.drawdown', 7)")  // TEXT affinity: stored as '7'
        }
        #expect(try db.writer.read { try Positions.find($0, id: positionID) }?.atrAtEntry == 1.5)
        #expect(try db.writer.read { try Runs.consecutiveFailures($0) } == 0)
        #expect(try db.writer.read { try JobState.all($0, prefix: "block.") } == ["block.drawdown": "7"])
    }

    @Test func storedTextsOfEarlierVersionsStillDecode() throws {
        let db = try StateDatabase(inMemory: ())
        try db.writer.write { d in
            for (i, kind) in ["fill", "transition", "order_filled", "safe_mode_entered", "llm_breaker_open"].enumerated() {
                try d.execute(sql: "INSERT INTO events (run_id, time, kind, message) VALUES (NULL, ?, ?, 'x')", arguments: [i, kind])
            }
            try d.execute(sql: "INSERT INTO runs (started_at, ended_at, config_hash, outcome) VALUES (0, 1, 'x', 'crashed')")
            try JobState.set(d, "job.state", "SAFE_MODE")
        }
        #expect(try db.writer.read { try Events.since($0, id: 0) }.map(\.kind) == [.fill, .transition, .orderFilled, .safeModeEntered, .llmBreakerOpen])
        #expect(try db.writer.read { try Runs.last($0) }?.outcome == .crashed)
        #expect(try db.writer.read { try JobState.status($0) } == .safeMode)
    }

    @Test func aBackwardStatusMoveChangesNothingInEitherLedger() throws {
        let db = try databaseWithOrder()
        try db.writer.write { d in
            try SQLiteLedger(d).updateOrder(clientOrderID: cid, status: .filled, venueOrderID: "9", filledQuantity: 1, averagePrice: 100, reason: nil, now: 1)
        }
        #expect(throws: IllegalOrderStatusMove(clientOrderID: cid, from: .filled, to: .new)) {
            try db.writer.write { d in
                try SQLiteLedger(d).updateOrder(clientOrderID: cid, status: .new, venueOrderID: nil, filledQuantity: 0, averagePrice: nil, reason: "stale", now: 2)
            }
        }
        let stored = try db.writer.read { try Orders.find($0, clientOrderID: cid) }
        #expect(stored?.status == .filled && stored?.filledQuantity == 1 && stored?.updatedAt == 1 && stored?.reason == nil)

        let memory = MemoryStateStore()
        try memory.writeNow { ledger in
            try ledger.insertPendingOrder(clientOrderID: cid, runID: 1, positionID: nil, symbol: "BTCUSDT", side: .buy, purpose: .entry, leg: 0,
                                          attempt: 1, quantity: 1, referencePrice: 100, now: 0)
            try ledger.updateOrder(clientOrderID: cid, status: .canceled, venueOrderID: nil, filledQuantity: 0, averagePrice: nil, reason: nil, now: 1)
        }
        #expect(throws: IllegalOrderStatusMove(clientOrderID: cid, from: .canceled, to: .partiallyFilled)) {
            try memory.writeNow { ledger in
                try ledger.updateOrder(clientOrderID: cid, status: .partiallyFilled, venueOrderID: nil, filledQuantity: 1, averagePrice: 100, reason: nil, now: 2)
            }
        }
        #expect(try memory.writeNow { try $0.order(clientOrderID: cid) }?.status == .canceled)
    }
}

@Suite("Stored decimals")
struct StoredDecimalTests {
    @Test func equityThatIsNotADecimalIsACorruptRowNotSkipped() throws {
        let db = try StateDatabase(inMemory: ())
        try db.writer.write { d in
            try d.execute(sql: "INSERT INTO runs (started_at, config_hash) VALUES (0, 'x')")
            try EquityHistory.record(d, time: 1, runID: 1, equity: 100, cash: 100, safeMode: false)
            try d.execute(sql: "INSERT INTO equity (time, run_id, equity, cash, safe_mode) VALUES (2, 1, '1e999x', '0', 0)")
            try JobState.set(d, "equity.peak", "lots")
        }
        for read in [{ (d: Database) in _ = try EquityHistory.first(d, since: 2) }, { _ = try SQLiteLedger($0).equityPeak() }] {
            #expect(throws: CorruptRow.self) { try db.writer.read(read) }
        }
        #expect(try db.writer.read { try EquityHistory.first($0, since: 0) } == 100)
    }
}
