import Foundation
import Testing
import TradingDomain
@testable import Settings

/// Strict reading of configuration input: the JSON reader, decimal and number syntax, environment overrides,
/// relations between keys and the state-compatibility check.
@Suite("Strict configuration input")
struct StrictConfigInputTests {
    func problems(_ json: String, env: [String: String] = [:]) -> [String] {
        do {
            _ = try ConfigLoader.resolve(data: Data(json.utf8), file: "test.json", environment: env)
            return []
        } catch let error as ConfigError {
            return error.problems
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func duplicateKeysAreRefusedWithPathAndPosition() {
        let p = problems("{\n  \"market\": {\"lookback\": 100,\n    \"lookback\": 200}\n}")
        #expect(p.count == 1)
        #expect(p.first?.contains("duplicate key \"market.lookback\"") == true)
        #expect(p.first?.contains("line 3, column 5") == true)
        #expect(p.first?.contains("first at line 2, column 14") == true)
        // A duplicated section is refused too (it used to be dropped silently).
        let sections = problems("{\"risk\": {\"max_open_positions\": 2},\n\"risk\": {\"max_open_positions\": 3}}")
        #expect(sections.first?.contains("duplicate key \"risk\" (first at line 1, column 2)") == true)
        // Deeper: inside a provider object.
        let deep = problems(#"{"llm": {"providers": [{"name": "a", "name": "b"}]}}"#)
        #expect(deep.first?.contains("duplicate key \"llm.providers[0].name\"") == true)
    }

    @Test func syntaxErrorsNameLineAndColumn() {
        #expect(problems("{\n  \"mode\": \"paper\",\n  \"market\": {\"lookback\": 10,}\n}").first?.contains("line 3, column 29") == true)
        #expect(problems("{\"mode\": 'paper'}").first?.contains("line 1, column 10") == true)
        #expect(problems("").first?.contains("no JSON value") == true)
        #expect(problems("{} {}").first?.contains("after the JSON value") == true)
        #expect(problems("{\"a\": \"x\ny\"}").first?.contains("line break inside a string") == true)
        #expect(problems("{\"a\": 1} /* no */").first?.contains("only // line comments") == true)
        #expect(problems(String(repeating: "[", count: 100)).first?.contains("nesting deeper than 64") == true)
        #expect(problems("{\"mode\": \"\\ud800\"}").first?.contains("lone surrogate") == true)
        let invalidUTF8 = Data([0x7B, 0x22, 0x6D, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        let e = #expect(throws: ConfigError.self) { try ConfigLoader.resolve(data: invalidUTF8, file: "t.json", environment: [:]) }
        #expect(e?.problems.first?.contains("not valid UTF-8") == true)
    }

    @Test func jsonNumbersFollowTheJSONSyntax() {
        for bad in ["+1", "01", "0x10", "NaN", "Infinity", "-", "1.", ".5", "1e", "1.2.3", "--1"] {
            let p = problems("{\"market\": {\"lookback\": \(bad)}}")
            #expect(p.first?.contains("not valid JSON: line 1, column 25") == true, "\(bad): \(p)")
        }
        // Integral values in other spellings stay accepted; huge and fractional ones are refused with the key.
        #expect(problems(#"{"market": {"lookback": 5e2}}"#).isEmpty)
        #expect(problems(#"{"market": {"lookback": 500.0}}"#).isEmpty)
        #expect(problems(#"{"market": {"lookback": 9223372036854775807}}"#).first?.hasPrefix("market.lookback: got 9223372036854775807") == true)
        #expect(problems(#"{"market": {"lookback": 1e400}}"#).first?.hasPrefix("market.lookback: got 1e400") == true)
        #expect(problems(#"{"analysis": {"bollinger_k": 1e400}}"#).first?.hasPrefix("analysis.bollinger_k: got 1e400") == true)
    }

    @Test func decimalsAreStrictInTheFileAndInTheEnvironment() {
        for bad in ["--0.05", "100-5", "-", "", "0x10", "1.2.3", "+-1", "1 000", " 5", "5 ", "1e", "1e+-5", "NaN", "inf", "1,5", "٣"] {
            let p = problems(#"{"paper": {"fee_rate": "\#(bad)"}}"#)
            #expect(p.count == 1 && p[0].hasPrefix("paper.fee_rate: got"), "\(bad): \(p)")
            guard bad.trimmingCharacters(in: .whitespaces) == bad else { continue }  // the environment's values are trimmed
            let e = problems("{}", env: ["TRADEJOB__PAPER__STARTING_CASH": bad == "" ? "x" : bad])
            #expect(e.count == 1 && e[0].hasPrefix("environment TRADEJOB__PAPER__STARTING_CASH: got"), "\(bad): \(e)")
        }
        for good in ["0.001", "0", "-0", "1e-3", "0.05", ".05", "5.", "1E+2"] {
            #expect(problems(#"{"paper": {"starting_cash": "\#(good)"}}"#).isEmpty, "\(good)")
        }
        // A JSON number keeps its source text, so the decimal is exact; more than 8 decimals (the fixed-point scale) is refused.
        let c = try? ConfigLoader.resolve(data: Data(#"{"paper": {"starting_cash": 1234.56789012}}"#.utf8), file: "t", environment: [:])
        #expect(c?.decimal("paper.starting_cash", as: Money.self) == Money(raw: 123_456_789_012))
        let p = problems(#"{"paper": {"starting_cash": 1234.567890123}}"#)
        #expect(p.count == 1 && p[0].contains("at most 8 decimals"), "\(p)")
    }

    @Test func environmentNumbersAreStrict() {
        for bad in ["0x10", "inf", "nan", "1e400", "--5", "5-", "1_000", "+-5", "0b1"] {
            #expect(problems("{}", env: ["TRADEJOB__MARKET__LOOKBACK": bad]).first?.contains("environment TRADEJOB__MARKET__LOOKBACK") == true, "\(bad)")
            #expect(problems("{}", env: ["TRADEJOB__ANALYSIS__BOLLINGER_K": bad]).first?.contains("environment TRADEJOB__ANALYSIS__BOLLINGER_K") == true, "\(bad)")
        }
        #expect(problems("{}", env: ["TRADEJOB__MARKET__LOOKBACK": " 600 "]).isEmpty)
        #expect(problems("{}", env: ["TRADEJOB__ANALYSIS__BOLLINGER_K": "2.5"]).isEmpty)
        #expect(problems("{}", env: ["TRADEJOB__MARKET__SYMBOLS": #"["BTCUSDT", "BTCUSDT"#]).first?.contains("not valid JSON: line 1, column 13") == true)
    }

    @Test func periodsMustStayBelowTheLookback() {
        let p = problems(#"{"market": {"lookback": 60}, "analysis": {"ema_slow": 60, "ema_fast": 30, "adx_period": 30, "rsi_period": 59, "bollinger_period": 59}, "volatility": {"window": 59}}"#)
        #expect(p.contains { $0.hasPrefix("analysis.ema_slow: got 60, expected analysis.ema_slow (60) below market.lookback (60)") })
        #expect(p.contains { $0.hasPrefix("analysis.adx_period: got 30, expected 2 × analysis.adx_period (60) below market.lookback (60)") })
        #expect(p.contains { $0.hasPrefix("analysis.rsi_period: got 59") })
        #expect(p.contains { $0.hasPrefix("volatility.window: got 59") })
        #expect(!p.contains { $0.hasPrefix("analysis.bollinger_period") })
        #expect(!p.contains { $0.hasPrefix("analysis.ema_fast") })
        #expect(p.count == 4)
    }

    @Test func symbolsAndQuoteAssetAreChecked() {
        let huge = String(repeating: "A", count: 1_000_000)
        let p = problems(#"{"market": {"source": "binance", "symbols": ["\#(huge)USDT", "btcusdt", "ETHBTC", "USDT", "B"]}}"#)
        #expect(p.count == 5)
        #expect(p.allSatisfy { $0.hasPrefix("market.symbols: got") && $0.count < 400 })
        #expect(p.contains { $0.contains("\"ETHBTC\", expected a symbol quoted in paper.quote_asset (\"USDT\")") })
        // Simulated and CSV markets may name symbols freely, if well spelt.
        #expect(problems(#"{"market": {"source": "csv", "symbols": ["SPY", "ETHBTC"]}}"#).isEmpty)
        #expect(problems(#"{"market": {"source": "csv", "symbols": ["../etc/passwd"]}}"#).first?.hasPrefix("market.symbols: got") == true)
        for bad in ["usdt", "", "U", "US DT"] {
            let q = problems(#"{"paper": {"quote_asset": "\#(bad)"}}"#)
            #expect(q.first?.hasPrefix("paper.quote_asset: got") == true, "\(bad): \(q)")
        }
        #expect(problems(#"{"paper": {"quote_asset": "USDC"}, "market": {"symbols": ["BTCUSDC"]}}"#).isEmpty)
        #expect(problems(#"{"market": {"source": "csv", "csv_dir": ""}}"#).first?.hasPrefix("market.csv_dir") == true)
    }

    @Test func aLongOneLineFileIsReadInLinearTime() {
        // Columns are counted once per line, not from the line's start for every key (20,000 keys on one line).
        let keys = (0..<20_000).map { "\"k\($0)\": 1" }.joined(separator: ", ")
        let p = problems("{\"market\": {\(keys)}}")
        #expect(p.count == 20_000)
        #expect(p.last?.hasPrefix("market.k19999: unknown key at line 1, column ") == true)
    }

    @Test func theCommentedTemplateLoadsBack() throws {
        for withComments in [true, false] {
            let text = ConfigDocument.template(withComments: withComments)
            let c = try ConfigLoader.resolve(data: Data(text.utf8), file: "template.json", environment: [:])
            for key in ConfigKeys.all { #expect(c.values[key.path] == key.defaultValue, "\(key.path)") }
        }
    }

    @Test func aStateInAnotherQuoteAssetIsRefused() throws {
        let usdc = try ConfigLoader.resolve(data: Data(#"{"paper": {"quote_asset": "USDC"}, "market": {"symbols": ["BTCUSDC"]}}"#.utf8),
                                            file: "c.json", environment: [:])
        let error = StateCompatibility.check(usdc, state: "/s", walletAssets: ["USDT", "BTC"], feeAssets: [], activeSymbols: ["BTCUSDT"])
        let problem = error?.problems.first ?? ""
        #expect(problem.hasPrefix("paper.quote_asset: got \"USDC\", but the state in /s is kept in \"USDT\""))
        #expect(StateCompatibility.check(usdc, state: "/s", walletAssets: [], feeAssets: [], activeSymbols: []) == nil)
        #expect(StateCompatibility.check(usdc, state: "/s", walletAssets: ["USDC", "BTC"], feeAssets: ["USDC"], activeSymbols: ["BTCUSDC"]) == nil)
        #expect(StateCompatibility.check(usdc, state: "/s", walletAssets: ["USDT", "BTC", "ETH"], feeAssets: [], activeSymbols: [])?.problems.first?
            .contains("kept in \"BTC\" or \"ETH\" or \"USDT\"") == true)
        // A quote asset that the wallet also holds as a base asset: the fees tell the state's quote asset.
        let btc = try ConfigLoader.resolve(data: Data(#"{"paper": {"quote_asset": "BTC"}}"#.utf8), file: "c.json", environment: [:])
        #expect(StateCompatibility.check(btc, state: "/s", walletAssets: ["USDT", "BTC"], feeAssets: ["USDT"], activeSymbols: ["BTCUSDT"])?
            .problems.first?.contains("got \"BTC\", but the state in /s is kept in \"USDT\"") == true)
        let live = try ConfigLoader.resolve(data: Data(#"{"mode": "live", "market": {"source": "binance"}}"#.utf8), file: "c", environment: [:])
        #expect(StateCompatibility.check(live, state: "/s", walletAssets: ["BTC"], feeAssets: ["USDT"], activeSymbols: []) == nil)
    }
}
