import Foundation

/// The JSON text the state database stores for flat objects (signal components, indicators, patterns, opinions, event
/// data), byte for byte what `JSONEncoder` with `.sortedKeys` writes for them (proved by `CompactJSONTests`), built
/// without the encoder's per-call set-up: the cycle writes several per symbol.
public enum CompactJSON {
    /// `{"key":value,…}` with the keys in ascending order.
    static func object<Value>(_ members: some Sequence<(key: String, value: Value)>, _ write: (Value, inout String) -> Void) -> String {
        let sorted = members.sorted { $0.key < $1.key }
        var out = "{"
        out.reserveCapacity(2 + 32 * sorted.count)  // a key and a number each, without growing the text on the way
        for (k, member) in sorted.enumerated() {
            if k > 0 { out.append(",") }
            string(member.key, into: &out)
            out.append(":")
            write(member.value, &out)
        }
        out.append("}")
        return out
    }

    public static func object(_ members: [String: String]) -> String { object(members.lazy.map { (key: $0.key, value: $0.value) }, string) }
    /// `{}` when a value is not finite (the encoder refuses those, and the callers store `{}` then).
    static func object(_ members: [String: Double]) -> String {
        guard members.values.allSatisfy(\.isFinite) else { return "{}" }
        return object(members.lazy.map { (key: $0.key, value: $0.value) }, number)
    }
    static func object(_ members: [String: Int]) -> String { object(members.lazy.map { (key: $0.key, value: $0.value) }) { $1.append(String($0)) } }

    /// A finite double as `JSONEncoder` writes it: the shortest text that reads back exactly, without a trailing ".0".
    static func number(_ value: Double, into out: inout String) {
        let text = value.description
        if text.hasSuffix(".0") { out.append(contentsOf: text.dropLast(2)) } else { out.append(text) }
    }

    /// A string literal, escaped as `JSONEncoder` escapes it (quote, backslash, slash, control characters).
    static func string(_ value: String, into out: inout String) {
        out.append("\"")
        var plain = true
        for byte in value.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x2F { plain = false; break }
        if plain {
            out.append(value)
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": out.append("\\\"")
                case "\\": out.append("\\\\")
                case "/": out.append("\\/")
                case "\n": out.append("\\n")
                case "\r": out.append("\\r")
                case "\t": out.append("\\t")
                case "\u{08}": out.append("\\b")
                case "\u{0C}": out.append("\\f")
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append("\"")
    }
}
