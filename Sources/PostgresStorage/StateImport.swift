import Foundation
import PostgresNIO
import Storage

extension PostgresState {
    /// Columns that are BOOLEAN here and INTEGER 0/1 in SQLite.
    static let booleanColumns: Set<String> = ["positions.partial_take_profit_done", "equity.safe_mode", "llm_calls.from_cache", "llm_calls.usage_implausible"]
    /// Tables whose `id` is a BIGSERIAL: its sequence continues after the copied ids.
    static let serialTables = ["runs", "signals", "events", "llm_calls", "positions", "orders", "fills"]

    /// Copies `tables` (a SQLite state's `export`) into this account, in one transaction, and returns the rows copied
    /// per table. Refused when the account already holds a run or a balance: a copy never mixes two states.
    public func importState(_ tables: [ExportedTable], files: [String: String], now: Int64) throws -> [String: Int] {
        try transaction(readOnly: false) { ledger in
            let session = ledger.session
            let holds = try session.query("SELECT (SELECT COUNT(*) FROM runs) + (SELECT COUNT(*) FROM wallet) AS n").first?.int64("n", table: "runs") ?? 0
            guard holds == 0 else {
                throw PostgresStateError(message: "account \(address.account) on \(address.redacted) already holds a state (runs or a wallet); nothing was copied — choose a new state.account")
            }
            var copied: [String: Int] = [:]
            for table in tables {
                let width = table.columns.count
                guard width > 0 else { continue }
                let perStatement = max(1, 30_000 / width)
                var start = 0
                while start < table.rows.count {
                    let chunk = table.rows[start..<min(start + perStatement, table.rows.count)]
                    // Names quoted: the columns are whatever the source file's tables hold.
                    var sql = "INSERT INTO \(PostgresSchema.quoteIdentifier(table.name)) (\(table.columns.map(PostgresSchema.quoteIdentifier).joined(separator: ", "))) VALUES "
                    var binds: [SQLValue] = []
                    binds.reserveCapacity(chunk.count * width)
                    for (k, row) in chunk.enumerated() {
                        sql += (k == 0 ? "(" : ", (") + (0..<width).map { "$\(k * width + $0 + 1)" }.joined(separator: ", ") + ")"
                        for (c, value) in row.enumerated() {
                            binds.append(try Self.bind(value, column: "\(table.name).\(table.columns[c])"))
                        }
                    }
                    try session.query(sql, binds)
                    start += perStatement
                }
                copied[table.name] = table.rows.count
            }
            for table in Self.serialTables {
                try session.query("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE((SELECT MAX(id) FROM \(table)), 0) + 1, false)")
            }
            for (name, content) in files {
                try session.query("INSERT INTO state_files (name, content, updated_at) VALUES ($1, $2, $3)", [.text(name), .text(content), .int(now)])
            }
            return copied
        }
    }

    static func bind(_ value: StoredValue, column: String) throws -> SQLValue {
        switch value {
        case let .int(v): return booleanColumns.contains(column) ? .bool(v != 0) : .int(v)
        case let .double(v): return .double(v)
        case let .text(v): return .text(v)
        case .null: return .null
        }
    }

    /// Every row of `table` as stored values (booleans as 0/1, as SQLite keeps them), for comparing a copy with its source.
    public func storedRows(_ table: String, columns: [String]) throws -> [[StoredValue]] {
        let list = columns.map { column in
            Self.booleanColumns.contains("\(table).\(column)") ? "(CASE WHEN \(column) THEN 1 ELSE 0 END)::BIGINT AS \(column)" : column
        }.joined(separator: ", ")
        return try transaction(readOnly: true) { ledger in
            try ledger.session.query("SELECT \(list) FROM \(table)").map { row in try row.storedValues(columns) }
        }
    }
}

extension SQLRow {
    /// The columns as stored values: whichever of integer, double or text the column holds.
    func storedValues(_ columns: [String]) throws -> [StoredValue] {
        try columns.map { column in
            let cell = row[column]
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
            case .float8, .float4: return .double(try cell.decode(Double.self))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}
