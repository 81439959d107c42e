import Foundation
import TradingDomain

/// The parameters `tradejob optimize` searches: configuration keys, each with a range or a list of choices, read from
/// a JSON search space file (`{"strategy.min_confidence": [0.5, 0.8, 0.05], "risk.trailing_stop": {"choices": [true, false]}}`).
public struct SearchSpace: Sendable, Equatable {
    /// One searched configuration key.
    public struct Dimension: Sendable, Equatable {
        /// The dotted configuration key (`strategy.min_confidence`).
        public let path: String
        public let domain: Domain
        public init(path: String, domain: Domain) {
            self.path = path
            self.domain = domain
        }
    }

    /// Where a dimension's values come from.
    public enum Domain: Sendable, Equatable {
        /// Numbers from `low` to `high` inclusive; with a step, only `low + k·step` (the grid). Exact decimals; the
        /// key's kind (integer, number, decimal) decides how a point becomes a `ConfigValue`.
        case range(low: Fixed, high: Fixed, step: Fixed?)
        /// A list of values (booleans, strings, numbers), each valid for the key.
        case choices([ConfigValue])
    }

    public let dimensions: [Dimension]
    /// Searched settings that are not configuration keys (a command's own, e.g. sma-cross's periods), by path.
    public let extraKeys: [String: ConfigKey]

