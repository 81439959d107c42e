/// Exact money as integers: `Price`, `Quantity`, `Money` and the dimensionless `Fixed`, each an `Int64` count of
/// 1e-8 units (one global scale).
///
/// Why 1e8 and `Int64`: every Binance spot price, quantity and filter string has at most 8 decimals, so exchange text
/// parses exactly; an `Int64` is what SQLite's INTEGER and PostgreSQL's BIGINT store; the range ±92,233,720,368.54775807
/// covers a small-server account (prices, quantities and cash up to ~92 billion). Products and quotients go through
/// 128-bit intermediates, so `a × b ÷ c` is exact before its one named rounding; overflow and division by zero are
/// thrown (`FixedPointError`), never traps.
public enum FixedPoint {
    /// Decimals after the point.
    public static let decimals = 8
    /// Raw units per 1: 10^8.
    public static let scale: Int64 = 100_000_000
}

/// How a result that is not a multiple of 1e-8 (or of a step) is rounded. Named at every call: toward zero or down to
/// a step for quantities, half-even for accounting, by side for stop prices.
public enum FixedRounding: Sendable, Hashable, CaseIterable {
    /// Drop the rest (truncate): 1.5 → 1, -1.5 → -1.
    case towardZero
    /// Floor: 1.5 → 1, -1.5 → -2.
    case down
    /// Ceiling: 1.5 → 2, -1.5 → -1.
    case up
    /// To nearest, ties to the even neighbour (banker's rounding): 0.5 → 0, 1.5 → 2, -2.5 → -2.
    case halfEven
    /// To nearest, ties away from zero: 0.5 → 1, -0.5 → -1.
    case halfAwayFromZero
}

/// A fixed-point operation that has no result in range, or input text that is not a number.
public enum FixedPointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The result is outside ±92,233,720,368.54775807.
    case overflow
    /// A division by zero (or a zero step).
    case divisionByZero
    /// The text is not a plain number (`[-]digits[.digits][e[±]digits]`).
    case notANumber(String)
    /// The text has more than 8 decimals and no rounding was named.
    case tooManyDecimals(String)
    /// A `Double` that is NaN or infinite.
    case notFinite

    public var description: String {
        switch self {
        case .overflow: "out of range (at most ±92233720368.54775807)"
        case .divisionByZero: "division by zero"
        case .notANumber(let text): "not a number: \"\(MessageText.shortened(text))\""
        case .tooManyDecimals(let text): "more than 8 decimals: \"\(MessageText.shortened(text))\""
        case .notFinite: "not a finite number"
        }
    }
}

/// A value stored as an `Int64` count of 1e-8 units. `Price`, `Quantity`, `Money` and `Fixed` conform; mixing kinds
/// goes through the typed operations (price × quantity → money, …).
public protocol FixedPointValue: Sendable, Hashable, Comparable, CustomStringConvertible, Codable, ExpressibleByIntegerLiteral {
    /// The count of 1e-8 units.
    var raw: Int64 { get }
    init(raw: Int64)
}

extension FixedPointValue {
    public static var zero: Self { Self(raw: 0) }

    /// A whole number written in the source (`10`, `10_000`): out of range is a programming error.
    public init(integerLiteral value: Int64) { self.init(raw: value * FixedPoint.scale) }

    /// A whole number, exact (nil when out of range).
    public init?(exactly integer: Int) {
        let (raw, overflow) = Int64(integer).multipliedReportingOverflow(by: FixedPoint.scale)
        guard !overflow else { return nil }
        self.init(raw: raw)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.raw < rhs.raw }


    /// The canonical text: no exponent, no trailing zeros (`"0.001"`, `"-2.5"`, `"100"`, `"0"`).
    public var description: String { FixedPointText.format(raw) }

    /// The one conversion from a `Double` (a candle price, an ATR distance, a fraction from the configuration): the
    /// shortest decimal text of `value` rounded half-even to 1e-8, so `100.1` is exactly 100.1. Throws for NaN,
    /// infinities and out-of-range values. (Inlinable: the backtest converts a close at every cycle, and a generic call
    /// from another module costs about as much as the conversion.)
    @inlinable
    public init(double value: Double) throws(FixedPointError) {
        self.init(raw: try FixedPointText.raw(fromDouble: value))
    }

    /// `self × numerator ÷ denominator` of any kinds, exact before one rounding (a risk amount × price ÷ stop distance).
    public func multiplied<N: FixedPointValue, D: FixedPointValue>(by numerator: N, dividedBy denominator: D,
                                                                   _ rounding: FixedRounding) throws(FixedPointError) -> Self {
        Self(raw: try FixedPointMath.multiplyDivide(raw, numerator.raw, denominator.raw, rounding))
    }

