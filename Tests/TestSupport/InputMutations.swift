import Foundation

/// Seeded mutators of input files for the fuzz tests: each case is a base text with one or two mutations drawn by a
/// `SeededGenerator`, so the same seed always gives the same cases (a failing case can be replayed from its index).
public enum InputMutations {
    /// Values that have broken parsers before: extreme and malformed numbers, impossible dates, odd strings.
    public static let hostileValues: [String] = [
        "9223372036854775807", "-9223372036854775807", "-9223372036854775808", "99999999999999999999", "1e400", "-1e400",
        "1e-400", "-0", "0", "01", "+1", "0x10", "NaN", "Infinity", "-Infinity", "1.", ".5", "1.2.3", "1e", "1e+-5",
        "\"--0.05\"", "\"100-5\"", "\"-\"", "\"\"", "\"0x10\"", "\"1.2.3\"", "\"+-1\"", "\"1 000\"", "\" 5\"", "\"1e9999\"",
        "\"NaN\"", "\"inf\"", "\"usdt\"", "\"USDT\"", "\"2001-02-29T00:00:00Z\"", "\"₿TC\"", "\"BTC\\u0000USDT\"",
        "\"\\ud800\"", "null", "true", "false", "[]", "{}", "[1, 2]", "{\"a\": 1}", "\"paper\"", "\"live\"", "\"csv\"",
        "4", "60", "5000", "100000", "0.5", "2", "-1", "\"10000\"", "\"0.001\"", "[\"BTCUSDT\", \"BTCUSDT\"]",
        "[\"btcusdt\"]", "[\"BTCUSDC\"]", "[\"" + String(repeating: "A", count: 5000) + "\"]",
    ]

    /// A JSON config with one to three mutations: a value replaced by a hostile one, a line duplicated (a duplicate
    /// key), a byte cut, truncation, garbage bytes (also invalid UTF-8), deep nesting, a huge string, a comment.
    public static func mutateConfig(_ base: String, _ rng: inout SeededGenerator) -> Data {
        var lines = base.components(separatedBy: "\n")
        let rounds = Bool.random(using: &rng) ? 1 : Int.random(in: 2...3, using: &rng)
        var garbageAfterLine: [Int: [UInt8]] = [:]  // raw bytes (possibly invalid UTF-8) appended to a line
        var truncateAt: Int?
        for _ in 0..<rounds {
            let valueLines = lines.indices.filter { lines[$0].contains("\": ") && !lines[$0].hasSuffix("{") }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...3:  // a value replaced
                guard let i = valueLines.randomElement(using: &rng), let colon = lines[i].range(of: "\": ") else { continue }
                let comma = lines[i].hasSuffix(",") ? "," : ""
                let value = hostileValues.randomElement(using: &rng) ?? "null"
                lines[i] = String(lines[i][..<colon.upperBound]) + value + comma
            case 4:  // a line duplicated: the same key twice in one object
                guard let i = valueLines.randomElement(using: &rng) else { continue }
                let line = lines[i].hasSuffix(",") ? lines[i] : lines[i] + ","
                lines.insert(line, at: i)
            case 5:  // truncated
                truncateAt = Int.random(in: 0...max(0, base.utf8.count), using: &rng)
            case 6:  // garbage bytes somewhere
                let i = Int.random(in: 0..<lines.count, using: &rng)
                let count = Int.random(in: 1...8, using: &rng)
                garbageAfterLine[i, default: []] += (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            case 7:  // deep nesting in place of a value
                guard let i = valueLines.randomElement(using: &rng), let colon = lines[i].range(of: "\": ") else { continue }
                let depth = [10, 63, 64, 65, 200, 5000].randomElement(using: &rng) ?? 100
                let comma = lines[i].hasSuffix(",") ? "," : ""
                lines[i] = String(lines[i][..<colon.upperBound]) + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + comma
            case 8:  // a huge or unicode string
                guard let i = valueLines.randomElement(using: &rng), let colon = lines[i].range(of: "\": ") else { continue }
                let comma = lines[i].hasSuffix(",") ? "," : ""
                let text = Bool.random(using: &rng) ? String(repeating: "X", count: 200_000) : "ß∂ƒ😀\\u00e9\\n\\\"\\\\"
                lines[i] = String(lines[i][..<colon.upperBound]) + "\"" + text + "\"" + comma
            default:  // comments, good and bad
                let i = Int.random(in: 0..<lines.count, using: &rng)
                let comment = ["// a comment", "/* block */", "# hash", "//", "/"].randomElement(using: &rng) ?? "//"
                lines.insert(comment, at: i)
            }
        }
        var bytes: [UInt8] = []
        for (i, line) in lines.enumerated() {
            if i > 0 { bytes.append(0x0A) }
            bytes += Array(line.utf8) + (garbageAfterLine[i] ?? [])
        }
        if let truncateAt { bytes = Array(bytes.prefix(truncateAt)) }
        return Data(bytes)
    }

