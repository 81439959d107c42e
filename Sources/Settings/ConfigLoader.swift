import Foundation

/// A configuration that cannot be used: every problem found (not only the first), each naming the key
/// path (or environment variable), the value and what was expected.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let problems: [String]
    public init(file: String, problems: [String]) {
        self.file = file
        self.problems = problems
    }
    public var description: String {
        "invalid configuration \(file):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// A JSON value as read from the file (kept apart from `ConfigValue`, which is validated).
enum JSONValue: Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        if let container = try? decoder.container(keyedBy: Key.self) {
            var members: [(String, JSONValue)] = []
            for key in container.allKeys { members.append((key.stringValue, try container.decode(JSONValue.self, forKey: key))) }
            self = .object(members.sorted { $0.0 < $1.0 })
            return
        }
        if var container = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !container.isAtEnd { items.append(try container.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let d = try? single.decode(Double.self) { self = .number(d) }
        else { self = .string(try single.decode(String.self)) }
    }

    var shown: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case let .string(s): return ConfigValue.quote(s)
        case let .array(a): return "[" + a.map(\.shown).joined(separator: ", ") + "]"
        case .object: return "{…}"
        }
    }
}

/// A validated configuration: every key of `ConfigKeys.all` with its effective value (file, then
/// environment overrides, then defaults), plus where it came from and a hash of the inputs.
public struct ResolvedConfig: Sendable {
    public let file: String
    public let values: [String: ConfigValue]
    /// Hex FNV-1a hash of the file's bytes and the environment overrides: changes when the effective input changes.
    public let hash: String
    /// Keys set by `TRADEJOB__…` variables.
    public let overriddenByEnvironment: [String]

    public func int(_ path: String) -> Int {
        if case let .int(v)? = values[path] { return v }
        if case let .int(v)? = ConfigKeys.byPath[path]?.defaultValue { return v }
        return 0
    }
    public func double(_ path: String) -> Double {
        if case let .double(v)? = values[path] { return v }
        if case let .double(v)? = ConfigKeys.byPath[path]?.defaultValue { return v }
        return 0
    }
    public func decimal(_ path: String) -> Decimal {
        if case let .decimal(v)? = values[path] { return v }
        if case let .decimal(v)? = ConfigKeys.byPath[path]?.defaultValue { return v }
        return 0
    }
    public func bool(_ path: String) -> Bool {
        if case let .bool(v)? = values[path] { return v }
        if case let .bool(v)? = ConfigKeys.byPath[path]?.defaultValue { return v }
        return false
    }
    public func string(_ path: String) -> String {
        if case let .string(v)? = values[path] { return v }
        if case let .string(v)? = ConfigKeys.byPath[path]?.defaultValue { return v }
        return ""
    }
    public func strings(_ path: String) -> [String] {
        if case let .stringList(v)? = values[path] { return v }
        if case let .stringList(v)? = ConfigKeys.byPath[path]?.defaultValue { return v }
        return []
    }
    public func objects(_ path: String) -> [[String: ConfigValue]] {
        if case let .objectList(v)? = values[path] { return v }
        return []
    }
}

/// Reads, overrides and validates the configuration. Environment overrides are `TRADEJOB__SECTION__KEY`
/// (double underscore between levels, case-insensitive), e.g. `TRADEJOB__RISK__MAX_OPEN_POSITIONS=5`.
public enum ConfigLoader {
    public static let environmentPrefix = "TRADEJOB__"

