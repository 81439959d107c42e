import Foundation
import Testing
import TestSupport
@testable import Settings

/// Seeded fuzzing of the configuration loader: mutated copies of config/default.json and of the commented template
/// (hostile values, duplicate keys, truncation, garbage and invalid UTF-8, deep nesting, huge strings, comments) and
/// hostile environment overrides. Every case must load or fail with a `ConfigError` whose every problem names a key,
/// an environment variable or a line and column — never a crash, never another error.
@Suite("Configuration fuzzing")
struct ConfigFuzzTests {
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let sections: Set<String> = Set(ConfigKeys.all.map { String($0.path.split(separator: ".")[0]) })

    /// Whether `problem` names where it is: a key path (of a known section), an environment variable, or a line and column.
    static func namesWhere(_ problem: String) -> Bool {
        if problem.range(of: #"line \d+, column \d+"#, options: .regularExpression) != nil { return true }
        if problem.hasPrefix("environment TRADEJOB__") || problem.hasPrefix("the top level must be a JSON object") { return true }
        let head = problem.prefix { $0 != "." && $0 != ":" && $0 != "[" }
        return sections.contains(String(head))
    }

    static let hostileEnvironment: [(String, String)] = [
        ("TRADEJOB__PAPER__FEE_RATE", "--0.05"), ("TRADEJOB__PAPER__FEE_RATE", "100-5"), ("TRADEJOB__PAPER__STARTING_CASH", "-"),
        ("TRADEJOB__MARKET__LOOKBACK", "0x10"), ("TRADEJOB__MARKET__LOOKBACK", "9223372036854775808"), ("TRADEJOB__ANALYSIS__BOLLINGER_K", "nan"),
        ("TRADEJOB__MARKET__SYMBOLS", "[\"BTCUSDT\""), ("TRADEJOB__MARKET__SYMBOLS", "btc,eth"), ("TRADEJOB__PAPER__QUOTE_ASSET", "usdt"),
        ("TRADEJOB__PAPER__QUOTE_ASSET", ""), ("TRADEJOB__ANALYSIS__EMA_SLOW", "1000"), ("TRADEJOB__NO__SUCH", "1"),
        ("TRADEJOB__LLM__PROVIDERS", "[{\"name\": \"a\", \"name\": \"b\"}]"), ("TRADEJOB__RISK__TRAILING_STOP", "maybe"),
        ("TRADEJOB__MARKET__LOOKBACK", "600"), ("TRADEJOB__PAPER__FEE_RATE", "0.002"),
    ]

    @Test func mutatedConfigsLoadOrFailNamingWhere() throws {
        let base = try String(contentsOf: Self.repository.appendingPathComponent("config/default.json"), encoding: .utf8)
        let template = ConfigDocument.template(withComments: true)
        var rng = SeededGenerator(seed: 0x16C0_FF1E)
        let cases = 400
        var refused = 0, accepted = 0, withEnvironment = 0, syntax = 0
        var unnamed: [String] = []
        for index in 0..<cases {
            let data = InputMutations.mutateConfig(index % 2 == 0 ? base : template, &rng)
            var environment: [String: String] = [:]
            if index % 5 == 0, let (name, value) = Self.hostileEnvironment.randomElement(using: &rng) {
                environment[name] = value
                withEnvironment += 1
            }
            do {
                _ = try ConfigLoader.resolve(data: data, file: "fuzz-\(index).json", environment: environment)
                accepted += 1
            } catch let error as ConfigError {
                refused += 1
                if error.problems.first?.hasPrefix("not valid JSON: line ") == true { syntax += 1 }
                #expect(!error.problems.isEmpty)
                for problem in error.problems where !Self.namesWhere(problem) || problem.count > 1000 {
                    unnamed.append("case \(index): \(problem.prefix(300))")
                }
            }
        }
        print("config fuzz: \(cases) cases (\(withEnvironment) with a hostile environment override), 0 crashes, \(refused) refused with a ConfigError (\(syntax) as JSON naming line and column, \(refused - syntax) naming keys), \(accepted) accepted")
        #expect(unnamed.isEmpty, "\(unnamed.prefix(5))")
        #expect(refused + accepted == cases)
        #expect(refused > cases / 2 && accepted > 10)  // the mutations reach both outcomes
    }

    @Test func hostileValuesAtEveryKeyNeverPass() throws {
        // Each value below is wrong for every key of its kind: placed at every such key it must be refused, naming it.
        let wrongFor: [(String, (ConfigKind) -> Bool)] = [
            (#""--0.05""#, { if case .decimal = $0 { return true }; return false }),
            (#""100-5""#, { if case .decimal = $0 { return true }; return false }),
            (#""-""#, { if case .decimal = $0 { return true }; return false }),
            (#""0x10""#, { if case .decimal = $0 { return true }; return false }),
            ("9223372036854775807", { if case .int = $0 { return true }; return false }),
            ("-9223372036854775808", { if case .int = $0 { return true }; return false }),
            ("1e400", { switch $0 { case .int, .double: return true; default: return false } }),
            ("2.5", { if case .int = $0 { return true }; return false }),
        ]
        var checked = 0
        for key in ConfigKeys.all {
            let parts = key.path.split(separator: ".").map(String.init)
            for (value, applies) in wrongFor where applies(key.kind) {
                let json = parts.reversed().reduce(value) { inner, name in "{\"\(name)\": \(inner)}" }
                let error = #expect(throws: ConfigError.self) { try ConfigLoader.resolve(data: Data(json.utf8), file: "k.json", environment: [:]) }
                #expect(error?.problems.first?.hasPrefix("\(key.path): got") == true, "\(key.path) = \(value): \(error?.problems ?? [])")
                checked += 1
            }
        }
        print("config key sweep: \(checked) hostile values at their keys, all refused naming the key")
        #expect(checked > 100)
    }
}