    public init(dimensions: [Dimension], extraKeys: [ConfigKey] = []) {
        self.dimensions = dimensions
        self.extraKeys = Dictionary(extraKeys.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public static func == (a: SearchSpace, b: SearchSpace) -> Bool {
        a.dimensions == b.dimensions && a.extraKeys.keys.sorted() == b.extraKeys.keys.sorted()
    }

    /// The key of `path`: a configuration key or one of `extraKeys`.
    public func key(_ path: String) -> ConfigKey? { ConfigKeys.byPath[path] ?? extraKeys[path] }
}

extension SearchSpace {
    /// Grid points at most (a bigger grid is refused: name fewer values or a coarser step).
    public static let maximumGridPoints = 10_000_000

    /// Reads a search space file: a JSON object whose members are configuration keys, each with `[low, high, step]`
    /// (the values low, low + step, … up to high), `[low, high]` (any value in between; integer keys: every integer)
    /// or `{"choices": [v1, v2, …]}`. Numbers are read exactly from their text (at most 8 decimals). Throws
    /// `ConfigError` naming `file` with every problem: the key, the value given and what was expected.
    /// `extraKeys` are settings of the command's own that may be searched besides the configuration keys.
    public static func parse(_ data: Data, file: String, extraKeys: [ConfigKey] = []) throws -> SearchSpace {
        let extras = Dictionary(extraKeys.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let root: JSONValue
        do {
            root = try StrictJSONReader.parse(data)
        } catch let error as JSONSyntaxError {
            throw ConfigError(file: file, problems: ["not valid JSON: \(error)"], subject: "search space")
        }
        guard case let .object(members) = root else {
            throw ConfigError(file: file, problems: ["the top level must be a JSON object of configuration keys, got \(root.shown)"], subject: "search space")
        }
        var problems: [String] = []
        var dimensions: [Dimension] = []
        var seen = Set<String>()
        if members.isEmpty { problems.append("no key to search: expected at least one configuration key with a range or choices") }
        for member in members {
            let path = member.name
            let at = "\(MessageText.shortened(path)) (line \(member.line))"
            guard seen.insert(path).inserted else {
                problems.append("\(at): the key is given twice")
                continue
            }
            guard let key = ConfigKeys.byPath[path] ?? extras[path] else {
                let own = extras.keys.sorted()
                problems.append("\(at): no configuration key of that name (see `tradejob config template`\(own.isEmpty ? "" : "; besides those, " + own.joined(separator: ", ")))")
                continue
            }
            if key.secret {
                problems.append("\(at): a secret key cannot be searched")
                continue
            }
            switch key.kind {
            case .int, .double, .decimal, .bool, .string: break
            default:
                problems.append("\(at): a list key cannot be searched, expected a key holding a number, a boolean or a string")
                continue
            }
            if let domain = readDomain(member.value, key: key, at: at, problems: &problems) {
                dimensions.append(Dimension(path: path, domain: domain))
            }
        }
        if problems.isEmpty {
            let space = SearchSpace(dimensions: dimensions, extraKeys: extraKeys)
            if let size = space.gridSize, size > maximumGridPoints {
                problems.append("the grid has \(size) points, at most \(maximumGridPoints): use fewer values, a coarser step or a range without a step")
            }
            if problems.isEmpty { return space }
        }
        throw ConfigError(file: file, problems: problems, subject: "search space")
    }

    static func readDomain(_ json: JSONValue, key: ConfigKey, at: String, problems: inout [String]) -> Domain? {
        switch json {
        case let .array(items):
            let expected: String
            let bounds: (Fixed, Fixed)
            switch key.kind {
            case let .int(min, max):
                expected = "[low, high] or [low, high, step] of whole numbers from \(min) to \(max)"
                bounds = (Fixed(exactly: min) ?? Fixed(raw: .min), Fixed(exactly: max) ?? Fixed(raw: .max))
            case let .double(min, max):
                expected = "[low, high] or [low, high, step] of numbers from \(min) to \(max)"
                bounds = ((try? Fixed(double: min)) ?? Fixed(raw: .min), (try? Fixed(double: max)) ?? Fixed(raw: .max))
            case let .decimal(min, max):
                expected = "[low, high] or [low, high, step] of numbers from \(min) to \(max)"
                bounds = (min, max)
            default:
                problems.append("\(at): got \(json.shown), expected {\"choices\": [...]} (a range needs a numeric key; this one is \(key.kind.expectation))")
                return nil
            }
            func fail() -> Domain? {
                problems.append("\(at): got \(json.shown), expected \(expected)")
                return nil
            }
            guard items.count == 2 || items.count == 3 else { return fail() }
            var numbers: [Fixed] = []
            for item in items {
                guard case let .number(text) = item, let value = Fixed(text) else { return fail() }
                numbers.append(value)
            }
            let low = numbers[0], high = numbers[1], step = numbers.count == 3 ? numbers[2] : nil
            guard low <= high, low >= bounds.0, high <= bounds.1 else { return fail() }
            if let step, step.raw <= 0 { return fail() }
            if case .int = key.kind {
                let whole = numbers.allSatisfy { $0.raw % FixedPoint.scale == 0 }
                guard whole else { return fail() }
                return .range(low: low, high: high, step: step ?? Fixed.one)
            }
            return .range(low: low, high: high, step: step)
        case let .object(members):
            let expected = "{\"choices\": [...]} with at least one value, each \(key.kind.expectation)"
            guard members.count == 1, members[0].name == "choices", case let .array(items) = members[0].value, !items.isEmpty else {
                problems.append("\(at): got \(json.shown), expected \(expected)")
                return nil
            }
            var values: [ConfigValue] = []
            var ok = true
            for (index, item) in items.enumerated() {
                if let value = ConfigLoader.validate(item, as: key.kind, path: "\(at) choices[\(index)]", problems: &problems) {
                    if values.contains(value) {
                        problems.append("\(at) choices[\(index)]: got \(item.shown) again, expected each choice once")
                        ok = false
                    } else {
                        values.append(value)
                    }
                } else {
                    ok = false
                }
            }
            return ok ? .choices(values) : nil
        default:
            problems.append("\(at): got \(json.shown), expected [low, high], [low, high, step] or {\"choices\": [...]}")
            return nil
        }
    }

    /// The configuration value of `number` for dimension `dimension`'s key: an integer, a number or a decimal.
    public func value(_ number: Fixed, dimension: Int) -> ConfigValue {
        switch key(dimensions[dimension].path)?.kind {
        case .int?: return .int(Int(number.raw / FixedPoint.scale))
        case .decimal?: return .decimal(number)
        default: return .double(number.double)
        }
    }

    /// The values of dimension `dimension` on its grid (nil for a range without a step).
    public func gridValues(_ dimension: Int) -> [ConfigValue]? {
        switch dimensions[dimension].domain {
        case let .choices(values): return values
        case let .range(low, high, step?):
            guard let count = Self.stepCount(low: low, high: high, step: step) else { return nil }
            return (0..<count).map { value(Fixed(raw: low.raw + Int64($0) * step.raw), dimension: dimension) }
        case .range(_, _, nil): return nil
        }
    }

    /// How many of low, low + step, … are ≤ high (nil for a step ≤ 0, high below low or a span out of range).
    public static func stepCount(low: Fixed, high: Fixed, step: Fixed) -> Int? {
        guard step.raw > 0, high >= low else { return nil }
        let (span, overflow) = high.raw.subtractingReportingOverflow(low.raw)
        return overflow ? nil : Int(span / step.raw) + 1
    }

    /// Points of the grid (the product of every dimension's values, at most `Int.max`); nil when a range has no step.
    public var gridSize: Int? {
        var size = 1
        for k in dimensions.indices {
            let count: Int
            switch dimensions[k].domain {
            case let .choices(values): count = values.count
            case let .range(low, high, step?):
                guard let n = Self.stepCount(low: low, high: high, step: step) else { return nil }
                count = n
            case .range(_, _, nil): return nil
            }
            let (product, overflow) = size.multipliedReportingOverflow(by: count)
            size = overflow ? Int.max : product
        }
        return size
    }

    /// Grid point `index` (0 ≤ index < `gridSize`): mixed radix, the last dimension changing fastest.
    public func gridPoint(_ index: Int) -> [ConfigValue] {
        var rest = index
        var point = [ConfigValue](repeating: .bool(false), count: dimensions.count)
        for k in dimensions.indices.reversed() {
            let count: Int
            switch dimensions[k].domain {
            case let .choices(values):
                count = values.count
                point[k] = values[rest % count]
            case let .range(low, high, step):
                let s = step ?? Fixed.one
                count = Self.stepCount(low: low, high: high, step: s) ?? 1
                point[k] = value(Fixed(raw: low.raw + Int64(rest % count) * s.raw), dimension: k)
            }
            rest /= count
        }
        return point
    }
}
