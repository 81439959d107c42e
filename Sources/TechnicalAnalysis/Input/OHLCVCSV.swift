import Foundation
import TradingDomain

/// A malformed OHLCV CSV: the line (1-based, the header is line 1), the column, the value and what was expected.
public struct OHLCVParseError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: String
    public let value: String
    public let expected: String
    public var description: String {
        "line \(line)" + (column.isEmpty ? "" : ", column \(column)") + (value.isEmpty ? "" : ": got \"\(MessageText.shortened(value))\"") + ", expected \(expected)"
    }

    /// A value as shown in the message: at most 60 characters, then its length.
}

/// An OHLCV CSV file that does not exist or cannot be read (the operating system's reason in `reason`).
public struct OHLCVFileUnreadable: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path) does not exist or cannot be read (\(reason))" }
}

/// One bar of an OHLCV CSV, as read (time in epoch milliseconds).
public struct OHLCVRow: Sendable, Equatable {
    public var time: Int64
    public var open, high, low, close, volume: Double
}

/// Parses OHLCV CSV text: a header naming `time,open,high,low,close,volume` (any order, other columns ignored),
/// times in strict RFC 3339 (`Z` or an offset, optional fraction) or epoch milliseconds (digits only), from 1970 to
/// 9999, strictly increasing; numbers in the plain syntax of `Money.hasPlainNumberSyntax` (no hexadecimal, inf, nan or
/// `+`), read correctly rounded as Python reads them; high ≥ max(open, close), low ≤ min(open, close).
public enum OHLCVCSV {
    public static let columns = ["time", "open", "high", "low", "close", "volume"]

    public static func parse(_ text: String) throws -> OHLCVSeries {
        var text = text
        return try text.withUTF8 { try parse(bytes: $0) }
    }

    /// Parses the UTF-8 bytes of a whole CSV file into columns.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>) throws -> OHLCVSeries {
        var series = OHLCVSeries()
        series.reserve(bytes.count / 48)
        var reader = OHLCVCSVReader()
        _ = try reader.consume(bytes, final: true) { series.append($0) }
        try reader.finish()
        return series
    }

    /// Reads the file at `path` into columns (see `read(path:_:)`).
    public static func parse(path: String) throws -> OHLCVSeries {
        var series = OHLCVSeries()
        try read(path: path, expectedRows: { series.reserve($0) }) { series.append($0) }
        return series
    }

    /// Streams the file at `path` through the parser a block at a time, calling `row` for each bar in order: the file
    /// is never held whole in memory. `expectedRows` is told an estimate of the number of bars (from the file's size)
    /// before the first. Throws `OHLCVFileUnreadable` or `OHLCVParseError`.
    public static func read(path: String, blockSize: Int = 1 << 20, expectedRows: (Int) -> Void = { _ in },
                            _ row: (OHLCVRow) throws -> Void) throws {
        guard let file = fopen(path, "rb") else {
            throw OHLCVFileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var status = stat()
        if fstat(fileno(file), &status) == 0, status.st_size > 0 { expectedRows(Int(status.st_size) / 48) }
        var buffer = [UInt8](repeating: 0, count: max(1, blockSize))
        var held = 0  // bytes at the start of `buffer` not parsed yet (an incomplete last line)
        var reader = OHLCVCSVReader()
        while true {
            if held == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }  // a line longer than the buffer
            let got = buffer.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return 0 }  // never: the buffer holds at least one byte
                return fread(base + held, 1, b.count - held, file)
            }
            if got == 0, ferror(file) != 0 {
                throw OHLCVFileUnreadable(path: path, reason: String(cString: strerror(errno)))
            }
            let final = got == 0
            let available = held + got
            let used = try buffer.withUnsafeBufferPointer { b in
                try reader.consume(UnsafeBufferPointer(rebasing: b[0..<available]), final: final, row: row)
            }
            if final { break }
            held = available - used
            if held > 0, used > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    guard let base = b.baseAddress else { return }
                    _ = memmove(base, base + used, held)
                }
            }
        }
        try reader.finish()
    }
}

extension OHLCVSeries {
    mutating func reserve(_ count: Int) {
        time.reserveCapacity(count)
        for keyPath in [\OHLCVSeries.open, \.high, \.low, \.close, \.volume] { self[keyPath: keyPath].reserveCapacity(count) }
    }

    mutating func append(_ row: OHLCVRow) {
        time.append(row.time)
        open.append(row.open)
        high.append(row.high)
        low.append(row.low)
        close.append(row.close)
        volume.append(row.volume)
    }
}

