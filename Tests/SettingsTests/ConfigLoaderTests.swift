import Foundation
import Testing
import Settings
import TradingDomain

@Suite("Configuration")
struct ConfigLoaderTests {
    func resolve(_ json: String, env: [String: String] = [:]) throws -> ResolvedConfig {
        try ConfigLoader.resolve(data: Data(json.utf8), file: "test.json", environment: env)
    }

    func problems(_ json: String, env: [String: String] = [:]) -> [String] {
        do {
            _ = try resolve(json, env: env)
            return []
        } catch let error as ConfigError {
            return error.problems
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func emptyObjectGivesEveryDefault() throws {
        let c = try resolve("{}")
        for key in ConfigKeys.all { #expect(c.values[key.path] == key.defaultValue, "\(key.path)") }
        #expect(c.double("strategy.min_confidence") == 0.6)
        #expect(c.int("market.lookback") == 500)
        #expect(c.int("risk.max_adjustments") == 3)
    }

    /// The hash is FNV-1a (64 bits, hex) of the file's bytes: a state records it, so it must not change between versions.
    @Test func theHashIsFNV1aOfTheFileBytes() throws {
        #expect(try resolve("{}").hash == "08f44b07b5901a25")
        #expect(try resolve(#"{"market": {"lookback": 300}}"#).hash == "1d55c163ab859c6a")
    }

    @Test func theShippedDefaultConfigIsValid() throws {
        let repo = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try ConfigLoader.load(path: repo.appendingPathComponent("config/default.json").path, environment: [:])
        #expect(c.string("market.source") == "simulated")
        #expect(c.string("mode") == "paper")
        #expect(c.bool("llm.enabled") == false)
        #expect(c.strings("market.symbols").count >= 8)
    }

    @Test func everyProblemIsReportedWithPathValueAndExpectation() {
        let p = problems(#"{"risk": {"max_open_positions": "x", "nope": 1}, "market": {"lookback": 10, "timeframe": "7m"}, "mode": "yolo"}"#)
        #expect(p.count == 5)
        #expect(p.contains { $0.contains("risk.max_open_positions") && $0.contains("\"x\"") && $0.contains("integer from 1 to 100") })
        #expect(p.contains { $0.contains("risk.nope") && $0.contains("unknown key") })
        #expect(p.contains { $0.contains("market.lookback") && $0.contains("10") })
        #expect(p.contains { $0.contains("market.timeframe") && $0.contains("\"7m\"") })
        #expect(p.contains { $0.contains("mode") && $0.contains("\"yolo\"") })
    }

    @Test func malformedJSONIsAnError() {
        #expect(problems("{ not json").first?.contains("not valid JSON") == true)
        #expect(problems("[1, 2]").first?.contains("top level") == true)
    }

    @Test func typesAreStrict() {
        #expect(!problems(#"{"llm": {"enabled": "true"}}"#).isEmpty)
        #expect(!problems(#"{"risk": {"max_open_positions": 2.5}}"#).isEmpty)
        #expect(!problems(#"{"paper": {"starting_cash": "ten"}}"#).isEmpty)
        #expect(!problems(#"{"market": "simulated"}"#).isEmpty)
    }

    @Test func environmentOverrides() throws {
        let c = try resolve("{}", env: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "5", "TRADEJOB__MARKET__SYMBOLS": "BTCUSDT,ETHUSDT",
                                        "TRADEJOB__LLM__ENABLED": "false", "TRADEJOB__PAPER__STARTING_CASH": "2500.50", "OTHER": "x"])
        #expect(c.int("risk.max_open_positions") == 5)
        #expect(c.strings("market.symbols") == ["BTCUSDT", "ETHUSDT"])
        #expect(c.decimal("paper.starting_cash", as: Money.self) == Money("2500.50"))
        #expect(Set(c.overriddenByEnvironment) == ["risk.max_open_positions", "market.symbols", "llm.enabled", "paper.starting_cash"])
    }

    @Test func environmentValuesThatDoNotParseAreErrorsNeverDefaults() {
        let p = problems("{}", env: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "five", "TRADEJOB__NO__SUCH": "1", "TRADEJOB__RISK__TRAILING_STOP": "maybe"])
        #expect(p.count == 3)
        #expect(p.contains { $0.contains("TRADEJOB__RISK__MAX_OPEN_POSITIONS") && $0.contains("\"five\"") })
        #expect(p.contains { $0.contains("TRADEJOB__NO__SUCH") })
        #expect(p.contains { $0.contains("TRADEJOB__RISK__TRAILING_STOP") })
    }

    @Test func hashChangesWithTheInput() throws {
        let a = try resolve("{}").hash
        #expect(a == (try resolve("{}").hash))
        #expect(a != (try resolve(#"{"mode": "paper"}"#).hash))
        #expect(a != (try resolve("{}", env: ["TRADEJOB__RISK__MAX_OPEN_POSITIONS": "5"]).hash))
    }

    @Test func relationsBetweenKeys() {
        #expect(problems(#"{"volatility": {"low": 0.9, "high": 0.5}}"#).first?.contains("volatility.low") == true)
        #expect(problems(#"{"market": {"symbols": ["btc"]}}"#).first?.contains("market.symbols") == true)
    }

    @Test func llmProvidersAreValidatedPerElement() throws {
        let ok = try resolve(#"{"llm": {"providers": [{"name": "a", "base_url": "http://127.0.0.1:1", "model": "m", "weight": 2}]}}"#)
        #expect(ok.objects("llm.providers").first?["weight"] == .double(2))
        #expect(ok.objects("llm.providers").first?["timeout_seconds"] == .double(20))
        let p = problems(#"{"llm": {"providers": [{"name": "a", "base_url": "http://x", "model": "m", "api_key": "sk-secret"}]}}"#)
        #expect(p.contains { $0.contains("llm.providers[0].api_key") && $0.contains("unknown key") })
        #expect(problems(#"{"llm": {"providers": [{"name": "a", "base_url": "ftp://x", "model": "m"}]}}"#).contains { $0.contains("llm.providers[0].base_url") })
        #expect(problems(#"{"llm": {"providers": [{"name": "a", "base_url": "http://x", "model": "m"}, {"name": "a", "base_url": "http://y", "model": "n"}]}}"#).contains { $0.contains("llm.providers[1].name") })
    }

    @Test func templateListsEveryKeyAndParsesBack() throws {
        let plain = ConfigDocument.template(withComments: false)
        let c = try resolve(plain)
        for key in ConfigKeys.all { #expect(c.values[key.path] == key.defaultValue, "\(key.path)") }
        let commented = ConfigDocument.template(withComments: true)
        for key in ConfigKeys.all { #expect(commented.contains(key.doc), "\(key.path)") }
    }

    @Test func showRedactsSecrets() throws {
        let c = try resolve(#"{"notifications": {"webhook_url": "https://hooks.example/T0/secret-token"}}"#)
        let shown = ConfigDocument.effective(c)
        #expect(!shown.contains("secret-token"))
        #expect(shown.contains("<redacted>"))
    }
}
