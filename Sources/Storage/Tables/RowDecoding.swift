import GRDB
import TradingDomain

/// A stored value that does not decode: the state database holds something this version never writes (a damaged or
/// hand-edited file, or one written by a newer version). Nothing falls back to a default; the command stops with
/// exit 70 and this message.
public struct CorruptRow: Error, Equatable, CustomStringConvertible {
    public let table: String
    public let column: String
    /// The row's key (id, client order id, …) when known.
    public let key: String?
    public let value: String?
    public let expected: String
    public init(table: String, column: String, key: String?, value: String?, expected: String) {
        self.table = table
        self.column = column
        self.key = key
        self.value = value
        self.expected = expected
    }
    public var description: String {
        "state database: table \(table)\(key.map { " row \($0)" } ?? ""), column \(column): "
            + (value.map { "unknown value \"\($0)\"" } ?? "no value") + ", expected \(expected); nothing was changed"
    }
}

extension Row {
    /// The column's value as `Value` (an optional `Value` reads NULL as nil). A value that does not convert — text in an
    /// INTEGER column, a number out of range, NULL where a value must be, as a damaged or hand-edited file may hold — is
    /// a `CorruptRow` naming the table, column and value: GRDB's subscript would stop the process instead.
    func decoded<Value: DatabaseValueConvertible>(_ column: String, table: String, key: String? = nil) throws -> Value {
        let stored: DatabaseValue = self[column]
        guard let value = Value.fromDatabaseValue(stored) else {
            throw CorruptRow(table: table, column: column, key: key, value: stored.isNull ? nil : stored.description, expected: "\(Value.self)")
        }
        return value
    }
}

/// Decodes an enum column by its raw text; an absent or unknown value is a `CorruptRow` naming the table, row,
/// column, value and the values expected.
func decodeEnum<E: RawRepresentable & CaseIterable>(_ row: Row, _ column: String, table: String, key: String?,
                                                      as type: E.Type = E.self) throws -> E where E.RawValue == String {
    let stored: DatabaseValue = row[column]
    if case let .string(text) = stored.storage, let value = E(rawValue: text) { return value }
    let shown: String? = if case let .string(text) = stored.storage { text } else if stored.isNull { nil } else { stored.description }
    throw CorruptRow(table: table, column: column, key: key, value: shown, expected: "one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
}

/// Like `decodeEnum`, for a nullable column: NULL is nil, an unknown value is a `CorruptRow`.
func decodeOptionalEnum<E: RawRepresentable & CaseIterable>(_ row: Row, _ column: String, table: String, key: String?,
                                                              as type: E.Type = E.self) throws -> E? where E.RawValue == String {
    let stored: DatabaseValue = row[column]
    guard !stored.isNull else { return nil }
    return try decodeEnum(row, column, table: table, key: key, as: type)
}

// The domain's identifiers are stored as their text (TEXT columns, as before they had types of their own).
extension Symbol: DatabaseValueConvertible {}
extension ClientOrderID: DatabaseValueConvertible {}
extension TradeID: DatabaseValueConvertible {}

/// The first column of every row of `statement`, read through `Row` (whose cursor every query uses anyway): GRDB's
/// `Value.fetchAll` instantiates a cursor type per value type, and each first instantiation scans the binary's
/// conformance records (a noticeable cost at a cycle's start). A NULL or a value that does not convert is a
/// `CorruptRow`.
func firstColumn<Value: DatabaseValueConvertible & StatementColumnConvertible>(
    _ statement: Statement, arguments: StatementArguments = StatementArguments(), table: String, column: String
) throws -> [Value] {
    try Row.fetchAll(statement, arguments: arguments).map { row in
        // Through `DatabaseValue`: `Row`'s typed subscript stops the process on a value that does not convert.
        let stored: DatabaseValue = row[0]
        guard !stored.isNull, let value = Value.fromDatabaseValue(stored) else {
            throw CorruptRow(table: table, column: column, key: nil, value: stored.isNull ? nil : stored.description, expected: "\(Value.self)")
        }
        return value
    }
}

/// The first column of the first row of `statement` (nil: no row, or NULL), read through `Row` for the reason given at
/// `firstColumn`; a value that does not convert is a `CorruptRow`.
func firstValue<Value: DatabaseValueConvertible>(
    _ statement: Statement, arguments: StatementArguments = StatementArguments(), table: String, column: String
) throws -> Value? {
    guard let row = try Row.fetchOne(statement, arguments: arguments) else { return nil }
    let stored: DatabaseValue = row[0]
    if stored.isNull { return nil }
    guard let value = Value.fromDatabaseValue(stored) else {
        throw CorruptRow(table: table, column: column, key: nil, value: stored.description, expected: "\(Value.self)")
    }
    return value
}
