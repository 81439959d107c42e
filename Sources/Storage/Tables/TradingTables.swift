import Foundation
import GRDB
import TradingDomain

/// A money column (an INTEGER count of 1e-8 units, see MoneyMigrations) as the kind it holds; NULL or a value that is
/// not an integer is a `CorruptRow`.
func fixed<T: FixedPointValue>(_ row: Row, _ column: String, table: String = "", key: String? = nil) throws -> T {
    guard let value: T = try optionalFixed(row, column, table: table, key: key) else {
        throw CorruptRow(table: table, column: column, key: key, value: nil, expected: "an integer count of 1e-8 units")
    }
    return value
}

/// A nullable money column: NULL is nil, a value that is not an integer is a `CorruptRow`.
func optionalFixed<T: FixedPointValue>(_ row: Row, _ column: String, table: String = "", key: String? = nil) throws -> T? {
    let value: DatabaseValue = row[column]
    switch value.storage {
    case .null: return nil
    case let .int64(raw): return T(raw: raw)
    case let .string(text): throw CorruptRow(table: table, column: column, key: key, value: text, expected: "an integer count of 1e-8 units")
    default: throw CorruptRow(table: table, column: column, key: key, value: value.description, expected: "an integer count of 1e-8 units")
    }
}

/// The `positions` table.
public enum Positions {
    public static func insert(_ db: Database, _ p: Position) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO positions (symbol, state, quantity, entry_price, initial_entry_price, cost, stop_price, take_profit_price,
            highest_price, atr_at_entry, adjustments, partial_take_profit_done, opened_at, last_checked_candle, realized_pnl, fees)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [p.symbol, p.state.rawValue, p.quantity.raw, p.entryPrice.raw, p.initialEntryPrice.raw, p.cost.raw,
                             p.stopPrice?.raw, p.takeProfitPrice?.raw, p.highestPrice?.raw, p.atrAtEntry, p.adjustments,
                             p.partialTakeProfitDone, p.openedAt, p.lastCheckedCandle, p.realizedPnL.raw, p.fees.raw])
        return db.lastInsertedRowID
    }

    public static func update(_ db: Database, _ p: Position) throws {
        try db.cachedStatement(sql: """
            UPDATE positions SET state = ?, quantity = ?, entry_price = ?, initial_entry_price = ?, cost = ?, stop_price = ?,
            take_profit_price = ?, highest_price = ?, atr_at_entry = ?, adjustments = ?, partial_take_profit_done = ?,
            last_checked_candle = ?, closed_at = ?, exit_price = ?, exit_reason = ?, realized_pnl = ?, fees = ? WHERE id = ?
            """).execute(arguments: [p.state.rawValue, p.quantity.raw, p.entryPrice.raw, p.initialEntryPrice.raw, p.cost.raw,
                             p.stopPrice?.raw, p.takeProfitPrice?.raw, p.highestPrice?.raw, p.atrAtEntry, p.adjustments,
                             p.partialTakeProfitDone, p.lastCheckedCandle, p.closedAt, p.exitPrice?.raw, p.exitReason?.rawValue,
                             p.realizedPnL.raw, p.fees.raw, p.id])
    }

    static func position(_ r: Row) throws -> Position {
        let id: Int64 = (try r.decoded("id", table: "positions"))
        func fixed<T: FixedPointValue>(_ r: Row, _ column: String) throws -> T { try Storage.fixed(r, column, table: "positions", key: "\(id)") }
        func optionalFixed<T: FixedPointValue>(_ r: Row, _ column: String) throws -> T? { try Storage.optionalFixed(r, column, table: "positions", key: "\(id)") }
        return try Position(id: id, symbol: (try r.decoded("symbol", table: "positions")), state: try decodeEnum(r, "state", table: "positions", key: "\(id)"),
                        quantity: fixed(r, "quantity"), entryPrice: fixed(r, "entry_price"), initialEntryPrice: fixed(r, "initial_entry_price"),
                        cost: fixed(r, "cost"), stopPrice: optionalFixed(r, "stop_price"), takeProfitPrice: optionalFixed(r, "take_profit_price"),
                        highestPrice: optionalFixed(r, "highest_price"), atrAtEntry: (try r.decoded("atr_at_entry", table: "positions")), adjustments: (try r.decoded("adjustments", table: "positions")),
                        partialTakeProfitDone: (try r.decoded("partial_take_profit_done", table: "positions")), openedAt: (try r.decoded("opened_at", table: "positions")), lastCheckedCandle: (try r.decoded("last_checked_candle", table: "positions")),
                        closedAt: (try r.decoded("closed_at", table: "positions")), exitPrice: optionalFixed(r, "exit_price"), exitReason: try decodeOptionalEnum(r, "exit_reason", table: "positions", key: "\(id)"),
                        realizedPnL: fixed(r, "realized_pnl"), fees: fixed(r, "fees"))
    }

    /// Positions not yet closed, oldest first.
    public static func active(_ db: Database) throws -> [Position] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM positions WHERE state != 'CLOSED' ORDER BY id")).map(position)
    }

    public static func find(_ db: Database, id: Int64) throws -> Position? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM positions WHERE id = ?"), arguments: [id]).map(position)
    }

    /// Closed positions (closed at or after `since`), oldest first.
    public static func closed(_ db: Database, since: Int64 = 0) throws -> [Position] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM positions WHERE state = 'CLOSED' AND closed_at >= ? ORDER BY closed_at, id"), arguments: [since]).map(position)
    }

    /// Time of the newest exit per symbol.
    public static func lastExitBySymbol(_ db: Database) throws -> [Symbol: Int64] {
        var result: [Symbol: Int64] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT symbol, MAX(closed_at) AS t FROM positions WHERE closed_at IS NOT NULL AND COALESCE(exit_reason, '') != 'entry_failed'
            GROUP BY symbol
            """)) {
            result[(try row.decoded("symbol", table: "positions"))] = (try row.decoded("t", table: "positions"))
        }
        return result
    }

    /// Close times of stop-loss exits since `since`.
    public static func stopLossExits(_ db: Database, since: Int64) throws -> [Int64] {
        try firstColumn(db.cachedStatement(sql: "SELECT closed_at FROM positions WHERE exit_reason IN ('stop_loss', 'trailing_stop') AND closed_at >= ? ORDER BY closed_at"),
                        arguments: [since], table: "positions", column: "closed_at")
    }
}

/// A row of the `orders` table.
public struct OrderRow: Sendable, Equatable {
    public var id: Int64
    public var clientOrderID: ClientOrderID
    public var runID: RunID
    public var positionID: Int64?
    public var symbol: Symbol
    public var side: OrderSide
    public var purpose: OrderPurpose
    public var leg: Int
    public var attempt: Int
    public var quantity: Quantity
    public var status: OrderStatus
    public var venueOrderID: String?
    public var filledQuantity: Quantity
    public var averagePrice: Price?
    public var reason: String?
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(id: Int64, clientOrderID: ClientOrderID, runID: RunID, positionID: Int64?, symbol: Symbol, side: OrderSide, purpose: OrderPurpose,
                leg: Int, attempt: Int, quantity: Quantity, status: OrderStatus, venueOrderID: String?, filledQuantity: Quantity,
                averagePrice: Price?, reason: String?, createdAt: Int64, updatedAt: Int64) {
        self.id = id
        self.clientOrderID = clientOrderID
        self.runID = runID
        self.positionID = positionID
        self.symbol = symbol
        self.side = side
        self.purpose = purpose
        self.leg = leg
        self.attempt = attempt
        self.quantity = quantity
        self.status = status
        self.venueOrderID = venueOrderID
        self.filledQuantity = filledQuantity
        self.averagePrice = averagePrice
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The `orders` table. An order is inserted as `PENDING_SUBMIT` in its own committed transaction before it
/// is sent (write-ahead), then updated with the venue's answer.
public enum Orders {
    public static func insertPending(_ db: Database, clientOrderID: ClientOrderID, runID: Int64, positionID: Int64?, symbol: Symbol,
                                     side: OrderSide, purpose: OrderPurpose, leg: Int, attempt: Int, quantity: Quantity,
                                     referencePrice: Price, now: Int64) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO orders (client_order_id, run_id, position_id, symbol, side, type, purpose, leg, attempt, quantity, price, status, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 'MARKET', ?, ?, ?, ?, ?, 'PENDING_SUBMIT', ?, ?)
            """).execute(arguments: [clientOrderID, runID, positionID, symbol, side.rawValue, purpose.rawValue, leg, attempt, quantity.raw,
                             referencePrice.raw, now, now])
        return db.lastInsertedRowID
    }

    public static func update(_ db: Database, clientOrderID: ClientOrderID, status: OrderStatus, venueOrderID: String?, filledQuantity: Quantity?,
                              averagePrice: Price?, reason: String?, now: Int64) throws {
        // Enforced here, where the row is written: a move the status table does not allow changes nothing.
        if let stored = try Row.fetchOne(db.cachedStatement(sql: "SELECT status FROM orders WHERE client_order_id = ?"), arguments: [clientOrderID]) {
            let from: OrderStatus = try decodeEnum(stored, "status", table: "orders", key: clientOrderID.rawValue)
            try OrderStatusTransitions.check(clientOrderID: clientOrderID, from: from, to: status)
        }
        try db.cachedStatement(sql: """
            UPDATE orders SET status = ?, venue_order_id = COALESCE(?, venue_order_id), filled_quantity = COALESCE(?, filled_quantity),
            average_price = COALESCE(?, average_price),
            reason = CASE WHEN ? IS NOT NULL THEN ? WHEN status != ? THEN NULL ELSE reason END, updated_at = ? WHERE client_order_id = ?
            """).execute(arguments: [status.rawValue, venueOrderID, filledQuantity?.raw, averagePrice?.raw, reason, reason, status.rawValue, now,
                             clientOrderID])
    }

    static func order(_ r: Row) throws -> OrderRow {
        let key: String = (try r.decoded("client_order_id", table: "orders"))
        return try OrderRow(id: (try r.decoded("id", table: "orders")), clientOrderID: ClientOrderID(rawValue: key), runID: RunID(rawValue: (try r.decoded("run_id", table: "orders"))), positionID: (try r.decoded("position_id", table: "orders")), symbol: (try r.decoded("symbol", table: "orders")),
                        side: decodeEnum(r, "side", table: "orders", key: key), purpose: decodeEnum(r, "purpose", table: "orders", key: key), leg: (try r.decoded("leg", table: "orders")),
                        attempt: (try r.decoded("attempt", table: "orders")), quantity: fixed(r, "quantity", table: "orders", key: key), status: decodeEnum(r, "status", table: "orders", key: key),
                        venueOrderID: (try r.decoded("venue_order_id", table: "orders")), filledQuantity: fixed(r, "filled_quantity", table: "orders", key: key),
                        averagePrice: optionalFixed(r, "average_price", table: "orders", key: key), reason: (try r.decoded("reason", table: "orders")), createdAt: (try r.decoded("created_at", table: "orders")), updatedAt: (try r.decoded("updated_at", table: "orders")))
    }

    /// Orders whose outcome is not final: pending, unknown, new or partially filled.
    /// Every order, oldest first (tests read the whole table through it).
    static func all(_ db: Database) throws -> [OrderRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM orders ORDER BY id")).map(order)
    }

    public static func unresolved(_ db: Database) throws -> [OrderRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN', 'NEW', 'PARTIALLY_FILLED') ORDER BY id")).map(order)
    }

    /// The order the venue knows by `venueOrderID` (reconciliation matches trades to orders this way).
    public static func find(_ db: Database, venueOrderID: String, symbol: Symbol) throws -> OrderRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM orders WHERE venue_order_id = ? AND symbol = ?"), arguments: [venueOrderID, symbol]).map(order)
    }

    /// See `Ledger.positionOfAdoptedOrders`. (GLOB: a case-sensitive prefix, as `ClientOrderID.parse` reads it.)
    public static func positionOfAdoptedOrders(_ db: Database, naming named: Int64, symbol: Symbol) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: """
            SELECT position_id FROM orders WHERE symbol = ? AND client_order_id GLOB ? AND position_id IS NOT NULL AND position_id <> ?
            ORDER BY id DESC LIMIT 1
            """), arguments: [symbol, "tj-\(named)-*", named])
    }

    public static func find(_ db: Database, clientOrderID: ClientOrderID) throws -> OrderRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM orders WHERE client_order_id = ?"), arguments: [clientOrderID]).map(order)
    }

    /// The highest attempt used for a position's leg (so a retry gets a new, still deterministic id).
    public static func lastAttempt(_ db: Database, positionID: Int64, purpose: OrderPurpose, leg: Int) throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(attempt) FROM orders WHERE position_id = ? AND purpose = ? AND leg = ?"),
                         arguments: [positionID, purpose.rawValue, leg])
    }

    public static func forPosition(_ db: Database, positionID: Int64) throws -> [OrderRow] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM orders WHERE position_id = ? ORDER BY id"), arguments: [positionID]).map(order)
    }
}

