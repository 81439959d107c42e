import Foundation

/// Conversions and rounding for `Decimal` money (being replaced by the fixed-point types of FixedPoint.swift).
extension Money {
    /// The decimal whose text is the shortest representation of `value` (NaN and infinities give nil).
    public static func decimal(_ value: Double) -> Decimal? {
        guard value.isFinite else { return nil }
        let text = value.description
        return plainDecimal(text) ?? Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }

    /// A decimal from plain ASCII text `[-]digits[.digits][e[±]digits]` with at most 18 significant digits, built from
    /// its integer significand and exponent (the general parser goes through a locale and is slow); nil for anything else.
    static func plainDecimal(_ text: String) -> Decimal? {
        plainDecimal(text, syntaxOnly: false).value
    }

    /// Validates the plain syntax (and builds the value when it has at most 18 significant digits).
    static func plainDecimal(_ text: String, syntaxOnly: Bool) -> (valid: Bool, value: Decimal?) {
        var significand: UInt64 = 0, exponent = 0, significant = 0
        var negative = false, seenDot = false, seenDigit = false
        var exponentPart: Int?, exponentNegative = false, exponentSigned = false, exponentDigits = 0
        var first = true
        for byte in text.utf8 {
            defer { first = false }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let d = UInt64(byte - UInt8(ascii: "0"))
                if var e = exponentPart {
                    guard exponentDigits < 4 else { return (false, nil) }
                    e = e * 10 + Int(d)
                    exponentPart = e
                    exponentDigits += 1
                } else {
                    seenDigit = true
                    if significand > 0 || d > 0 { significant += 1 }
                    if significant <= 18 { significand = significand * 10 + d }
                    if seenDot { exponent -= 1 }
                }
            case UInt8(ascii: "-") where first:
                negative = true
            case UInt8(ascii: "-") where exponentPart == 0 && exponentDigits == 0 && !exponentSigned:
                exponentNegative = true
                exponentSigned = true
            case UInt8(ascii: "+") where exponentPart == 0 && exponentDigits == 0 && !exponentSigned:
                exponentSigned = true
            case UInt8(ascii: ".") where !seenDot && exponentPart == nil:
                seenDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard seenDigit, exponentPart == nil else { return (false, nil) }
                exponentPart = 0
            default:
                return (false, nil)
            }
        }
        guard seenDigit, exponentPart == nil || exponentDigits > 0 else { return (false, nil) }
        exponent += (exponentNegative ? -1 : 1) * (exponentPart ?? 0)
        guard !syntaxOnly, significant <= 18, abs(exponent) < 100 else { return (true, nil) }
        return (true, Decimal(sign: negative && significand != 0 ? .minus : .plus, exponent: exponent, significand: Decimal(significand)))
    }

    /// An analytics value (an ATR distance, say) as a decimal with `scale` decimals, without going through text:
    /// fast, for values that only size or place orders and are rounded anyway. Nil for NaN, infinities and huge values.
    public static func approximate(_ value: Double, scale: Int = 8) -> Decimal? {
        let scaled = (value * pow(10, Double(scale))).rounded()
        guard scaled.isFinite, abs(scaled) < 9e18 else { return nil }
        let units = Int64(scaled)
        return Decimal(sign: units < 0 ? .minus : .plus, exponent: -scale, significand: Decimal(units.magnitude))
    }

    /// Whether `text` is a plain number: an optional leading `-`, digits with at most one `.` (at least one digit), and
    /// an optional exponent `e`/`E`, an optional sign and 1–4 digits. Nothing else: no `+` in front, no second sign,
    /// no spaces, no hexadecimal, no `inf`/`nan`. The one syntax for decimals in the configuration, its environment
    /// overrides and OHLCV CSV numbers.
    public static func hasPlainNumberSyntax(_ text: String) -> Bool {
        plainDecimal(text, syntaxOnly: true).valid
    }

    /// Parses a decimal from text (`"12.5"`, surrounding spaces ignored), nil when it is not a plain decimal number
    /// (see `hasPlainNumberSyntax`).
    public static func parse(_ text: String) -> Decimal? {
        if let fast = plainDecimal(text) { return fast }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let plain = plainDecimal(trimmed, syntaxOnly: false)
        if let value = plain.value { return value }
        guard plain.valid,
              let value = Decimal(string: trimmed, locale: Locale(identifier: "en_US_POSIX")), !value.isNaN
        else { return nil }
        return value
    }

    /// The canonical text of a decimal, as stored in the database and printed in reports.
    public static func text(_ value: Decimal) -> String { NSDecimalNumber(decimal: value).stringValue }

    /// Whether `Money.decimal` turns `value` into a decimal equal to it within 1e-15 relative (0, or a magnitude within
    /// 1e-100…1e100): where binary shortcuts may stand in for the decimal arithmetic.
    public static func keepsInDecimal(_ value: Double) -> Bool {
        value == 0 || (value.isFinite && abs(value) >= 1e-100 && abs(value) <= 1e100)
    }

    /// `value` as a Double, for analytics only.
    public static func double(_ value: Decimal) -> Double {
        if DecimalBits.layoutChecked, let d = DecimalBits.double(value) { return d }
        return NSDecimalNumber(decimal: value).doubleValue
    }

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

/// Decimal → Double without allocating an `NSDecimalNumber`: the value's bytes read as Foundation lays them out (an
/// 8-bit exponent, then length and sign bits, then eight 16-bit mantissa words) and converted with the very arithmetic
/// Foundation uses, so the result is the same double. Used only when a check at first use confirms the layout.
enum DecimalBits {
    /// Whether the layout is the expected one: known values convert to Foundation's doubles.
    static let layoutChecked: Bool = {
        guard MemoryLayout<Decimal>.size == 20 else { return false }
        let samples = ["123.456", "-0.001", "0", "1e20", "79228162514264337593543950335", "-1.5e-30", "42", "0.1"].compactMap { Decimal(string: $0) }
        return samples.count == 8 && (samples + [Decimal.nan, Decimal(1) / 3, Decimal(-2) / 7]).allSatisfy { value in
            let expected = NSDecimalNumber(decimal: value).doubleValue
            guard let got = double(value) else { return false }
            return got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN)
        }
    }()

    static func double(_ value: Decimal) -> Double? {
        withUnsafeBytes(of: value) { raw -> Double? in
            guard raw.count == 20 else { return nil }
            let exponent = Int(Int8(bitPattern: raw[0]))
            let flags = raw[1]
            let length = Int(flags >> 4), negative = flags & 0x08 != 0
            if length == 0 { return negative ? .nan : 0 }
            var d = 0.0
            var k = min(length, 8) - 1
            while k >= 0 {
                d = d * 65536 + Double(UInt16(raw[4 + 2 * k]) | UInt16(raw[5 + 2 * k]) << 8)
                k -= 1
            }
            // One step of ten at a time, as Foundation does (a single power of ten would round differently).
            if exponent < 0 { for _ in exponent..<0 { d /= 10 } } else { for _ in 0..<exponent { d *= 10 } }
            return negative ? -d : d
        }
    }
}