    /// The value as a `Double`, for analytics only (the nearest double to raw ÷ 10^8 when |raw| ≤ 2^53).
    public var double: Double { Double(raw) / Double(FixedPoint.scale) }

    // MARK: Checked arithmetic of one kind

    public static func + (lhs: Self, rhs: Self) throws(FixedPointError) -> Self {
        let (raw, overflow) = lhs.raw.addingReportingOverflow(rhs.raw)
        guard !overflow else { throw .overflow }
        return Self(raw: raw)
    }

    public static func - (lhs: Self, rhs: Self) throws(FixedPointError) -> Self {
        let (raw, overflow) = lhs.raw.subtractingReportingOverflow(rhs.raw)
        guard !overflow else { throw .overflow }
        return Self(raw: raw)
    }

    public static prefix func - (value: Self) throws(FixedPointError) -> Self {
        guard value.raw != .min else { throw .overflow }
        return Self(raw: -value.raw)
    }

    /// The magnitude (throws only for the one value whose magnitude is out of range).
    public func magnitude() throws(FixedPointError) -> Self { raw < 0 ? try -self : self }

    /// `self × count`, exact.
    public func times(_ count: Int) throws(FixedPointError) -> Self {
        let (raw, overflow) = raw.multipliedReportingOverflow(by: Int64(count))
        guard !overflow else { throw .overflow }
        return Self(raw: raw)
    }

    /// `self × factor`, rounded (a fee rate, a fraction, a multiple).
    public func multiplied(by factor: Fixed, _ rounding: FixedRounding) throws(FixedPointError) -> Self {
        Self(raw: try FixedPointMath.multiplyDivide(raw, factor.raw, FixedPoint.scale, rounding))
    }

    /// `self ÷ divisor`, rounded.
    public func divided(by divisor: Fixed, _ rounding: FixedRounding) throws(FixedPointError) -> Self {
        Self(raw: try FixedPointMath.multiplyDivide(raw, FixedPoint.scale, divisor.raw, rounding))
    }

    /// `self ÷ other` as a dimensionless ratio, rounded (a return, a share of equity).
    public func ratio(to other: Self, _ rounding: FixedRounding) throws(FixedPointError) -> Fixed {
        Fixed(raw: try FixedPointMath.multiplyDivide(raw, FixedPoint.scale, other.raw, rounding))
    }

    /// The multiple of `step` next to `self` in the direction `rounding` names (a quantity down to the lot step, a
    /// price to the tick). A step of zero or less leaves the value as it is.
    public func rounded(toMultipleOf step: Self, _ rounding: FixedRounding) throws(FixedPointError) -> Self {
        guard step.raw > 0 else { return self }
        let units = try FixedPointMath.multiplyDivide(raw, 1, step.raw, rounding)
        let (result, overflow) = units.multipliedReportingOverflow(by: step.raw)
        guard !overflow else { throw .overflow }
        return Self(raw: result)
    }

    /// Rounded to `decimals` (0…8) decimal places.
    public func rounded(decimals: Int, _ rounding: FixedRounding) throws(FixedPointError) -> Self {
        let places = max(0, min(FixedPoint.decimals, decimals))
        var step: Int64 = 1
        for _ in places..<FixedPoint.decimals { step *= 10 }
        return try rounded(toMultipleOf: Self(raw: step), rounding)
    }

    // MARK: Text

    /// Parses exchange or config text (`"0.00100000"`, `"12"`, `"-3.5"`, `"1e-5"`, surrounding spaces refused) with
    /// integer arithmetic only. More than 8 decimals is an error unless `rounding` is named.
    public init(parsing text: String, rounding: FixedRounding? = nil) throws(FixedPointError) {
        self.init(raw: try FixedPointText.parse(text, rounding: rounding))
    }

    /// Parses text; nil when it is not a plain number within range with at most 8 decimals.
    public init?(_ text: String) {
        guard let raw = try? FixedPointText.parse(text, rounding: nil) else { return nil }
        self.init(raw: raw)
    }

    // MARK: Codable (as the canonical text, so JSON keeps the exact value)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self.init(raw: try FixedPointText.parse(text, rounding: nil)) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A price in quote currency per unit of the base asset.
public struct Price: FixedPointValue {
    public let raw: Int64
    public init(raw: Int64) { self.raw = raw }

    /// `self × quantity`: a notional or a cost.
    public func times(_ quantity: Quantity, _ rounding: FixedRounding) throws(FixedPointError) -> Money {
        Money(raw: try FixedPointMath.multiplyDivide(raw, quantity.raw, FixedPoint.scale, rounding))
    }
}

/// A quantity of the base asset.
public struct Quantity: FixedPointValue {
    public let raw: Int64
    public init(raw: Int64) { self.raw = raw }

