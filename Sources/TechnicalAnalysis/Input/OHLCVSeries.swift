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
        var series = OHLCVSeries()
        var lineNumber = 0
        var index: [String: Int] = [:]
        var previousTime: Int64?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.last == "\r" { line = line.dropLast() }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if index.isEmpty {
                for (i, name) in fields.enumerated() { index[name.lowercased()] = i }
                for column in columns where index[column] == nil {
                    throw OHLCVParseError(line: lineNumber, column: column, value: "", expected: "a header with the columns time,open,high,low,close,volume (\(column) is missing)")
                }
                continue
            }
            func field(_ name: String) throws -> String {
                guard let i = index[name], i < fields.count else {
                    throw OHLCVParseError(line: lineNumber, column: name, value: "", expected: "\(index.count) comma-separated fields")
                }
                return fields[i]
            }
            func number(_ name: String) throws -> Double {
                let text = try field(name)
                guard let value = Double(text), value.isFinite else {
                    throw OHLCVParseError(line: lineNumber, column: name, value: text, expected: "a finite number")
                }
                return value
            }
            let timeText = try field("time")
            guard let time = parseTime(timeText) else {
                throw OHLCVParseError(line: lineNumber, column: "time", value: timeText, expected: "an RFC 3339 time or epoch milliseconds")
            }
            if let previousTime, time <= previousTime {
                throw OHLCVParseError(line: lineNumber, column: "time", value: timeText, expected: "times strictly increasing")
            }
            previousTime = time
            let o = try number("open"), h = try number("high"), l = try number("low"), c = try number("close"), v = try number("volume")
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
        if index.isEmpty { throw OHLCVParseError(line: 1, column: "", value: "", expected: "a header line (the file is empty)") }
        return series
    }

    /// RFC 3339 or epoch milliseconds → epoch milliseconds.
    public static func parseTime(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        // The common `YYYY-MM-DDTHH:MM:SSZ` directly: `Timestamp.parse` builds an ISO 8601 formatter per call, which
        // dominates loading a large file. Anything else (fractions, offsets, out-of-range fields) goes to it unchanged.
        if let ms = plainUTCMilliseconds(text) { return ms }
        return Timestamp.parse(text)
    }

    /// Epoch milliseconds of exactly `YYYY-MM-DDTHH:MM:SSZ` with every field in range; nil for any other text.
    static func plainUTCMilliseconds(_ text: String) -> Int64? {
        text.utf8.withContiguousStorageIfAvailable { b -> Int64? in
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
        } ?? nil
    }
}
