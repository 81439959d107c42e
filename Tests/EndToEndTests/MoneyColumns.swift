import Foundation

/// Money columns of the state hold INTEGER counts of 1e-8 units (fixed point): what the end-to-end tests, which read
/// the database through the `sqlite3` shell, use to turn them back into exact decimals, and to book a fill's notional
/// the way the job does.
enum MoneyColumn {
    /// The exact decimal of a money column's text (`"150000000"` → 1.5); NaN when it is not an integer.
    static func decimal(_ text: String) -> Decimal {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard Int64(trimmed) != nil, let raw = Decimal(string: trimmed) else { return .nan }
        return raw / 100_000_000
    }

    /// Quantity × price as the job books it: rounded half-even to 8 decimals.
    static func notional(_ quantity: Decimal, _ price: Decimal) -> Decimal {
        var product = quantity * price, rounded = Decimal()
        NSDecimalRound(&rounded, &product, 8, .bankers)
        return rounded
    }
}