/// The `fills` table. A fill is recorded once: (symbol, trade id) is unique, so re-reading the same trade is harmless.
public enum Fills {
    /// Inserts `fill`; returns false when it was already recorded.
    @discardableResult
    public static func insert(_ db: Database, _ fill: Fill, runID: Int64) throws -> Bool {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO fills (client_order_id, trade_id, symbol, side, quantity, price, fee, fee_asset, time, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [fill.clientOrderID, fill.tradeID, fill.symbol, fill.side.rawValue, fill.quantity.raw, fill.price.raw,
                             fill.fee.raw, fill.feeAsset, fill.time, runID])
        return db.changesCount > 0
    }

    public static func forOrder(_ db: Database, clientOrderID: ClientOrderID) throws -> [Fill] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM fills WHERE client_order_id = ? ORDER BY id"), arguments: [clientOrderID]).map(fill)
    }

    static func fill(_ r: Row) throws -> Fill {
        let id: Int64 = (try r.decoded("id", table: "fills")), key = "\(id)"
        return try Fill(clientOrderID: (try r.decoded("client_order_id", table: "fills")), tradeID: (try r.decoded("trade_id", table: "fills")), symbol: (try r.decoded("symbol", table: "fills")), side: decodeEnum(r, "side", table: "fills", key: key),
                        quantity: fixed(r, "quantity", table: "fills", key: key), price: fixed(r, "price", table: "fills", key: key),
                        fee: fixed(r, "fee", table: "fills", key: key), feeAsset: (try r.decoded("fee_asset", table: "fills")), time: (try r.decoded("time", table: "fills")))
    }
}