    /// `self × price`: a notional or a cost.
    public func times(_ price: Price, _ rounding: FixedRounding) throws(FixedPointError) -> Money {
        try price.times(self, rounding)
    }
}

/// An amount of quote currency (cash, notional, fees, P&L).
public struct Money: FixedPointValue {
    public let raw: Int64
    public init(raw: Int64) { self.raw = raw }

    /// `self ÷ quantity`: an average price.
    public func divided(by quantity: Quantity, _ rounding: FixedRounding) throws(FixedPointError) -> Price {
        Price(raw: try FixedPointMath.multiplyDivide(raw, FixedPoint.scale, quantity.raw, rounding))
    }

    /// `self ÷ price`: the quantity this amount buys.
    public func divided(by price: Price, _ rounding: FixedRounding) throws(FixedPointError) -> Quantity {
        Quantity(raw: try FixedPointMath.multiplyDivide(raw, FixedPoint.scale, price.raw, rounding))
    }
}

/// A dimensionless scalar at the same scale: fee rates, ratios, fractions, multipliers.
public struct Fixed: FixedPointValue {
    public let raw: Int64
    public init(raw: Int64) { self.raw = raw }

    public static let one = Fixed(raw: FixedPoint.scale)
}

extension FixedPointValue {
    /// The value as another fixed-point kind with the same number (a price distance as money per unit, say).
    public func reinterpreted<Other: FixedPointValue>(as _: Other.Type) -> Other { Other(raw: raw) }
}

extension FixedPointValue {
    /// Rounded half away from zero to `decimals` places and printed (a report's `12.35`); the full text if out of range.
    public func text(decimals: Int) -> String { ((try? rounded(decimals: decimals, .halfAwayFromZero)) ?? self).description }
}

extension Sequence where Element: FixedPointValue {
    /// The checked sum.
    public func total() throws(FixedPointError) -> Element {
        var sum = Element.zero
        for value in self { sum = try sum + value }
        return sum
    }
}

/// 128-bit-intermediate multiply–divide with a named rounding.
enum FixedPointMath {
    /// `a × b ÷ c`, exact before one rounding.
    @inline(__always)
    static func multiplyDivide(_ a: Int64, _ b: Int64, _ c: Int64, _ rounding: FixedRounding) throws(FixedPointError) -> Int64 {
        guard c != 0 else { throw .divisionByZero }
        let negative = ((a < 0) != (b < 0)) != (c < 0)
        let divisor = c.magnitude
        let product = a.magnitude.multipliedFullWidth(by: b.magnitude)
        guard product.high < divisor else { throw .overflow }
        let (quotient, remainder) = divisor.dividingFullWidth(product)
        var magnitude = quotient
        if remainder != 0 {
            let roundAway: Bool
            switch rounding {
            case .towardZero: roundAway = false
            case .down: roundAway = negative
            case .up: roundAway = !negative
            case .halfEven:
                let rest = divisor - remainder
                roundAway = remainder > rest || (remainder == rest && quotient & 1 == 1)
            case .halfAwayFromZero: roundAway = remainder >= divisor - remainder
            }
            if roundAway {
                guard magnitude < UInt64.max else { throw .overflow }
                magnitude += 1
            }
        }
        return try signed(magnitude, negative: negative && magnitude != 0)
    }

    /// A magnitude and a sign as an `Int64`, or overflow.
    @inline(__always)
    static func signed(_ magnitude: UInt64, negative: Bool) throws(FixedPointError) -> Int64 {
        if negative {
            guard magnitude <= Int64.min.magnitude else { throw .overflow }
            return magnitude == Int64.min.magnitude ? .min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw .overflow }
        return Int64(magnitude)
    }
}

/// Text ↔ raw value with integer arithmetic only.
@usableFromInline
enum FixedPointText {
    /// The canonical text of a raw value: no exponent, no trailing zeros.
    static func format(_ raw: Int64) -> String {
        let magnitude = raw.magnitude
        let scale = UInt64(FixedPoint.scale)
        let whole = magnitude / scale
        var fraction = magnitude % scale
        var text = raw < 0 ? "-" : ""
        text += String(whole)
        guard fraction != 0 else { return text }
        var digits = FixedPoint.decimals
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        let fractionText = String(fraction)
        text += "."
        text += String(repeating: "0", count: digits - fractionText.utf8.count)
        text += fractionText
        return text
    }

