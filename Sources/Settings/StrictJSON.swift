import Foundation
import TradingDomain

/// A JSON value as read from a configuration file (kept apart from `ConfigValue`, which is validated). Numbers keep
/// their source text, so decimals stay exact; object members keep their order and where they start.
enum JSONValue {
    case null
    case bool(Bool)
    /// The number's text exactly as written (RFC 8259 syntax).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// The value for messages, long texts shortened.
    var shown: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(text): return MessageText.shortened(text)
        case let .string(s): return ConfigValue.quote(MessageText.shortened(s))
        case let .array(a):
            let text = "[" + a.prefix(10).map(\.shown).joined(separator: ", ") + (a.count > 10 ? ", …" : "") + "]"
            return MessageText.shortened(text)
        case .object: return "{…}"
        }
    }

    /// At most 60 characters, then `…` and the full length.
}

/// One member of a JSON object: its name, value and the line and column (1-based) where its name starts.
struct JSONMember {
    let name: String
    let value: JSONValue
    let line: Int
    let column: Int
}

/// Malformed JSON text: what is wrong and where (1-based line and column, columns counted in characters).
struct JSONSyntaxError: Error, CustomStringConvertible {
    let line: Int
    let column: Int
    let message: String
    var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict JSON reader (RFC 8259) that also accepts `//` line comments wherever white space may stand (so the
/// commented `config template` loads back). It refuses what Foundation's reader lets through or hides: a key that
/// appears twice in one object (at any depth), numbers outside the JSON syntax (`+1`, `01`, `0x10`, `NaN`), control
/// characters in strings, lone surrogate escapes, invalid UTF-8, trailing text, and nesting deeper than 64 levels.
struct StrictJSONReader {
    static let maximumDepth = 64
    private let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var lineStart = 0

    private init(_ data: Data) {
        bytes = [UInt8](data)
    }

    /// Parses the whole of `data` as one JSON value.
    static func parse(_ data: Data) throws -> JSONValue {
        var reader = StrictJSONReader(data)
        if reader.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.pos = 3; reader.lineStart = 3 }  // a UTF-8 byte order mark
        try reader.skipSpace()
        guard reader.pos < reader.bytes.count else { throw reader.error("no JSON value (the text is empty)") }
        let value = try reader.value(path: "", depth: 0)
        try reader.skipSpace()
        if reader.pos < reader.bytes.count { throw reader.error("unexpected \(reader.describeCurrent()) after the JSON value") }
        return value
    }

    // MARK: Positions and errors

    /// The last column computed, so that columns of a long line are counted once, not from its start each time.
    private final class ColumnCache {
        var lineStart = -1, offset = 0, column = 1
    }
    private let cache = ColumnCache()

    private func column(at offset: Int) -> Int {
        var column = 1
        var k = lineStart
        if cache.lineStart == lineStart, cache.offset <= offset {
            column = cache.column
            k = cache.offset
        }
        while k < offset && k < bytes.count {
            if bytes[k] & 0xC0 != 0x80 { column += 1 }
            k += 1
        }
        cache.lineStart = lineStart
        cache.offset = k
        cache.column = column
        return column
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(line: line, column: column(at: offset ?? pos), message: message)
    }

    private func describeCurrent() -> String {
        guard pos < bytes.count else { return "end of text" }
        let b = bytes[pos]
        if b >= 0x20 && b < 0x7F { return "\"\(Character(UnicodeScalar(b)))\"" }
        return String(format: "byte 0x%02X", b)
    }

    // MARK: Grammar

    private mutating func skipSpace() throws {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0D:
                pos += 1
            case 0x0A:
                pos += 1
                line += 1
                lineStart = pos
            case UInt8(ascii: "/"):
                guard pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "/") else {
                    throw error("unexpected \"/\" (only // line comments are allowed)")
                }
                while pos < bytes.count && bytes[pos] != 0x0A { pos += 1 }
            default:
                return
            }
        }
    }

    private mutating func value(path: String, depth: Int) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        guard pos < bytes.count else { throw error("unexpected end of text, expected a value") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object(path: path, depth: depth)
        case UInt8(ascii: "["): return try array(path: path, depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w else {
            throw error("unexpected \(describeCurrent()), expected a value")
        }
        pos += w.count
    }

    private mutating func object(path: String, depth: Int) throws -> JSONValue {
        pos += 1
        var members: [JSONMember] = []
        var seen: [String: (Int, Int)] = [:]
        try skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object([]) }
        while true {
            try skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a key in double quotes")
            }
            let keyLine = line, keyColumn = column(at: pos)
            let name = try string()
            let memberPath = path.isEmpty ? name : path + "." + name
            if let (firstLine, firstColumn) = seen[name] {
                throw JSONSyntaxError(line: keyLine, column: keyColumn,
                                      message: "duplicate key \(ConfigValue.quote(MessageText.shortened(memberPath))) (first at line \(firstLine), column \(firstColumn))")
            }
            seen[name] = (keyLine, keyColumn)
            try skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("unexpected \(describeCurrent()), expected \":\"") }
            pos += 1
            try skipSpace()
            let v = try value(path: memberPath, depth: depth + 1)
            members.append(JSONMember(name: name, value: v, line: keyLine, column: keyColumn))
            try skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of text, expected \",\" or \"}\"") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            throw error("unexpected \(describeCurrent()), expected \",\" or \"}\"")
        }
    }

    private mutating func array(path: String, depth: Int) throws -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        try skipSpace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array([]) }
        while true {
            try skipSpace()
            items.append(try value(path: "\(path)[\(items.count)]", depth: depth + 1))
            try skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of text, expected \",\" or \"]\"") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw error("unexpected \(describeCurrent()), expected \",\" or \"]\"")
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as written.
    private mutating func number() throws -> String {
        let start = pos
        func digits() -> Int {
            var n = 0
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1; n += 1 }
            return n
        }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        let intDigits = digits()
        guard intDigits > 0 else { throw error("malformed number: expected a digit after \"-\"", at: start) }
        if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") { throw error("malformed number: leading zero", at: start) }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw error("malformed number: expected a digit after \".\"", at: start) }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw error("malformed number: expected a digit in the exponent", at: start) }
        }
        if pos < bytes.count, (bytes[pos] >= UInt8(ascii: "a") && bytes[pos] <= UInt8(ascii: "z")) || (bytes[pos] >= UInt8(ascii: "A") && bytes[pos] <= UInt8(ascii: "Z")) || bytes[pos] == UInt8(ascii: ".") {
            throw error("malformed number (hexadecimal, NaN, Infinity and the like are not JSON)", at: start)
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func string() throws -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        func hex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count else { throw error("unexpected end of text in a \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("malformed \\u escape: expected four hexadecimal digits")
                }
                v = v * 16 + d
                pos += 1
            }
            return v
        }
        while true {
            guard pos < bytes.count else { throw error("unexpected end of text in a string (missing closing quote)", at: start) }
            let c = bytes[pos]
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw error("the string is not valid UTF-8", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                pos += 1
                guard pos < bytes.count else { throw error("unexpected end of text after \"\\\"") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw error("a \\u escape of a lone surrogate")
                        }
                        pos += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("a \\u escape of a lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("a \\u escape of a lone surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw error("a \\u escape that is not a character") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    pos -= 1
                    throw error("unknown escape \"\\\(Character(UnicodeScalar(e)))\" in a string")
                }
            default:
                guard c >= 0x20 else {
                    throw error(c == 0x0A ? "a line break inside a string (missing closing quote?)" : String(format: "control character 0x%02X inside a string", c))
                }
                out.append(c)
                pos += 1
            }
        }
    }
}
