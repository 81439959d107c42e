import Foundation
import GRDB
import TradingDomain

extension Decimal {
    /// The database text of a decimal.
    var dbText: String { Money.text(self) }
}

/// A stored decimal; NULL or text that is not a decimal is a `CorruptRow`.
func decimal(_ row: Row, _ column: String, table: String = "", key: String? = nil) throws -> Decimal {
    let text: String? = row[column]
    guard let value = text.flatMap(Money.parse) else {
        throw CorruptRow(table: table, column: column, key: key, value: text, expected: "a decimal number")
    }
    return value
}

/// A stored decimal or NULL; text that is not a decimal is a `CorruptRow`.
func optionalDecimal(_ row: Row, _ column: String, table: String = "", key: String? = nil) throws -> Decimal? {
    let text: String? = row[column]
    guard text != nil else { return nil }
    return try decimal(row, column, table: table, key: key)
}

/// The `positions` table.
public enum Positions {
    public static func insert(_ db: Database, _ p: Position) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO positions (symbol, state, quantity, entry_price, initial_entry_price, cost, stop_price, take_profit_price,
            highest_price, atr_at_entry, adjustments, partial_take_profit_done, opened_at, last_checked_candle, realized_pnl, fees)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [p.symbol, p.state.rawValue, p.quantity.dbText, p.entryPrice.dbText, p.initialEntryPrice.dbText, p.cost.dbText,
                             p.stopPrice?.dbText, p.takeProfitPrice?.dbText, p.highestPrice?.dbText, p.atrAtEntry, p.adjustments,
                             p.partialTakeProfitDone, p.openedAt, p.lastCheckedCandle, p.realizedPnL.dbText, p.fees.dbText])
        return db.lastInsertedRowID
    }

    public static func update(_ db: Database, _ p: Position) throws {
        try db.execute(sql: """
            UPDATE positions SET state = ?, quantity = ?, entry_price = ?, initial_entry_price = ?, cost = ?, stop_price = ?,
            take_profit_price = ?, highest_price = ?, atr_at_entry = ?, adjustments = ?, partial_take_profit_done = ?,
            last_checked_candle = ?, closed_at = ?, exit_price = ?, exit_reason = ?, realized_pnl = ?, fees = ? WHERE id = ?
            """, arguments: [p.state.rawValue, p.quantity.dbText, p.entryPrice.dbText, p.initialEntryPrice.dbText, p.cost.dbText,
                             p.stopPrice?.dbText, p.takeProfitPrice?.dbText, p.highestPrice?.dbText, p.atrAtEntry, p.adjustments,
                             p.partialTakeProfitDone, p.lastCheckedCandle, p.closedAt, p.exitPrice?.dbText, p.exitReason?.rawValue,
                             p.realizedPnL.dbText, p.fees.dbText, p.id])
    }

    static func position(_ r: Row) throws -> Position {
        let id: Int64 = r["id"]
        func decimal(_ r: Row, _ column: String) throws -> Decimal { try Storage.decimal(r, column, table: "positions", key: "\(id)") }
        func optionalDecimal(_ r: Row, _ column: String) throws -> Decimal? { try Storage.optionalDecimal(r, column, table: "positions", key: "\(id)") }
        return try Position(id: id, symbol: r["symbol"], state: try decodeEnum(r, "state", table: "positions", key: "\(id)"),
                        quantity: decimal(r, "quantity"), entryPrice: decimal(r, "entry_price"), initialEntryPrice: decimal(r, "initial_entry_price"),
                        cost: decimal(r, "cost"), stopPrice: optionalDecimal(r, "stop_price"), takeProfitPrice: optionalDecimal(r, "take_profit_price"),
                        highestPrice: optionalDecimal(r, "highest_price"), atrAtEntry: r["atr_at_entry"], adjustments: r["adjustments"],
                        partialTakeProfitDone: r["partial_take_profit_done"], openedAt: r["opened_at"], lastCheckedCandle: r["last_checked_candle"],
                        closedAt: r["closed_at"], exitPrice: optionalDecimal(r, "exit_price"), exitReason: try decodeOptionalEnum(r, "exit_reason", table: "positions", key: "\(id)"),
                        realizedPnL: decimal(r, "realized_pnl"), fees: decimal(r, "fees"))
    }

    /// Positions not yet closed, oldest first.
    public static func active(_ db: Database) throws -> [Position] {
        try Row.fetchAll(db, sql: "SELECT * FROM positions WHERE state != 'CLOSED' ORDER BY id").map(position)
    }

    public static func find(_ db: Database, id: Int64) throws -> Position? {
        try Row.fetchOne(db, sql: "SELECT * FROM positions WHERE id = ?", arguments: [id]).map(position)
    }

    /// Closed positions (closed at or after `since`), oldest first.
    public static func closed(_ db: Database, since: Int64 = 0) throws -> [Position] {
        try Row.fetchAll(db, sql: "SELECT * FROM positions WHERE state = 'CLOSED' AND closed_at >= ? ORDER BY closed_at, id", arguments: [since]).map(position)
    }

    /// Time of the newest exit per symbol.
    public static func lastExitBySymbol(_ db: Database) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT symbol, MAX(closed_at) AS t FROM positions WHERE closed_at IS NOT NULL AND COALESCE(exit_reason, '') != 'entry_failed'
            GROUP BY symbol
            """) {
            result[row["symbol"]] = row["t"]
        }
        return result
    }

    /// Close times of stop-loss exits since `since`.
    public static func stopLossExits(_ db: Database, since: Int64) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT closed_at FROM positions WHERE exit_reason IN ('stop_loss', 'trailing_stop') AND closed_at >= ? ORDER BY closed_at", arguments: [since])
    }
}

/// A row of the `orders` table.
public struct OrderRow: Sendable, Equatable {
    public var id: Int64
    public var clientOrderID: ClientOrderID
    public var runID: RunID
    public var positionID: Int64?
    public var symbol: String
    public var side: OrderSide
    public var purpose: OrderPurpose
    public var leg: Int
    public var attempt: Int
    public var quantity: Decimal
    public var status: OrderStatus
    public var venueOrderID: String?
    public var filledQuantity: Decimal
    public var averagePrice: Decimal?
    public var reason: String?
    public var createdAt: Int64
    public var updatedAt: Int64
}

/// The `orders` table. An order is inserted as `PENDING_SUBMIT` in its own committed transaction before it
/// is sent (write-ahead), then updated with the venue's answer.
public enum Orders {
    public static func insertPending(_ db: Database, clientOrderID: String, runID: Int64, positionID: Int64?, symbol: String,
                                     side: OrderSide, purpose: OrderPurpose, leg: Int, attempt: Int, quantity: Decimal,
                                     referencePrice: Decimal, now: Int64) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO orders (client_order_id, run_id, position_id, symbol, side, type, purpose, leg, attempt, quantity, price, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 'MARKET', ?, ?, ?, ?, ?, 'PENDING_SUBMIT', ?, ?)
            """, arguments: [clientOrderID, runID, positionID, symbol, side.rawValue, purpose.rawValue, leg, attempt, quantity.dbText,
                             referencePrice.dbText, now, now])
        return db.lastInsertedRowID
    }

    public static func update(_ db: Database, clientOrderID: String, status: OrderStatus, venueOrderID: String?, filledQuantity: Decimal?,
                              averagePrice: Decimal?, reason: String?, now: Int64) throws {
        // Enforced here, where the row is written: a move the status table does not allow changes nothing.
        if let stored = try Row.fetchOne(db, sql: "SELECT status FROM orders WHERE client_order_id = ?", arguments: [clientOrderID]) {
            let from: OrderStatus = try decodeEnum(stored, "status", table: "orders", key: clientOrderID)
            try OrderStatusTransitions.check(clientOrderID: ClientOrderID(rawValue: clientOrderID), from: from, to: status)
        }
        try db.execute(sql: """
            UPDATE orders SET status = ?, venue_order_id = COALESCE(?, venue_order_id), filled_quantity = COALESCE(?, filled_quantity),
            average_price = COALESCE(?, average_price),
            reason = CASE WHEN ? IS NOT NULL THEN ? WHEN status != ? THEN NULL ELSE reason END, updated_at = ? WHERE client_order_id = ?
            """, arguments: [status.rawValue, venueOrderID, filledQuantity?.dbText, averagePrice?.dbText, reason, reason, status.rawValue, now,
                             clientOrderID])
    }

    static func order(_ r: Row) throws -> OrderRow {
        let key: String = r["client_order_id"]
        return try OrderRow(id: r["id"], clientOrderID: ClientOrderID(rawValue: key), runID: RunID(rawValue: r["run_id"]), positionID: r["position_id"], symbol: r["symbol"],
                        side: decodeEnum(r, "side", table: "orders", key: key), purpose: decodeEnum(r, "purpose", table: "orders", key: key), leg: r["leg"],
                        attempt: r["attempt"], quantity: decimal(r, "quantity", table: "orders", key: key), status: decodeEnum(r, "status", table: "orders", key: key),
                        venueOrderID: r["venue_order_id"], filledQuantity: decimal(r, "filled_quantity", table: "orders", key: key),
                        averagePrice: optionalDecimal(r, "average_price", table: "orders", key: key), reason: r["reason"], createdAt: r["created_at"], updatedAt: r["updated_at"])
    }

    /// Orders whose outcome is not final: pending, unknown, new or partially filled.
    /// Every order, oldest first (tests read the whole table through it).
    static func all(_ db: Database) throws -> [OrderRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM orders ORDER BY id").map(order)
    }

    public static func unresolved(_ db: Database) throws -> [OrderRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN', 'NEW', 'PARTIALLY_FILLED') ORDER BY id").map(order)
    }

    /// The order the venue knows by `venueOrderID` (reconciliation matches trades to orders this way).
    public static func find(_ db: Database, venueOrderID: String, symbol: String) throws -> OrderRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE venue_order_id = ? AND symbol = ?", arguments: [venueOrderID, symbol]).map(order)
    }

    public static func find(_ db: Database, clientOrderID: String) throws -> OrderRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE client_order_id = ?", arguments: [clientOrderID]).map(order)
    }

    /// The highest attempt used for a position's leg (so a retry gets a new, still deterministic id).
    public static func lastAttempt(_ db: Database, positionID: Int64, purpose: OrderPurpose, leg: Int) throws -> Int? {
        try Int.fetchOne(db, sql: "SELECT MAX(attempt) FROM orders WHERE position_id = ? AND purpose = ? AND leg = ?",
                         arguments: [positionID, purpose.rawValue, leg])
    }

    public static func forPosition(_ db: Database, positionID: Int64) throws -> [OrderRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM orders WHERE position_id = ? ORDER BY id", arguments: [positionID]).map(order)
    }
}

