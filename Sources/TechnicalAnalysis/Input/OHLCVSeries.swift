import Foundation
import TradingDomain

/// OHLCV bars as parallel arrays (struct of arrays); times in milliseconds since 1970 UTC.
public struct OHLCVSeries: Sendable, Equatable {
    public var time: [Int64] = []
    public var open: [Double] = []
    public var high: [Double] = []
    public var low: [Double] = []
    public var close: [Double] = []
    public var volume: [Double] = []

    public init() {}
    public var count: Int { close.count }
}

/// A malformed OHLCV CSV: the line (1-based, the header is line 1), the column, the value and what was expected.
public struct OHLCVParseError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: String
    public let value: String
    public let expected: String
    public var description: String {
        "line \(line)" + (column.isEmpty ? "" : ", column \(column)") + (value.isEmpty ? "" : ": got \"\(value)\"") + ", expected \(expected)"
    }
}

/// Parses OHLCV CSV text: a header naming `time,open,high,low,close,volume` (any order, other columns ignored),
/// times in RFC 3339 (`Z` or an offset, optional fraction) or epoch milliseconds, strictly increasing; numbers with
/// `Double(String)` (correctly rounded, as Python reads them); high ≥ max(open, close), low ≤ min(open, close).
public enum OHLCVCSV {
    public static let columns = ["time", "open", "high", "low", "close", "volume"]

    public static func parse(_ text: String) throws -> OHLCVSeries {
        var text = text
        return try text.withUTF8 { try parse(bytes: $0) }
    }

    /// Parses the UTF-8 bytes of a CSV file line by line, without building a string per line (a million bars load
    /// in well under a second).
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) throws -> OHLCVSeries {
        var series = OHLCVSeries()
        let estimate = b.count / 48
        for keyPath in [\OHLCVSeries.open, \.high, \.low, \.close, \.volume] { series[keyPath: keyPath].reserveCapacity(estimate) }
        series.time.reserveCapacity(estimate)
        var lineNumber = 0
        var headerCount = 0
        var columnField: [Int] = []   // field index of each of `columns`
        var previousTime: Int64?
        var fields: [Range<Int>] = []
        var pos = 0
        let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
        func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }
        while pos < b.count {
            lineNumber += 1
            var end = pos
            while end < b.count, b[end] != newline { end += 1 }
            let next = end + 1
            if end > pos, b[end - 1] == cr { end -= 1 }
            var blank = true
            for k in pos..<end where !isBlank(b[k]) { blank = false; break }
            if blank { pos = next; continue }
            // Fields, each trimmed of spaces and tabs.
            fields.removeAll(keepingCapacity: true)
            var start = pos
            var k = pos
            while true {
                if k == end || b[k] == comma {
                    var s = start, e = k
                    while s < e, isBlank(b[s]) { s += 1 }
                    while e > s, isBlank(b[e - 1]) { e -= 1 }
                    fields.append(s..<e)
                    if k == end { break }
                    start = k + 1
                }
                k += 1
            }
            pos = next
            if columnField.isEmpty {
                var index: [String: Int] = [:]
                for (i, r) in fields.enumerated() { index[string(r).lowercased()] = i }
                for column in columns where index[column] == nil {
                    throw OHLCVParseError(line: lineNumber, column: column, value: "", expected: "a header with the columns time,open,high,low,close,volume (\(column) is missing)")
                }
                headerCount = index.count
                columnField = columns.map { index[$0] ?? 0 }
                continue
            }
            func field(_ c: Int) throws -> Range<Int> {
                let i = columnField[c]
                guard i < fields.count else {
                    throw OHLCVParseError(line: lineNumber, column: columns[c], value: "", expected: "\(headerCount) comma-separated fields")
                }
                return fields[i]
            }
            func number(_ c: Int) throws -> Double {
                let range = try field(c)
                if let value = exactDecimal(b, range) { return value }
                let text = string(range)
                guard let value = Double(text), value.isFinite else {
                    throw OHLCVParseError(line: lineNumber, column: columns[c], value: text, expected: "a finite number")
                }
                return value
            }
            let timeText = string(try field(0))
            guard let time = parseTime(timeText) else {
                throw OHLCVParseError(line: lineNumber, column: "time", value: timeText, expected: "an RFC 3339 time or epoch milliseconds")
            }
            if let previousTime, time <= previousTime {
                throw OHLCVParseError(line: lineNumber, column: "time", value: timeText, expected: "times strictly increasing")
            }
            previousTime = time
            let o = try number(1), h = try number(2), l = try number(3), c = try number(4), v = try number(5)
            if h < l { throw OHLCVParseError(line: lineNumber, column: "high", value: String(h), expected: "high ≥ low (\(l))") }
            if h < max(o, c) { throw OHLCVParseError(line: lineNumber, column: "high", value: String(h), expected: "high ≥ open and close") }
            if l > min(o, c) { throw OHLCVParseError(line: lineNumber, column: "low", value: String(l), expected: "low ≤ open and close") }
            if v < 0 { throw OHLCVParseError(line: lineNumber, column: "volume", value: String(v), expected: "a volume ≥ 0") }
            series.time.append(time)
            series.open.append(o)
            series.high.append(h)
            series.low.append(l)
            series.close.append(c)
            series.volume.append(v)
        }
        if columnField.isEmpty { throw OHLCVParseError(line: 1, column: "", value: "", expected: "a header line (the file is empty)") }
        return series
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { value, _ in value * 10 } }

    /// Plain `[-]digits[.digits]` with an integer part and fraction of at most 2^53 and at most 22 decimals: the
    /// integer and the power of ten are both exact doubles, so one division (or product) is correctly rounded — the
    /// same double `Double(String)` gives. Nil for anything else (which goes to `Double(String)`).
    @inline(__always)
    static func exactDecimal(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Double? {
        var i = r.lowerBound
        let end = r.upperBound
        guard i < end else { return nil }
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0, decimals = 0, digits = 0
        var seenDot = false
        while i < end {
            let c = b[i]
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                mantissa = mantissa &* 10 &+ UInt64(c &- UInt8(ascii: "0"))
                digits += 1
                if seenDot { decimals += 1 }
                guard mantissa <= 1 << 53, digits <= 30 else { return nil }
            } else if c == UInt8(ascii: "."), !seenDot {
                seenDot = true
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, decimals <= 22 else { return nil }
        let value = Double(mantissa) / exactPowersOfTen[decimals]
        return negative ? -value : value
    }

    /// RFC 3339 or epoch milliseconds → epoch milliseconds.
    public static func parseTime(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        // The common `YYYY-MM-DDTHH:MM:SSZ` directly: `Timestamp.parse` builds an ISO 8601 formatter per call, which
        // dominates loading a large file. Anything else (fractions, offsets, out-of-range fields) goes to it unchanged.
        if let ms = Timestamp.plainUTCMilliseconds(text) { return ms }
        return Timestamp.parse(text)
    }
}
