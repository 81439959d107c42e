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
        Int64(text) ?? Timestamp.parse(text)
    }
}