    /// Parses `[-]digits[.digits][(e|E)[±]digits(1–4)]` (the syntax of `Money.hasPlainNumberSyntax`) to a raw value.
    static func parse(_ text: String, rounding: FixedRounding?) throws(FixedPointError) -> Int64 {
        var digits: [UInt8] = []          // significant digits, leading zeros dropped
        digits.reserveCapacity(24)
        var fractionDigits = 0, negative = false, seenDot = false, seenDigit = false
        var exponent: Int?, exponentNegative = false, exponentSigned = false, exponentDigits = 0
        var first = true
        for byte in text.utf8 {
            defer { first = false }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let d = byte - UInt8(ascii: "0")
                if let e = exponent {
                    guard exponentDigits < 4 else { throw .notANumber(text) }
                    exponent = e * 10 + Int(d)
                    exponentDigits += 1
                } else {
                    seenDigit = true
                    if !digits.isEmpty || d != 0 { digits.append(d) }
                    if seenDot { fractionDigits += 1 }
                }
            case UInt8(ascii: "-") where first:
                negative = true
            case UInt8(ascii: "-") where exponent == 0 && exponentDigits == 0 && !exponentSigned:
                exponentNegative = true
                exponentSigned = true
            case UInt8(ascii: "+") where exponent == 0 && exponentDigits == 0 && !exponentSigned:
                exponentSigned = true
            case UInt8(ascii: ".") where !seenDot && exponent == nil:
                seenDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard seenDigit, exponent == nil else { throw .notANumber(text) }
                exponent = 0
            default:
                throw .notANumber(text)
            }
        }
        guard seenDigit, exponent == nil || exponentDigits > 0 else { throw .notANumber(text) }
        guard !digits.isEmpty else { return 0 }
        // value = digits × 10^shift raw units
        let shift = (exponentNegative ? -1 : 1) * (exponent ?? 0) - fractionDigits + FixedPoint.decimals
        let kept: ArraySlice<UInt8>
        var firstDropped: UInt8 = 0, restNonZero = false
        if shift >= 0 {
            guard digits.count + shift <= 20 else { throw .overflow }
            kept = digits[...]
        } else {
            let drop = -shift
            if drop > digits.count {
                kept = []
                restNonZero = true           // a non-zero digit further down; the first dropped is a leading 0
            } else {
                kept = digits[..<(digits.count - drop)]
                firstDropped = digits[digits.count - drop]
                restNonZero = digits[(digits.count - drop + 1)...].contains { $0 != 0 }
            }
        }
        var magnitude: UInt64 = 0
        for d in kept {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { throw .overflow }
            magnitude = sum
        }
        if shift > 0 {
            for _ in 0..<shift {
                let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                guard !overflow else { throw .overflow }
                magnitude = times10
            }
        }
        if firstDropped != 0 || restNonZero {
            guard let rounding else { throw .tooManyDecimals(text) }
            let roundAway: Bool
            switch rounding {
            case .towardZero: roundAway = false
            case .down: roundAway = negative
            case .up: roundAway = !negative
            case .halfEven: roundAway = firstDropped > 5 || (firstDropped == 5 && (restNonZero || magnitude & 1 == 1))
            case .halfAwayFromZero: roundAway = firstDropped >= 5
            }
            if roundAway {
                guard magnitude < UInt64.max else { throw .overflow }
                magnitude += 1
            }
        }
        return try FixedPointMath.signed(magnitude, negative: negative && magnitude != 0)
    }

    /// A double's shortest decimal text rounded half-even to 1e-8. A proven fast path where the binary product cannot
    /// round differently (inlined: the backtest converts a close at every cycle), else `raw(fromDoubleText:)`.
    @inlinable
    static func raw(fromDouble value: Double) throws(FixedPointError) -> Int64 {
        let scaled = value * 1e8
        // The shortest text d of value is within ulp(value)/2 of it, so d × 1e8 is within 1e8·ulp(value)/2 < ulp(scaled)
        // of value × 1e8, which `scaled` approximates within ulp(scaled)/2: a result farther than 4 ulps from a tie
        // rounds the same from all three. Below 2^51 in magnitude, adding and taking away 1.5 × 2^52 rounds to the
        // nearest integer, ties to even (the sum's integers are 1 apart and the constant is even): `rint` without the
        // library call. NaN and infinities fail the comparison.
        if abs(scaled) < 0x1p51 {
            let nearest = (scaled + 0x1.8p52) - 0x1.8p52
            if abs(abs(scaled - nearest) - 0.5) > 4 * scaled.ulp { return Int64(nearest) }
        }
        return try raw(fromDoubleText: value)
    }

    /// `raw(fromDouble:)` beyond its inlined fast path: non-finite values refused, products up to 4e15 rounded by
    /// `rounded(.toNearestOrEven)`, the rest (and results too near a tie) from the digits of `value.description`.
    @usableFromInline
    static func raw(fromDoubleText value: Double) throws(FixedPointError) -> Int64 {
        guard value.isFinite else { throw .notFinite }
        let scaled = value * 1e8
        if abs(scaled) < 4e15 {
            let nearest = scaled.rounded(.toNearestOrEven)
            if abs(abs(scaled - nearest) - 0.5) > 4 * scaled.ulp { return Int64(nearest) }
        }
        return try parse(value.description, rounding: .halfEven)
    }
}