    /// A valid OHLCV CSV of `rows` hourly bars from 2024-01-01 (times as epoch milliseconds or RFC 3339).
    public static func baseCSV(rows: Int, rfc3339: Bool, _ rng: inout SeededGenerator) -> String {
        var out = "time,open,high,low,close,volume\n"
        var price = 100.0
        let start: Int64 = 1_704_067_200_000
        for i in 0..<rows {
            let t = start + Int64(i) * 3_600_000
            let open = price
            let close = max(1, price * (1 + Double.random(in: -0.02...0.02, using: &rng)))
            let high = max(open, close) * (1 + Double.random(in: 0...0.01, using: &rng))
            let low = min(open, close) * (1 - Double.random(in: 0...0.01, using: &rng))
            price = close
            let time: String
            if rfc3339 {
                let date = Date(timeIntervalSince1970: Double(t) / 1000)
                let f = ISO8601DateFormatter()
                f.formatOptions = [.withInternetDateTime]
                time = f.string(from: date)
            } else {
                time = String(t)
            }
            out += "\(time),\(String(format: "%.4f", open)),\(String(format: "%.4f", high)),\(String(format: "%.4f", low)),\(String(format: "%.4f", close)),\(String(format: "%.2f", Double.random(in: 0...1000, using: &rng)))\n"
        }
        return out
    }

    /// Values that have broken CSV parsers: extreme epochs, impossible dates, signs, hexadecimal, NaN and infinities.
    public static let hostileCSVFields: [String] = [
        "9223372036854775807", "-9223372036854775807", "-9223372036854775808", "18446744073709551616", "999999999999999999",
        "253402300800000", "-1", "+1704067200000", "0x10", "0X1F", "NaN", "nan", "inf", "-inf", "Infinity", "1e400", "-1e400",
        "", " ", "-", "--1", "+-1", "1.2.3", "1e", "1e+", "1 000", "١٢٣", "2001-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01T00:00:60Z", "2024-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
        "2024-01-01T00:00:00+25:00", "2024-01-01T00:00:00.1234567890Z", "2024-01-01 00:00:00Z", "\"100\"", "1e-400", "0",
        "-0", "5e2", "1E3", "0.000000000000000000000000001",
    ]

    /// A CSV with one to three mutations: a field replaced by a hostile value, line endings changed (CRLF, CR only,
    /// mixed), a huge line, a line duplicated or dropped, the header removed, truncation, garbage (invalid UTF-8) bytes.
    public static func mutateCSV(_ base: String, _ rng: inout SeededGenerator) -> [UInt8] {
        var lines: [[UInt8]] = base.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.utf8) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        var separator: [UInt8] = [0x0A]
        var truncateAt: Int?
        let rounds = Bool.random(using: &rng) ? 1 : Int.random(in: 2...3, using: &rng)
        for _ in 0..<rounds {
            guard lines.count > 1 else { break }
            let i = Int.random(in: 1..<lines.count, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0...4:  // a field replaced
                var fields = lines[i].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map(Array.init)
                let f = Int.random(in: 0..<fields.count, using: &rng)
                fields[f] = Array((hostileCSVFields.randomElement(using: &rng) ?? "").utf8)
                lines[i] = Array(fields.joined(separator: [UInt8(ascii: ",")]))
            case 5:  // other line endings
                separator = [[0x0D, 0x0A], [0x0D], [0x0A, 0x0D]].randomElement(using: &rng) ?? [0x0A]
            case 6:  // a huge line
                lines[i] = Bool.random(using: &rng) ? lines[i] + Array(repeating: UInt8(ascii: "9"), count: 300_000)
                    : Array(repeating: UInt8(ascii: ","), count: 50_000)
            case 7:  // a line duplicated (times no longer increasing) or dropped
                if Bool.random(using: &rng) { lines.insert(lines[i], at: i) } else { lines.remove(at: i) }
            case 8:  // no header, or truncated
                if Bool.random(using: &rng) { lines.removeFirst() } else { truncateAt = Int.random(in: 0...base.utf8.count, using: &rng) }
            default:  // bytes that are not UTF-8
                let at = Int.random(in: 0...lines[i].count, using: &rng)
                lines[i].insert(contentsOf: (0..<Int.random(in: 1...6, using: &rng)).map { _ in UInt8.random(in: 0x80...0xFF, using: &rng) }, at: at)
            }
        }
        var bytes = Array(lines.joined(separator: separator)) + separator
        if let truncateAt { bytes = Array(bytes.prefix(truncateAt)) }
        return bytes
    }
}