/// The `wallet` table: free and locked balance per asset (the paper broker's account, or the mirror of the venue's).
public enum Wallet {
    public static func balances(_ db: Database) throws -> [String: Money] {
        var result: [String: Money] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT asset, free FROM wallet")) {
            let asset: String = (try row.decoded("asset", table: "wallet"))
            result[asset] = try fixed(row, "free", table: "wallet", key: asset)
        }
        return result
    }

    public static func set(_ db: Database, asset: String, free: Money) throws {
        try db.execute(sql: "INSERT INTO wallet (asset, free) VALUES (?, ?) ON CONFLICT(asset) DO UPDATE SET free = excluded.free",
                       arguments: [asset, free.raw])
    }

    public static func isEmpty(_ db: Database) throws -> Bool {
        (try firstValue(db.cachedStatement(sql: "SELECT COUNT(*) FROM wallet"), table: "wallet", column: "COUNT(*)") ?? 0) == 0
    }
}

/// The `equity` history: one point per run.
public enum EquityHistory {
    public static func record(_ db: Database, time: Int64, runID: Int64, equity: Money, cash: Money, safeMode: Bool) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO equity (time, run_id, equity, cash, safe_mode) VALUES (?, ?, ?, ?, ?)",
                       arguments: [time, runID, equity.raw, cash.raw, safeMode])
    }

    /// Every point, oldest first.
    public static func all(_ db: Database) throws -> [EquityPoint] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM equity ORDER BY time, run_id")).map {
            try EquityPoint(time: $0["time"], equity: fixed($0, "equity", table: "equity"), cash: fixed($0, "cash", table: "equity"), safeMode: $0["safe_mode"])
        }
    }

    /// The first equity recorded at or after `since`.
    public static func first(_ db: Database, since: Int64) throws -> Money? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT equity FROM equity WHERE time >= ? ORDER BY time, run_id LIMIT 1"), arguments: [since])
            .map { try fixed($0, "equity", table: "equity") }
    }
}
