import Foundation

/// Conversions and rounding for money. Money is always `Decimal`; a `Double` price from market data
/// is converted once, through its shortest decimal representation, so `100.1` stays `100.1`.
public enum Money {
    /// The decimal whose text is the shortest representation of `value` (NaN and infinities give nil).
    public static func decimal(_ value: Double) -> Decimal? {
        guard value.isFinite else { return nil }
        return Decimal(string: "\(value)", locale: Locale(identifier: "en_US_POSIX"))
    }

    /// An analytics value (an ATR distance, say) as a decimal with `scale` decimals, without going through text:
    /// fast, for values that only size or place orders and are rounded anyway. Nil for NaN, infinities and huge values.
    public static func approximate(_ value: Double, scale: Int = 8) -> Decimal? {
        let scaled = (value * pow(10, Double(scale))).rounded()
        guard scaled.isFinite, abs(scaled) < 9e18 else { return nil }
        let units = Int64(scaled)
        return Decimal(sign: units < 0 ? .minus : .plus, exponent: -scale, significand: Decimal(units.magnitude))
    }

    /// Parses a decimal from text (`"12.5"`), nil when it is not a plain decimal number.
    public static func parse(_ text: String) -> Decimal? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty,
              trimmed.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }),
              let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")), !value.isNaN
        else { return nil }
        return value
    }

    /// The canonical text of a decimal, as stored in the database and printed in reports.
    public static func text(_ value: Decimal) -> String { NSDecimalNumber(decimal: value).stringValue }

    /// `value` as a Double, for analytics only.
    public static func double(_ value: Decimal) -> Double { NSDecimalNumber(decimal: value).doubleValue }

    /// Rounds to `scale` decimal places.
    public static func round(_ value: Decimal, scale: Int, _ mode: NSDecimalNumber.RoundingMode = .plain) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, scale, mode)
        return result
    }

    /// Rounds `value` down to a multiple of `step` (quantity to a lot step). A step of 0 leaves it as is.
    public static func floor(_ value: Decimal, toMultipleOf step: Decimal) -> Decimal {
        guard step > 0 else { return value }
        let units = round(value / step, scale: 0, .down)
        return units * step
    }

    /// Rounds `value` to the nearest multiple of `step` (price to a tick). A step of 0 leaves it as is.
    public static func nearest(_ value: Decimal, toMultipleOf step: Decimal) -> Decimal {
        guard step > 0 else { return value }
        let units = round(value / step, scale: 0, .plain)
        return units * step
    }
}
