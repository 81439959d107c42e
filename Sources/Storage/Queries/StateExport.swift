import Foundation
import GRDB

/// A stored value as it is, for copying a state to another backend (`tradejob migrate-state`).
public enum StoredValue: Sendable, Hashable {
    case int(Int64)
    case double(Double)
    case text(String)
    case null
}

/// One table of the state, every row and column as stored.
public struct ExportedTable: Sendable {
    public var name: String
    public var columns: [String]
    public var rows: [[StoredValue]]
    public init(name: String, columns: [String], rows: [[StoredValue]]) {
        self.name = name
        self.columns = columns
        self.rows = rows
    }
}

extension StateDatabase {
    /// The tables another backend keeps too: everything but GRDB's and SQLite's bookkeeping and the candle block
    /// cache (derived from `candles`).
    public static let exportedTables = [
        "runs", "candles", "signals", "events", "job_state", "counters", "notifications", "llm_opinions", "llm_breakers", "llm_calls",
        "venue_state", "venue_symbol_filters", "positions", "orders", "fills", "wallet", "equity", "paper_orders",
    ]

    /// Every row of the exported tables, in one read transaction (a consistent snapshot).
    public func export() throws -> [ExportedTable] {
        try writer.read { db in
            try Self.exportedTables.map { name in
                let statement = try db.makeStatement(sql: "SELECT * FROM \(name)")
                let columns = statement.columnNames
                var rows: [[StoredValue]] = []
                let cursor = try Row.fetchCursor(statement)
                while let row = try cursor.next() {
                    rows.append((0..<columns.count).map { k in
                        let value: DatabaseValue = row[k]
                        switch value.storage {
                        case let .int64(v): return .int(v)
                        case let .double(v): return .double(v)
                        case let .string(v): return .text(v)
                        case .null: return .null
                        case let .blob(data): return .text(String(decoding: data, as: UTF8.self))
                        }
                    })
                }
                return ExportedTable(name: name, columns: columns, rows: rows)
            }
        }
    }
}
