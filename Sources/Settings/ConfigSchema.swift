import Foundation
import TradingDomain

/// The type and allowed range of one configuration key.
public indirect enum ConfigKind: Sendable {
    case int(min: Int, max: Int)
    case double(min: Double, max: Double)
    /// Money or another exact number: a JSON string like `"10000"` (or a JSON number), at most 8 decimals.
    case decimal(min: Fixed, max: Fixed)
    case bool
    case string(allowed: [String]?)
    case stringList(minCount: Int)
    /// A list of objects, each validated against `fields` (paths relative to the element).
    case objectList([ConfigKey])

    var expectation: String {
        switch self {
        case let .int(min, max): return "an integer from \(min) to \(max)"
        case let .double(min, max): return "a number from \(min) to \(max)"
        case let .decimal(min, max): return "a decimal (string such as \"10.5\", at most 8 decimals) from \(min) to \(max)"
        case .bool: return "true or false"
        case let .string(allowed): return allowed.map { "one of " + $0.map { "\"\($0)\"" }.joined(separator: ", ") } ?? "a string"
        case let .stringList(minCount): return "a list of at least \(minCount) string(s)"
        case .objectList: return "a list of objects"
        }
    }
}

/// One documented configuration key: its dotted path, kind, default and a one-line description.
public struct ConfigKey: Sendable {
    public let path: String
    public let kind: ConfigKind
    public let defaultValue: ConfigValue
    public let doc: String
    /// Values of secret keys are redacted by `config show`.
    public let secret: Bool

    public init(_ path: String, _ kind: ConfigKind, _ defaultValue: ConfigValue, _ doc: String, secret: Bool = false) {
        self.path = path
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.secret = secret
    }
}

/// A validated configuration value.
public enum ConfigValue: Sendable, Hashable {
    case int(Int)
    case double(Double)
    case decimal(Fixed)
    case bool(Bool)
    case string(String)
    case stringList([String])
    case objectList([[String: ConfigValue]])

    /// The JSON text of the value (decimals as strings, so they stay exact).
    public var json: String {
        switch self {
        case let .int(v): return String(v)
        case let .double(v): return v == v.rounded() && abs(v) < 1e15 ? String(format: "%.1f", v) : "\(v)"
        case let .decimal(v): return "\"\(v)\""
        case let .bool(v): return v ? "true" : "false"
        case let .string(v): return ConfigValue.quote(v)
        case let .stringList(v): return "[" + v.map(ConfigValue.quote).joined(separator: ", ") + "]"
        case let .objectList(list):
            return "[" + list.map { obj in
                "{" + obj.keys.sorted().compactMap { k in obj[k].map { "\(ConfigValue.quote(k)): \($0.json)" } }.joined(separator: ", ") + "}"
            }.joined(separator: ", ") + "]"
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if ch.value < 0x20 { out += String(format: "\\u%04x", ch.value) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
