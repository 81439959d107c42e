import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 UTC formatting and parsing of epoch milliseconds.
public enum Timestamp {
    /// `2024-05-01T12:00:00Z` (milliseconds shown only when not zero).
    public static func rfc3339(_ ms: Int64) -> String {
        let seconds = Int(floor(Double(ms) / 1000))
        let millis = Int(ms - Int64(seconds) * 1000)
        var parts = tm()
        var t = time_t(seconds)
        gmtime_r(&t, &parts)
        // Digits written directly (`String(format:)` dominates when a backtest writes a million lines).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var v = value
            if v >= divisor * 10 { // wider than `width` (years past 9999): all digits
                for c in String(v).utf8 { bytes.append(c) }
                return
            }
            while divisor > 0 {
                bytes.append(UInt8(48 + v / divisor))
                v %= divisor
                divisor /= 10
            }
        }
        let year = Int(parts.tm_year) + 1900
        if year < 0 { bytes.append(UInt8(ascii: "-")) }
        digits(abs(year), 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        if millis != 0 {
            bytes.append(UInt8(ascii: "."))
            digits(millis, 3)
        }
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The latest time any input may name: 9999-12-31T23:59:59.999Z. Times are accepted from the epoch
    /// (1970-01-01T00:00:00Z, 0) to this, so arithmetic on them (differences, a timeframe added) cannot overflow.
    public static let latestMilliseconds: Int64 = 253_402_300_799_999
    /// Epoch milliseconds an input time may have.
    public static let validRange: ClosedRange<Int64> = 0...latestMilliseconds

    /// Parses RFC 3339 strictly: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of 1–9 digits (rounded to milliseconds),
    /// then `Z` or an offset `±HH:MM`; every field in range for its calendar month (no 2001-02-29, no hour 24, no
    /// leap second), the result within `validRange`. Nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20 else { return nil }
        guard let base = (Array(b[0..<19]) + [UInt8(ascii: "Z")]).withUnsafeBufferPointer({ plainUTCMilliseconds($0) }) else { return nil }
        var k = 19
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        var fraction: Int64 = 0
        if b[k] == UInt8(ascii: ".") {
            k += 1
            var digits = 0, value: Int64 = 0, roundUp = false
            while k < b.count, isDigit(b[k]) {
                let d = Int64(b[k] - UInt8(ascii: "0"))
                if digits < 3 { value = value * 10 + d } else if digits == 3 { roundUp = d >= 5 }
                digits += 1
                k += 1
            }
            guard (1...9).contains(digits) else { return nil }
            if digits < 3 { for _ in digits..<3 { value *= 10 } }
            fraction = value + (roundUp ? 1 : 0)
        }
        guard k < b.count else { return nil }
        var offset: Int64 = 0
        switch b[k] {
        case UInt8(ascii: "Z"):
            guard k + 1 == b.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard k + 6 == b.count, b[k + 3] == UInt8(ascii: ":"), isDigit(b[k + 1]), isDigit(b[k + 2]), isDigit(b[k + 4]), isDigit(b[k + 5]) else { return nil }
            let hours = Int64(b[k + 1] - 48) * 10 + Int64(b[k + 2] - 48), minutes = Int64(b[k + 4] - 48) * 10 + Int64(b[k + 5] - 48)
            guard hours < 24, minutes < 60 else { return nil }
            offset = (hours * 60 + minutes) * 60_000 * (b[k] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let ms = base + fraction - offset  // every term is far from the Int64 limits (years 1…9999)
        return validRange.contains(ms) ? ms : nil
    }

    /// Epoch milliseconds of exactly `YYYY-MM-DDTHH:MM:SSZ` with every field in range; nil for any other text.
    public static func plainUTCMilliseconds(_ text: String) -> Int64? {
        text.utf8.withContiguousStorageIfAvailable { plainUTCMilliseconds($0) } ?? nil
    }

    /// `plainUTCMilliseconds` of UTF-8 bytes.
    public static func plainUTCMilliseconds(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count == 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "Z") else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for k in from..<(from + count) {
                let d = Int(b[k]) - 48
                guard d >= 0, d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              year >= 1, (1...12).contains(month), hour < 24, minute < 60, second < 60 else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = month == 2 ? (leap ? 29 : 28) : (month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31)
        guard day >= 1, day <= monthDays else { return nil }
        // Days since 1970-01-01: the proleptic Gregorian calendar counted in 400-year eras from March 1.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Int64(((days * 24 + hour) * 60 + minute) * 60 + second) * 1000
    }
}
