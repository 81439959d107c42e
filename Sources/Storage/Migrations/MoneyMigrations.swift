import GRDB
import TradingDomain

/// Money columns from decimal TEXT to INTEGER fixed point: each value becomes its raw count of 1e-8 units
/// (`FixedPoint.scale`). A value with at most 8 decimals is kept exactly; a derived one with more digits (an average
/// entry price, a cost of quantity × price, an equity sum) is rounded half-even. Text that is not a number, or a number
/// out of range, stops the migration (and so the opening of the state) with the table, column, row and value.
/// The tables are rebuilt (SQLite cannot change a column's type), keeping every row, id and index.
enum MoneyMigrations {
    /// A table rebuilt with INTEGER money columns: its new schema, its money columns and its indexes.
    struct Rebuild {
        let table: String
        let schema: String
        let money: [String]
        let indexes: [String]
        var withoutRowID = false
    }

    static let rebuilds: [Rebuild] = [
        Rebuild(table: "positions", schema: """
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            symbol TEXT NOT NULL,
            state TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            entry_price INTEGER NOT NULL,
            initial_entry_price INTEGER NOT NULL,
            cost INTEGER NOT NULL,
            stop_price INTEGER,
            take_profit_price INTEGER,
            highest_price INTEGER,
            atr_at_entry REAL NOT NULL,
            adjustments INTEGER NOT NULL DEFAULT 0,
            partial_take_profit_done INTEGER NOT NULL DEFAULT 0,
            opened_at INTEGER NOT NULL,
            last_checked_candle INTEGER NOT NULL,
            closed_at INTEGER,
            exit_price INTEGER,
            exit_reason TEXT,
            realized_pnl INTEGER NOT NULL DEFAULT 0,
            fees INTEGER NOT NULL DEFAULT 0
            """, money: ["quantity", "entry_price", "initial_entry_price", "cost", "stop_price", "take_profit_price", "highest_price",
                         "exit_price", "realized_pnl", "fees"],
            indexes: ["CREATE INDEX positions_active ON positions(state, symbol)"]),
        Rebuild(table: "orders", schema: """
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            client_order_id TEXT NOT NULL UNIQUE,
            run_id INTEGER NOT NULL,
            position_id INTEGER REFERENCES positions(id),
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            type TEXT NOT NULL,
            purpose TEXT NOT NULL,
            leg INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            price INTEGER,
            status TEXT NOT NULL,
            venue_order_id TEXT,
            filled_quantity INTEGER NOT NULL DEFAULT 0,
            average_price INTEGER,
            reason TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
            """, money: ["quantity", "price", "filled_quantity", "average_price"],
            indexes: ["CREATE INDEX orders_status ON orders(status)"]),
        Rebuild(table: "fills", schema: """
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            client_order_id TEXT NOT NULL,
            trade_id TEXT NOT NULL,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            price INTEGER NOT NULL,
            fee INTEGER NOT NULL,
            fee_asset TEXT NOT NULL,
            time INTEGER NOT NULL,
            run_id INTEGER NOT NULL,
            UNIQUE (symbol, trade_id)
            """, money: ["quantity", "price", "fee"], indexes: []),
        Rebuild(table: "wallet", schema: """
            asset TEXT PRIMARY KEY,
            free INTEGER NOT NULL,
            locked INTEGER NOT NULL DEFAULT 0
            """, money: ["free", "locked"], indexes: []),
        Rebuild(table: "equity", schema: """
            time INTEGER NOT NULL,
            run_id INTEGER NOT NULL,
            equity INTEGER NOT NULL,
            cash INTEGER NOT NULL,
            safe_mode INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (time, run_id)
            """, money: ["equity", "cash"], indexes: []),
        Rebuild(table: "paper_orders", schema: """
            client_order_id TEXT PRIMARY KEY,
            symbol TEXT NOT NULL,
            side TEXT NOT NULL,
            status TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            price INTEGER,
            fee INTEGER,
            fee_asset TEXT,
            trade_id TEXT,
            time INTEGER NOT NULL,
            reason TEXT
            """, money: ["quantity", "price", "fee"], indexes: []),
        Rebuild(table: "venue_symbol_filters", schema: """
            venue TEXT NOT NULL,
            symbol TEXT NOT NULL,
            base_asset TEXT NOT NULL,
            quote_asset TEXT NOT NULL,
            tick_size INTEGER NOT NULL,
            step_size INTEGER NOT NULL,
            min_qty INTEGER NOT NULL,
            min_notional INTEGER NOT NULL,
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (venue, symbol)
            """, money: ["tick_size", "step_size", "min_qty", "min_notional"], indexes: [], withoutRowID: true),
    ]

    /// The `job_state` keys whose values are money (kept as text there, the canonical fixed-point text).
    static let moneyJobStateKeys = ["equity.peak"]

    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6-fixed-point-money") { db in
            for rebuild in rebuilds { try convert(db, rebuild) }
            for key in moneyJobStateKeys {
                guard let text = try String.fetchOne(db, sql: "SELECT value FROM job_state WHERE key = ?", arguments: [key]) else { continue }
                let value = try raw(text, at: "job_state.\(key)")
                try db.execute(sql: "UPDATE job_state SET value = ? WHERE key = ?", arguments: [Money(raw: value).description, key])
            }
        }
    }

    /// The raw value of a stored decimal text, half-even beyond 8 decimals.
    static func raw(_ text: String, at place: @autoclosure () -> String) throws -> Int64 {
        do { return try Money(parsing: text, rounding: .halfEven).raw } catch {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "\(place()): the stored decimal \"\(MessageText.shortened(text))\" cannot be converted to fixed point: \(error)")
        }
    }

    static func convert(_ db: Database, _ r: Rebuild) throws {
        let columns = try db.columns(in: r.table).map(\.name)
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(r.table)")
        try db.execute(sql: "CREATE TABLE \(r.table)_fixed (\(r.schema))\(r.withoutRowID ? " WITHOUT ROWID" : "")")
        let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
        let insert = try db.makeStatement(sql: "INSERT INTO \(r.table)_fixed (\(columns.joined(separator: ", "))) VALUES (\(placeholders))")
        for (index, row) in rows.enumerated() {
            var values: [DatabaseValue] = []
            for column in columns {
                let value: DatabaseValue = row[column]
                if r.money.contains(column), case let .string(text) = value.storage {
                    values.append(try raw(text, at: "\(r.table).\(column), row \(index + 1)").databaseValue)
                } else {
                    values.append(value)
                }
            }
            try insert.execute(arguments: StatementArguments(values))
        }
        try db.execute(sql: "DROP TABLE \(r.table)")
        try db.execute(sql: "ALTER TABLE \(r.table)_fixed RENAME TO \(r.table)")
        for index in r.indexes { try db.execute(sql: index) }
    }
}
