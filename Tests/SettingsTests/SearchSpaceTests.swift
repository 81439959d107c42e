import Foundation
import Testing
import TestSupport
import TradingDomain
@testable import Settings

@Suite("Search space file: ranges and choices of configuration keys")
struct SearchSpaceTests {
    func parse(_ text: String) throws -> SearchSpace { try SearchSpace.parse(Data(text.utf8), file: "space.json") }

    /// The problems of a file that must be refused.
    func problems(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
            return []
        } catch let error as ConfigError {
            #expect(error.file == "space.json")
            return error.problems
        } catch {
            Issue.record("not a ConfigError: \(error)")
            return []
        }
    }

    @Test func rangesAndChoicesInTheFilesOrderWithExactGridValues() throws {
        let space = try parse("""
        {"strategy.min_confidence": [0.5, 0.8, 0.1], "risk.max_open_positions": [1, 3], "risk.trailing_stop": {"choices": [true, false]},
         "risk.take_profit_atr": [2, 3.5], "risk.min_order_notional": ["5", "7"]}
        """.replacingOccurrences(of: #"["5", "7"]"#, with: "[5, 7.5, 2.5]"))
        #expect(space.dimensions.map(\.path) == ["strategy.min_confidence", "risk.max_open_positions", "risk.trailing_stop", "risk.take_profit_atr", "risk.min_order_notional"])
        #expect(space.dimensions[0].domain == .range(low: Fixed("0.5") ?? 0, high: Fixed("0.8") ?? 0, step: Fixed("0.1")))
        #expect(space.dimensions[1].domain == .range(low: 1, high: 3, step: 1), "an integer range without a step steps by 1")
        #expect(space.dimensions[2].domain == .choices([.bool(true), .bool(false)]))
        #expect(space.dimensions[3].domain == .range(low: 2, high: Fixed("3.5") ?? 0, step: nil))
        // Exact decimal steps: 0.5, 0.6, 0.7, 0.8 (no 0.7999999), as the key's kind.
        #expect(space.gridValues(0) == [.double(0.5), .double(0.6), .double(0.7), .double(0.8)])
        #expect(space.gridValues(1) == [.int(1), .int(2), .int(3)])
        #expect(space.gridValues(3) == nil)
        #expect(space.gridValues(4) == [.decimal(5), .decimal(Fixed("7.5") ?? 0)])
        #expect(space.gridSize == nil, "a range without a step has no grid")
    }

    @Test func gridPointsEnumerateTheProductLastKeyFastest() throws {
        let space = try parse(#"{"strategy.min_confidence": [0.5, 0.7, 0.1], "risk.trailing_stop": {"choices": [true, false]}}"#)
        #expect(space.gridSize == 6)
        let points = (0..<6).map(space.gridPoint)
        #expect(points[0] == [.double(0.5), .bool(true)])
        #expect(points[1] == [.double(0.5), .bool(false)])
        #expect(points[5] == [.double(0.7), .bool(false)])
        #expect(Set(points.map { "\($0)" }).count == 6)
    }

    @Test func everyKindOfMistakeIsNamedWithTheKeyTheValueAndWhatWasExpected() {
        #expect(problems("[1, 2]").first?.contains("top level must be a JSON object") == true)
        #expect(problems("{}").first?.contains("no key to search") == true)
        #expect(problems(#"{"strategy.min_confidense": [0.1, 0.2]}"#).first?.contains("strategy.min_confidense (line 1): no configuration key") == true)
        let outOfRange = problems(#"{"strategy.min_confidence": [0.5, 1.5, 0.1]}"#).first ?? ""
        #expect(outOfRange.contains("strategy.min_confidence") && outOfRange.contains("[0.5, 1.5, 0.1]") && outOfRange.contains("from 0.0 to 1.0"), "\(outOfRange)")
        #expect(problems(#"{"strategy.min_confidence": [0.8, 0.5]}"#).first?.contains("expected [low, high]") == true, "low above high")
        #expect(problems(#"{"strategy.min_confidence": [0.5, 0.8, 0]}"#).count == 1, "a zero step")
        #expect(problems(#"{"strategy.min_confidence": [0.5, 0.8, 0.123456789]}"#).count == 1, "more than 8 decimals")
        #expect(problems(#"{"risk.max_open_positions": [1.5, 3]}"#).first?.contains("whole numbers") == true)
        #expect(problems(#"{"risk.trailing_stop": [0, 1]}"#).first?.contains("expected {\"choices\"") == true)
        #expect(problems(#"{"risk.trailing_stop": {"choices": []}}"#).count == 1)
        #expect(problems(#"{"risk.trailing_stop": {"choices": [true, "yes"]}}"#).first?.contains("true or false") == true)
        #expect(problems(#"{"risk.trailing_stop": {"choices": [true, true]}}"#).first?.contains("each choice once") == true)
        #expect(problems(#"{"market.symbols": {"choices": [["A"]]}}"#).first?.contains("list key") == true)
        #expect(problems(#"{"notifications.webhook_url": {"choices": ["http://a"]}}"#).first?.contains("secret") == true)
        #expect(problems(#"{"risk.trailing_stop": {"choices": [true]}, "risk.trailing_stop": {"choices": [false]}}"#).first?.contains("duplicate key") == true)
        #expect(problems(#"{"strategy.min_confidence": "0.5"}"#).count == 1)
        #expect(problems("{\"a\": ").first?.contains("not valid JSON") == true)
        // Every problem at once.
        #expect(problems(#"{"nope": [1, 2], "strategy.min_confidence": [2, 3]}"#).count == 2)
        // A grid too big to walk.
        let huge = (0..<4).map { "\"strategy.weights.\(["trend", "momentum", "rsi", "bollinger"][$0])\": [0, 10, 0.01]" }.joined(separator: ", ")
        #expect(problems("{\(huge)}").first?.contains("the grid has") == true)
    }

    @Test func aSeededFuzzOfMutatedFilesNeverCrashesAndEveryRefusalNamesTheFile() {
        let base = """
        {
          "strategy.min_confidence": [0.5, 0.8, 0.05],
          "risk.stop_loss_atr": [1, 4, 0.5],
          "risk.max_open_positions": [1, 5],
          "risk.trailing_stop": {"choices": [true, false]},
          "mode": {"choices": ["paper"]}
        }
        """
        var rng = SeededGenerator(seed: 0x5EA5C4)
        var accepted = 0, refused = 0
        for _ in 0..<3_000 {
            var bytes = Array(InputMutations.mutateConfig(base, &rng))
            if Int.random(in: 0..<4, using: &rng) == 0, !bytes.isEmpty {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))
            }
            do {
                let space = try SearchSpace.parse(Data(bytes), file: "fuzz.json")
                #expect(!space.dimensions.isEmpty)
                if let size = space.gridSize, size > 0 { _ = space.gridPoint(size - 1) }
                accepted += 1
            } catch let error as ConfigError {
                #expect(error.file == "fuzz.json" && !error.problems.isEmpty)
                refused += 1
            } catch {
                Issue.record("not a ConfigError: \(error)")
            }
        }
        #expect(accepted + refused == 3_000)
        #expect(accepted > 0 && refused > 0, "the mutations reach both outcomes (accepted \(accepted), refused \(refused))")
    }
}
