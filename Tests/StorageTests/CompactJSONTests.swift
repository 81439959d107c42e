import Foundation
import Testing
@testable import Storage
import TestSupport
import TradingDomain

/// The hand-built JSON of the signals and events tables is byte for byte what `JSONEncoder` (`.sortedKeys`) wrote
/// before it, so stored rows do not change.
@Suite("Compact JSON")
struct CompactJSONTests {
    static func encoded<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    static func randomDouble(_ rng: inout SeededGenerator) -> Double {
        switch rng.next() % 8 {
        case 0: return Double(Int64.random(in: -1_000_000...1_000_000, using: &rng))
        case 1: return Double(bitPattern: rng.next())
        case 2: return [0.0, -0.0, 1e-7, 1e16, 1e17, 123456789012345680, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 1.0 / 3][Int(rng.next() % 10)]
        case 3: return Double.random(in: -1...1, using: &rng) * pow(10, Double(Int.random(in: -12...20, using: &rng)))
        default: return Double.random(in: -1...1, using: &rng)
        }
    }

    static func randomKey(_ rng: inout SeededGenerator) -> String {
        let alphabet = Array("abcxyzABCXYZ019_-. /\\\"\n\t\u{01}\u{1F}é€😀")
        return String((0..<Int.random(in: 0...8, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    @Test func numbersAndStringsAsTheEncoderWritesThem() {
        var rng = SeededGenerator(seed: 20)
        for _ in 0..<3000 {
            var doubles: [String: Double] = [:]
            var strings: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let value = Self.randomDouble(&rng)
                if value.isFinite { doubles[Self.randomKey(&rng)] = value }
                strings[Self.randomKey(&rng)] = Self.randomKey(&rng)
            }
            #expect(CompactJSON.object(doubles) == Self.encoded(doubles))
            #expect(CompactJSON.object(strings) == Self.encoded(strings))
        }
        #expect(CompactJSON.object(["a": .nan, "b": 1]) == Self.encoded(["a": Double.nan, "b": 1]))
    }

    @Test func theKeysTheCycleWrites() {
        var rng = SeededGenerator(seed: 21)
        let indicators = ["adx", "atr", "bollinger_lower", "bollinger_middle", "bollinger_upper", "close", "ema_fast", "ema_slow", "macd_histogram",
                          "rsi", "volatility", "breakout", "regime", "trend", "momentum", "bollinger", "patterns", "structure", "llm"]
        let patternNames = ["CDL2CROWS", "CDL3BLACKCROWS", "CDL3INSIDE", "CDL3LINESTRIKE", "CDL3OUTSIDE", "CDL3STARSINSOUTH", "CDL3WHITESOLDIERS",
                            "CDLABANDONEDBABY", "CDLADVANCEBLOCK", "CDLBELTHOLD", "CDLDOJI", "CDLDOJISTAR", "CDLDRAGONFLYDOJI", "CDLENGULFING",
                            "CDLHIKKAKE", "CDLHIKKAKEMOD", "CDLXSIDEGAP3METHODS"]
        let dataKeys = ["decision", "confidence", "bound_by", "protection", "action", "until", "from", "to", "exit_reason", "purpose", "position",
                        "client_order_id", "quantity", "price", "reason", "symbol", "leg", "attempt"]
        for _ in 0..<500 {
            var values: [String: Double] = [:]
            for name in indicators where Bool.random(using: &rng) { values[name] = Self.randomDouble(&rng) }
            #expect(CompactJSON.object(values) == Self.encoded(values))
            var hits: [String: Int] = [:]
            for name in patternNames where rng.next() % 4 == 0 { hits[name] = [-200, -100, 100, 200][Int(rng.next() % 4)] }
            #expect(Signals.patternsJSON(PatternHits(hits)) == Self.encoded(PatternHits(hits)))
            var data: [String: String] = [:]
            for key in dataKeys where Bool.random(using: &rng) { data[key] = "\(Self.randomDouble(&rng))" }
            #expect(CompactJSON.object(data) == Self.encoded(data))
            let opinion = ModelOpinion(action: [.buy, .sell, .hold][Int(rng.next() % 3)], confidence: Self.randomDouble(&rng), agreement: .random(in: 0...1, using: &rng))
            #expect(Signals.opinionJSON(opinion) == Self.encoded(opinion))
        }
    }
}