/// The OHLCV CSV parser, fed a block of bytes at a time (whole lines are parsed; an incomplete last line waits for
/// the next block), without building a string per line or per field.
public struct OHLCVCSVReader {
    public private(set) var lineNumber = 0
    private var headerCount = 0
    private var columnField: [Int] = []   // field index of each of `OHLCVCSV.columns`
    private var neededFields = 0          // a row must have at least this many fields
    private var previousTime: Int64?
    private var fields: [Range<Int>] = []

    public init() {}

    /// Parses the complete lines of `b` — every line when `final` (the end of the input) — calling `row` for each
    /// bar; returns how many bytes it parsed (the rest starts an incomplete line).
    public mutating func consume(_ b: UnsafeBufferPointer<UInt8>, final: Bool, row: (OHLCVRow) throws -> Void) throws -> Int {
        guard let base = b.baseAddress else { return 0 }
        let columns = OHLCVCSV.columns
        let powers = OHLCVCSV.exactPowersOfTen
        var pos = 0
        let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        func isBlank(_ c: UInt8) -> Bool { c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") }
        func string(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[r]), as: UTF8.self) }
        while pos < b.count {
            let end: Int
            if let found = memchr(base + pos, Int32(newline), b.count - pos) {
                end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            } else {
                guard final else { break }  // an incomplete line: wait for the rest
                end = b.count
            }
            lineNumber += 1
            let next = end + 1
            let lineEnd = end > pos && b[end - 1] == cr ? end - 1 : end
            var blank = true
            for k in pos..<lineEnd where !isBlank(b[k]) { blank = false; break }
            if blank { pos = next; continue }
            // Fields, each trimmed of spaces and tabs.
            fields.removeAll(keepingCapacity: true)
            var start = pos
            var k = pos
            while true {
                if k == lineEnd || b[k] == comma {
                    var s = start, e = k
                    while s < e, isBlank(b[s]) { s += 1 }
                    while e > s, isBlank(b[e - 1]) { e -= 1 }
                    fields.append(s..<e)
                    if k == lineEnd { break }
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
                neededFields = (columnField.max() ?? 0) + 1
                continue
            }
            let line = lineNumber
            guard fields.count >= neededFields else {
                let c = columnField.firstIndex { $0 >= fields.count } ?? 0
                throw OHLCVParseError(line: line, column: columns[c], value: "", expected: "\(headerCount) comma-separated fields")
            }
            func number(_ c: Int) throws -> Double {
                let range = fields[columnField[c]]
                if let value = OHLCVCSV.exactDecimal(b, range, powers) { return value }
                let text = string(range)
                guard Money.hasPlainNumberSyntax(text), let value = Double(text), value.isFinite else {
                    throw OHLCVParseError(line: line, column: columns[c], value: text, expected: OHLCVCSV.numberExpectation)
                }
                return value
            }
            let timeRange = fields[columnField[0]]
            guard let time = OHLCVCSV.parseTime(b, timeRange) ?? OHLCVCSV.parseTime(string(timeRange)),
                  Timestamp.validRange.contains(time) else {
                throw OHLCVParseError(line: line, column: "time", value: string(timeRange), expected: OHLCVCSV.timeExpectation)
            }
            if let previousTime, time <= previousTime {
                throw OHLCVParseError(line: line, column: "time", value: string(timeRange), expected: "times strictly increasing")
            }
            previousTime = time
            let o = try number(1), h = try number(2), l = try number(3), c = try number(4), v = try number(5)
            if h < l { throw OHLCVParseError(line: line, column: "high", value: String(h), expected: "high ≥ low (\(l))") }
            if h < max(o, c) { throw OHLCVParseError(line: line, column: "high", value: String(h), expected: "high ≥ open and close") }
            if l > min(o, c) { throw OHLCVParseError(line: line, column: "low", value: String(l), expected: "low ≤ open and close") }
            if v < 0 { throw OHLCVParseError(line: line, column: "volume", value: String(v), expected: "a volume ≥ 0") }
            try row(OHLCVRow(time: time, open: o, high: h, low: l, close: c, volume: v))
        }
        return min(pos, b.count)
    }

    /// Ends the input: a file without a header line is refused.
    public func finish() throws {
        if columnField.isEmpty { throw OHLCVParseError(line: 1, column: "", value: "", expected: "a header line (the file is empty)") }
    }
}