    /// Loads `path`; throws `ConfigError` listing every problem.
    public static func load(path: String, environment: [String: String]) throws -> ResolvedConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(file: path, problems: [exists ? "the file cannot be read (check its permissions)" : "the file does not exist"])
        }
        return try resolve(data: data, file: path, environment: environment)
    }

    /// Validates JSON `data` (named `file` in messages) with `environment`'s overrides.
    public static func resolve(data: Data, file: String, environment: [String: String]) throws -> ResolvedConfig {
        var problems: [String] = []
        var raw: [String: JSONValue] = [:]
        do {
            let root = try JSONDecoder().decode(JSONValue.self, from: data)
            guard case let .object(members) = root else {
                throw ConfigError(file: file, problems: ["the top level must be a JSON object"])
            }
            flatten(members, prefix: "", into: &raw, problems: &problems)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file, problems: ["not valid JSON: \(describe(error))"])
        }

        var values: [String: ConfigValue] = [:]
        for key in ConfigKeys.all {
            if let json = raw[key.path] {
                if let value = validate(json, as: key.kind, path: key.path, problems: &problems) { values[key.path] = value }
            } else {
                values[key.path] = key.defaultValue
            }
        }

        var overridden: [String] = []
        var hashInput = data
        for name in environment.keys.sorted() where name.uppercased().hasPrefix(environmentPrefix) {
            let value = environment[name] ?? ""
            let path = name.dropFirst(environmentPrefix.count).components(separatedBy: "__").map { $0.lowercased() }.joined(separator: ".")
            guard let key = ConfigKeys.byPath[path] else {
                problems.append("environment \(name): no configuration key \"\(path)\" (see `tradejob config template`)")
                continue
            }
            if let parsed = parseEnvironment(value, as: key.kind, variable: name, problems: &problems) {
                values[path] = parsed
                overridden.append(path)
                hashInput.append(contentsOf: Array("\n\(path)=\(value)".utf8))
            }
        }

        checkRelations(values, problems: &problems)
        if !problems.isEmpty { throw ConfigError(file: file, problems: problems) }
        return ResolvedConfig(file: file, values: values, hash: fnv1a(hashInput), overriddenByEnvironment: overridden)
    }

    static func describe(_ error: Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }

    static func flatten(_ members: [(String, JSONValue)], prefix: String, into raw: inout [String: JSONValue], problems: inout [String]) {
        for (name, value) in members {
            let path = prefix.isEmpty ? name : prefix + "." + name
            if ConfigKeys.byPath[path] != nil {
                raw[path] = value
            } else if case let .object(children) = value, ConfigKeys.all.contains(where: { $0.path.hasPrefix(path + ".") }) {
                flatten(children, prefix: path, into: &raw, problems: &problems)
            } else if ConfigKeys.all.contains(where: { $0.path.hasPrefix(path + ".") }) {
                problems.append("\(path): got \(value.shown), expected an object (section)")
            } else {
                problems.append("\(path): unknown key (see `tradejob config template` for every key)")
            }
        }
    }

    static func validate(_ json: JSONValue, as kind: ConfigKind, path: String, problems: inout [String]) -> ConfigValue? {
        func fail() -> ConfigValue? {
            problems.append("\(path): got \(json.shown), expected \(kind.expectation)")
            return nil
        }
        switch kind {
        case let .int(min, max):
            guard case let .number(d) = json, d == d.rounded(), abs(d) < 1e15, Int(d) >= min, Int(d) <= max else { return fail() }
            return .int(Int(d))
        case let .double(min, max):
            guard case let .number(d) = json, d.isFinite, d >= min, d <= max else { return fail() }
            return .double(d)
        case let .decimal(min, max):
            let parsed: Decimal?
            switch json {
            case let .string(s): parsed = parseDecimal(s)
            case let .number(d): parsed = d.isFinite ? Decimal(string: "\(d)", locale: Locale(identifier: "en_US_POSIX")) : nil
            default: parsed = nil
            }
            guard let value = parsed, value >= min, value <= max else { return fail() }
            return .decimal(value)
        case .bool:
            guard case let .bool(b) = json else { return fail() }
            return .bool(b)
        case let .string(allowed):
            guard case let .string(s) = json, allowed.map({ $0.contains(s) }) ?? true else { return fail() }
            return .string(s)
        case let .stringList(minCount):
            guard case let .array(items) = json else { return fail() }
            var strings: [String] = []
            for item in items {
                guard case let .string(s) = item, !s.isEmpty else { return fail() }
                strings.append(s)
            }
            guard strings.count >= minCount, Set(strings).count == strings.count else { return fail() }
            return .stringList(strings)
        case let .objectList(fields):
            guard case let .array(items) = json else { return fail() }
            var list: [[String: ConfigValue]] = []
            var ok = true
            for (index, item) in items.enumerated() {
                guard case let .object(members) = item else {
                    problems.append("\(path)[\(index)]: got \(item.shown), expected an object")
                    ok = false
                    continue
                }
                var object: [String: ConfigValue] = [:]
                let known = Dictionary(fields.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
                for (name, value) in members {
                    guard let field = known[name] else {
                        problems.append("\(path)[\(index)].\(name): unknown key")
                        ok = false
                        continue
                    }
                    if let v = validate(value, as: field.kind, path: "\(path)[\(index)].\(name)", problems: &problems) { object[name] = v } else { ok = false }
                }
                for field in fields where object[field.path] == nil && !members.contains(where: { $0.0 == field.path }) {
                    object[field.path] = field.defaultValue
                }
                list.append(object)
            }
            return ok ? .objectList(list) : nil
        }
    }

    static func parseDecimal(_ text: String) -> Decimal? {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }),
              let d = Decimal(string: t, locale: Locale(identifier: "en_US_POSIX")), !d.isNaN else { return nil }
        return d
    }

    static func parseEnvironment(_ value: String, as kind: ConfigKind, variable: String, problems: inout [String]) -> ConfigValue? {
        let message = "environment \(variable): got \(ConfigValue.quote(value)), expected \(kind.expectation)"
        var failed = false
        func fail() -> ConfigValue? {
            failed = true
            return nil
        }
        defer { if failed { problems.append(message) } }
        let t = value.trimmingCharacters(in: .whitespaces)
        switch kind {
        case let .int(min, max):
            guard let v = Int(t), v >= min, v <= max else { return fail() }
            return .int(v)
        case let .double(min, max):
            guard let v = Double(t), v.isFinite, v >= min, v <= max else { return fail() }
            return .double(v)
        case let .decimal(min, max):
            guard let v = parseDecimal(t), v >= min, v <= max else { return fail() }
            return .decimal(v)
        case .bool:
            switch t.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: return fail()
            }
        case let .string(allowed):
            guard allowed.map({ $0.contains(value) }) ?? true else { return fail() }
            return .string(value)
        case .stringList, .objectList:
            if t.hasPrefix("["), let data = t.data(using: .utf8), let json = try? JSONDecoder().decode(JSONValue.self, from: data) {
                return validate(json, as: kind, path: "environment \(variable)", problems: &problems)
            }
            if case .stringList = kind {
                let items = t.split(separator: ",").map { JSONValue.string($0.trimmingCharacters(in: .whitespaces)) }
                return validate(.array(items), as: kind, path: "environment \(variable)", problems: &problems)
            }
            return fail()
        }
    }

    /// Checks between keys (after every key is valid on its own).
    static func checkRelations(_ values: [String: ConfigValue], problems: inout [String]) {
        if case let .double(low)? = values["volatility.low"], case let .double(high)? = values["volatility.high"], low >= high {
            problems.append("volatility.low: got \(low), expected less than volatility.high (\(high))")
        }
        if case let .int(fast)? = values["analysis.ema_fast"], case let .int(slow)? = values["analysis.ema_slow"], fast >= slow {
            problems.append("analysis.ema_fast: got \(fast), expected less than analysis.ema_slow (\(slow))")
        }
        if case let .stringList(symbols)? = values["market.symbols"] {
            for symbol in symbols where !symbol.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) {
                problems.append("market.symbols: got \(ConfigValue.quote(symbol)), expected upper-case letters and digits (e.g. \"BTCUSDT\")")
            }
        }
        if case let .objectList(providers)? = values["llm.providers"] {
            var names = Set<String>()
            for (index, provider) in providers.enumerated() {
                for required in ["name", "base_url", "model"] {
                    if case let .string(s)? = provider[required], !s.isEmpty { continue }
                    problems.append("llm.providers[\(index)].\(required): missing, expected a non-empty string")
                }
                if case let .string(name)? = provider["name"], !name.isEmpty, !names.insert(name).inserted {
                    problems.append("llm.providers[\(index)].name: got \(ConfigValue.quote(name)), expected a name not used by another provider")
                }
                if case let .string(url)? = provider["base_url"], !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                    problems.append("llm.providers[\(index)].base_url: got \(ConfigValue.quote(url)), expected an http:// or https:// URL")
                }
            }
        }
        for path in ["binance.base_url", "notifications.telegram_api_base"] {
            if case let .string(url)? = values[path], !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                problems.append("\(path): got \(ConfigValue.quote(url)), expected an http:// or https:// URL")
            }
        }
        for path in ["metrics.pushgateway_url", "notifications.webhook_url"] {
            if case let .string(url)? = values[path], !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                problems.append("\(path): got a value that is not an http:// or https:// URL")
            }
        }
    }

    static func fnv1a(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(format: "%016llx", hash)
    }
}
