import Foundation
import TradingDomain

/// A configuration that cannot be used: every problem found (not only the first), each naming the key
/// path (or environment variable), the value and what was expected.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let problems: [String]
    /// What the file is, for the message's first line (`configuration`, `search space`).
    public let subject: String
    public init(file: String, problems: [String], subject: String = "configuration") {
        self.file = file
        self.problems = problems
        self.subject = subject
    }
    public var description: String {
        "invalid \(subject) \(file):\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
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
    /// A decimal key as the fixed-point kind it stands for (`Money`, `Fixed`, …).
    public func decimal<T: FixedPointValue>(_ path: String, as _: T.Type = T.self) -> T {
        if case let .decimal(v)? = values[path] { return v.reinterpreted(as: T.self) }
        if case let .decimal(v)? = ConfigKeys.byPath[path]?.defaultValue { return v.reinterpreted(as: T.self) }
        return .zero
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

extension ResolvedConfig {
    /// This configuration with `overrides` set (each already valid for its key on its own, as a `SearchSpace` gives
    /// them), the relations between keys checked again; named `source` in messages. The hash covers the overrides.
    public func overriding(_ overrides: [String: ConfigValue], source: String) throws -> ResolvedConfig {
        var merged = values
        var problems: [String] = []
        var hashInput = Data(hash.utf8)
        for path in overrides.keys.sorted() {
            guard ConfigKeys.byPath[path] != nil, let value = overrides[path] else {
                problems.append("\(path): no such configuration key")
                continue
            }
            merged[path] = value
            hashInput.append(contentsOf: Array("\n\(path)=\(value.json)".utf8))
        }
        ConfigLoader.checkRelations(merged, problems: &problems)
        if !problems.isEmpty { throw ConfigError(file: source, problems: problems) }
        return ResolvedConfig(file: file, values: merged, hash: ConfigLoader.fnv1a(hashInput), overriddenByEnvironment: overriddenByEnvironment)
    }
}

/// Reads, overrides and validates the configuration. Environment overrides are `TRADEJOB__SECTION__KEY`
/// (double underscore between levels, case-insensitive), e.g. `TRADEJOB__RISK__MAX_OPEN_POSITIONS=5`.
public enum ConfigLoader {
    public static let environmentPrefix = "TRADEJOB__"

    /// Loads `path`; throws `ConfigError` listing every problem.
    public static func load(path: String, environment: [String: String]) throws -> ResolvedConfig {
        try resolve(data: read(path: path), file: path, environment: environment)
    }

    /// The bytes of the configuration file `path`; throws `ConfigError` when it is missing or unreadable.
    public static func read(path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConfigError(file: path, problems: [exists ? "the file cannot be read (check its permissions)" : "the file does not exist"])
        }
        return data
    }

    /// Validates JSON `data` (named `file` in messages) with `environment`'s overrides.
    public static func resolve(data: Data, file: String, environment: [String: String]) throws -> ResolvedConfig {
        var problems: [String] = []
        var raw: [String: JSONValue] = [:]
        let root: JSONValue
        do {
            root = try StrictJSONReader.parse(data)
        } catch let error as JSONSyntaxError {
            throw ConfigError(file: file, problems: ["not valid JSON: \(error)"])
        }
        guard case let .object(members) = root else {
            throw ConfigError(file: file, problems: ["the top level must be a JSON object, got \(root.shown)"])
        }
        flatten(members, prefix: "", into: &raw, problems: &problems)

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

    static func flatten(_ members: [JSONMember], prefix: String, into raw: inout [String: JSONValue], problems: inout [String]) {
        for member in members {
            let name = member.name, value = member.value
            let path = prefix.isEmpty ? name : prefix + "." + name
            if ConfigKeys.byPath[path] != nil {
                raw[path] = value
            } else if case let .object(children) = value, ConfigKeys.isSection(path) {
                flatten(children, prefix: path, into: &raw, problems: &problems)
            } else if ConfigKeys.isSection(path) {
                problems.append("\(path): got \(value.shown), expected an object (section)")
            } else {
                problems.append("\(MessageText.shortened(path)): unknown key at line \(member.line), column \(member.column) (see `tradejob config template` for every key)")
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
            guard case let .number(text) = json, let v = integer(text), v >= min, v <= max else { return fail() }
            return .int(v)
        case let .double(min, max):
            guard case let .number(text) = json, let d = Double(text), d.isFinite, d >= min, d <= max else { return fail() }
            return .double(d)
        case let .decimal(min, max):
            let parsed: Fixed?
            switch json {
            case let .string(s): parsed = parseDecimal(s)
            case let .number(text): parsed = parseDecimal(text)
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
                guard case let .object(objectMembers) = item else {
                    problems.append("\(path)[\(index)]: got \(item.shown), expected an object")
                    ok = false
                    continue
                }
                var object: [String: ConfigValue] = [:]
                let known = Dictionary(fields.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
                let members = objectMembers.map { ($0.name, $0.value) }
                for (name, value) in members {
                    guard let field = known[name] else {
                        problems.append("\(path)[\(index)].\(MessageText.shortened(name)): unknown key")
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

    /// A decimal in the strict syntax of `Money.hasPlainNumberSyntax` (`-12.5`, `1e-3`; no `+`, no second sign, no
    /// other characters) with at most 8 decimals, within the fixed-point range.
    static func parseDecimal(_ text: String) -> Fixed? { Fixed(text) }

    /// An integer written as a JSON number: `500`, also `500.0` or `5e2` (an integral value), below 10^15 in magnitude.
    static func integer(_ text: String) -> Int? {
        if let v = Int(text) { return v }
        guard let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }

    /// A number for a `.double` key from the environment: the JSON number syntax (no hexadecimal, no `inf`/`nan`).
    static func parseDouble(_ text: String) -> Double? {
        guard Money.hasPlainNumberSyntax(text), let d = Double(text), d.isFinite else { return nil }
        return d
    }

    static func parseEnvironment(_ value: String, as kind: ConfigKind, variable: String, problems: inout [String]) -> ConfigValue? {
        let message = "environment \(variable): got \(ConfigValue.quote(MessageText.shortened(value))), expected \(kind.expectation)"
        var failed = false
        func fail() -> ConfigValue? {
            failed = true
            return nil
        }
        defer { if failed { problems.append(message) } }
        let t = value.trimmingCharacters(in: .whitespaces)
        switch kind {
        case let .int(min, max):
            guard Money.hasPlainNumberSyntax(t), let v = integer(t), v >= min, v <= max else { return fail() }
            return .int(v)
        case let .double(min, max):
            guard let v = parseDouble(t), v >= min, v <= max else { return fail() }
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
            if t.hasPrefix("[") {
                do {
                    return validate(try StrictJSONReader.parse(Data(t.utf8)), as: kind, path: "environment \(variable)", problems: &problems)
                } catch {
                    problems.append("environment \(variable): not valid JSON: \(error)")
                    return nil
                }
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
        checkSymbols(values, problems: &problems)
        checkPeriodsAgainstLookback(values, problems: &problems)
        if case let .string(dir)? = values["market.csv_dir"], case .string("csv")? = values["market.source"], dir.isEmpty {
            problems.append("market.csv_dir: got \"\", expected a directory (market.source is \"csv\")")
        }
        if case let .objectList(providers)? = values["llm.providers"] {
            var names = Set<String>()
            for (index, provider) in providers.enumerated() {
                for required in ["name", "base_url", "model"] {
                    if case let .string(s)? = provider[required], !s.isEmpty { continue }
                    problems.append("llm.providers[\(index)].\(required): missing, expected a non-empty string")
                }
                if case let .string(name)? = provider["name"], !name.isEmpty, !names.insert(name).inserted {
                    problems.append("llm.providers[\(index)].name: got \(ConfigValue.quote(MessageText.shortened(name))), expected a name not used by another provider")
                }
                if case let .string(url)? = provider["base_url"], !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                    problems.append("llm.providers[\(index)].base_url: got \(ConfigValue.quote(MessageText.shortened(url))), expected an http:// or https:// URL")
                }
            }
        }
        for path in ["binance.base_url", "notifications.telegram_api_base"] {
            if case let .string(url)? = values[path], !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                problems.append("\(path): got \(ConfigValue.quote(MessageText.shortened(url))), expected an http:// or https:// URL")
            }
        }
        if case let .string(url)? = values["state.url"], !url.isEmpty {
            let account = values["state.account"].flatMap { if case let .string(a) = $0 { a } else { nil } } ?? "default"
            do { _ = try PostgresAddress(url: url, account: account) } catch { problems.append("\(error)") }
        } else if case let .string(account)? = values["state.account"], !PostgresAddress.isValidAccount(account) {
            problems.append(PostgresAddress.accountProblem(account))
        }
        for path in ["metrics.pushgateway_url", "notifications.webhook_url"] {
            if case let .string(url)? = values[path], !url.isEmpty, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                problems.append("\(path): got a value that is not an http:// or https:// URL")
            }
        }
    }

    /// A symbol as Binance spells it: 2 to 20 upper-case ASCII letters and digits (it also names a CSV file and is
    /// stored with every candle, so nothing else is let through).
    static func isValidSymbol(_ symbol: String) -> Bool { isUpperAlphanumeric(symbol, lengths: 2...20) }

    /// A quote asset: 2 to 10 upper-case ASCII letters and digits (as Binance's assets are spelt, e.g. `USDT`).
    static func isValidAsset(_ asset: String) -> Bool { isUpperAlphanumeric(asset, lengths: 2...10) }

    private static func isUpperAlphanumeric(_ text: String, lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Symbols and `paper.quote_asset` are well formed; with Binance market data (whose symbols are always a base asset
    /// followed by the quote asset) each symbol ends with `paper.quote_asset`. Simulated and CSV markets may name a
    /// symbol freely (`SPY`): the paper broker then takes the whole symbol as the base asset.
    static func checkSymbols(_ values: [String: ConfigValue], problems: inout [String]) {
        var quote: String?
        if case let .string(q)? = values["paper.quote_asset"] {
            if isValidAsset(q) { quote = q } else {
                problems.append("paper.quote_asset: got \(ConfigValue.quote(MessageText.shortened(q))), expected 2 to 10 upper-case letters or digits (e.g. \"USDT\")")
            }
        }
        guard case let .stringList(symbols)? = values["market.symbols"] else { return }
        for symbol in symbols {
            if !isValidSymbol(symbol) {
                problems.append("market.symbols: got \(ConfigValue.quote(MessageText.shortened(symbol))), expected 2 to 20 upper-case letters and digits (e.g. \"BTCUSDT\")")
            } else if let quote, case .string("binance")? = values["market.source"], !(symbol.hasSuffix(quote) && symbol.count > quote.count) {
                problems.append("market.symbols: got \(ConfigValue.quote(symbol)), expected a symbol quoted in paper.quote_asset (\(ConfigValue.quote(quote))) such as \"BTC\(quote)\", as Binance's symbols are")
            }
        }
    }

    /// The closed candles one analysis needs for each period key (`SymbolAnalyzer.snapshot` needs more than these):
    /// each must stay below `market.lookback`, or every symbol fails to analyse on every run.
    static let periodNeeds: [(path: String, times: Int, plus: Int, rule: String)] = [
        ("analysis.ema_fast", 1, 0, "analysis.ema_fast"),
        ("analysis.ema_slow", 1, 0, "analysis.ema_slow"),
        ("analysis.rsi_period", 1, 1, "analysis.rsi_period + 1"),
        ("analysis.atr_period", 1, 1, "analysis.atr_period + 1"),
        ("analysis.bollinger_period", 1, 0, "analysis.bollinger_period"),
        ("analysis.adx_period", 2, 0, "2 × analysis.adx_period"),
        ("analysis.pivot_window", 2, 1, "2 × analysis.pivot_window + 1"),
        ("volatility.window", 1, 1, "volatility.window + 1"),
    ]

    static func checkPeriodsAgainstLookback(_ values: [String: ConfigValue], problems: inout [String]) {
        guard case let .int(lookback)? = values["market.lookback"] else { return }
        for need in periodNeeds {
            guard case let .int(period)? = values[need.path] else { continue }
            let bars = need.times * period + need.plus  // periods are bounded by their keys' ranges: no overflow
            if bars >= lookback {
                problems.append("\(need.path): got \(period), expected \(need.rule) (\(bars)) below market.lookback (\(lookback)): an analysis needs more closed candles than that")
            }
        }
    }

    static func fnv1a(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        // Read in place (Data's iterator costs about 60 instructions a byte).
        data.withUnsafeBytes { bytes in
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