extension OHLCVCSV {
    static let exactPowersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { value, _ in value * 10 } }

    /// Plain `[-]digits[.digits]` with an integer part and fraction of at most 2^53 and at most 22 decimals: the
    /// integer and the power of ten are both exact doubles, so one division (or product) is correctly rounded — the
    /// same double `Double(String)` gives. Nil for anything else (which goes to `Double(String)`).
    @inline(__always)
    static func exactDecimal(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ powers: [Double] = exactPowersOfTen) -> Double? {
        guard let (value, next) = exactDecimalPrefix(b, from: r.lowerBound, to: r.upperBound, stop: 0, powers), next == r.upperBound else { return nil }
        return value
    }

    /// `exactDecimal`'s rule from `start`, ending at `end` or at the first `stop` byte (0: none, as a NUL is never part
    /// of a number): the value and where it ended (`end` or the stop byte's index). Nil for anything else.
    @inline(__always)
    static func exactDecimalPrefix(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, stop: UInt8,
                                   _ powers: [Double] = exactPowersOfTen) -> (value: Double, next: Int)? {
        if let short = shortDecimalPrefix(b, from: start, to: end, stop: stop, powers) { return short }
        var i = start
        guard i < end else { return nil }
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0, decimals = 0, digits = 0
        var seenDot = false
        while i < end {
            let c = b[i]
            let d = c &- UInt8(ascii: "0")
            if d <= 9 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                digits += 1
                if seenDot { decimals += 1 }
                guard mantissa <= 1 << 53, digits <= 30 else { return nil }
            } else if c == UInt8(ascii: "."), !seenDot {
                seenDot = true
            } else if c == stop {
                break
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, decimals <= 22 else { return nil }
        let value = Double(mantissa) / powers[decimals]
        return (negative ? -value : value, i)
    }

    /// `exactDecimalPrefix` for a number of at most 15 digits (the usual price or volume): below 10^15 < 2^53, so the
    /// mantissa needs no check per digit, and the digits before and after the dot are read by two plain loops. Nil
    /// for anything else, which the rule's own loop then decides (a refusal included).
    @inline(__always)
    static func shortDecimalPrefix(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int, stop: UInt8,
                                   _ powers: [Double]) -> (value: Double, next: Int)? {
        var i = start
        guard i < end else { return nil }
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i &+= 1 }
        var mantissa: UInt64 = 0
        let integerStart = i
        while i < end, case let d = b[i] &- UInt8(ascii: "0"), d <= 9, i &- integerStart < 16 {
            mantissa = mantissa &* 10 &+ UInt64(d)
            i &+= 1
        }
        let integerDigits = i &- integerStart
        var decimals = 0
        if i < end, b[i] == UInt8(ascii: "."), integerDigits <= 15 {
            i &+= 1
            let fractionStart = i
            while i < end, case let d = b[i] &- UInt8(ascii: "0"), d <= 9, i &- fractionStart < 16 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                i &+= 1
            }
            decimals = i &- fractionStart
        }
        guard integerDigits &+ decimals >= 1, integerDigits &+ decimals <= 15, i == end || b[i] == stop else { return nil }
        let value = Double(Int64(bitPattern: mantissa)) / powers[decimals]
        return (negative ? -value : value, i)
    }

    /// The two common time spellings straight from the bytes: epoch milliseconds as plain digits (at most 18) and
    /// `YYYY-MM-DDTHH:MM:SSZ`. Nil for anything else, which goes to `parseTime(String)`.
    @inline(__always)
    static func parseTime(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int64? {
        guard !r.isEmpty else { return nil }
        if r.count <= 18 {
            var value: Int64 = 0
            var digitsOnly = true
            for k in r {
                let d = b[k] &- UInt8(ascii: "0")
                guard d <= 9 else { digitsOnly = false; break }
                value = value * 10 + Int64(d)
            }
            if digitsOnly { return value }
        }
        return Timestamp.plainUTCMilliseconds(UnsafeBufferPointer(rebasing: b[r]))
    }

    /// RFC 3339 (strict, see `Timestamp.parse`) or epoch milliseconds (digits only, no sign) → epoch milliseconds;
    /// nil for anything else and for times outside `Timestamp.validRange` (1970 to 9999).
    public static func parseTime(_ text: String) -> Int64? {
        let ms: Int64?
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            ms = text.utf8.count <= 18 ? Int64(text) : nil
        } else {
            ms = Timestamp.parse(text)
        }
        guard let ms, Timestamp.validRange.contains(ms) else { return nil }
        return ms
    }

    static let numberExpectation = "a finite decimal number such as 42350.5, -0.25 or 1.5e-7 (no sign other than a leading -, no hexadecimal, inf or nan)"
    static let timeExpectation = "an RFC 3339 time or epoch milliseconds (digits only), from 1970-01-01T00:00:00Z (0) to 9999-12-31T23:59:59.999Z (253402300799999)"
}