/// The `fills` table. A fill is recorded once: (symbol, trade id) is unique, so re-reading the same trade is harmless.
public enum Fills {
    /// Inserts `fill`; returns false when it was already recorded.
    @discardableResult
    public static func insert(_ db: Database, _ fill: Fill, runID: Int64) throws -> Bool {
        try db.execute(sql: """
            INSERT OR IGNORE INTO fills (client_order_id, trade_id, symbol, side, quantity, price, fee, fee_asset, time, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [fill.clientOrderID, fill.tradeID, fill.symbol, fill.side.rawValue, fill.quantity.dbText, fill.price.dbText,
                             fill.fee.dbText, fill.feeAsset, fill.time, runID])
        return db.changesCount > 0
    }

    public static func forOrder(_ db: Database, clientOrderID: String) throws -> [Fill] {
        try Row.fetchAll(db, sql: "SELECT * FROM fills WHERE client_order_id = ? ORDER BY id", arguments: [clientOrderID]).map(fill)
    }

    static func fill(_ r: Row) throws -> Fill {
        let id: Int64 = r["id"], key = "\(id)"
        return try Fill(clientOrderID: r["client_order_id"], tradeID: r["trade_id"], symbol: r["symbol"], side: decodeEnum(r, "side", table: "fills", key: key),
                        quantity: decimal(r, "quantity", table: "fills", key: key), price: decimal(r, "price", table: "fills", key: key),
                        fee: decimal(r, "fee", table: "fills", key: key), feeAsset: r["fee_asset"], time: r["time"])
    }
}

/// The `wallet` table: free and locked balance per asset (the paper broker's account, or the mirror of the venue's).
public enum Wallet {
    public static func balances(_ db: Database) throws -> [String: Decimal] {
        var result: [String: Decimal] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT asset, free FROM wallet") {
            let asset: String = row["asset"]
            result[asset] = try decimal(row, "free", table: "wallet", key: asset)
        }
        return result
    }

    public static func set(_ db: Database, asset: String, free: Decimal) throws {
        try db.execute(sql: "INSERT INTO wallet (asset, free) VALUES (?, ?) ON CONFLICT(asset) DO UPDATE SET free = excluded.free",
                       arguments: [asset, free.dbText])
    }

    public static func isEmpty(_ db: Database) throws -> Bool {
        (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM wallet") ?? 0) == 0
    }
}

/// The `equity` history: one point per run.
public enum EquityHistory {
    public static func record(_ db: Database, time: Int64, runID: Int64, equity: Decimal, cash: Decimal, safeMode: Bool) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO equity (time, run_id, equity, cash, safe_mode) VALUES (?, ?, ?, ?, ?)",
                       arguments: [time, runID, equity.dbText, cash.dbText, safeMode])
    }

    /// Every point, oldest first.
    public static func all(_ db: Database) throws -> [EquityPoint] {
        try Row.fetchAll(db, sql: "SELECT * FROM equity ORDER BY time, run_id").map {
            try EquityPoint(time: $0["time"], equity: decimal($0, "equity", table: "equity"), cash: decimal($0, "cash", table: "equity"), safeMode: $0["safe_mode"])
        }
    }

    /// The first equity recorded at or after `since`.
    public static func first(_ db: Database, since: Int64) throws -> Decimal? {
        try Row.fetchOne(db, sql: "SELECT equity FROM equity WHERE time >= ? ORDER BY time, run_id LIMIT 1", arguments: [since])
            .map { try decimal($0, "equity", table: "equity") }
    }
}
