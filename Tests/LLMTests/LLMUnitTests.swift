import Foundation
import Testing
@testable import LLM
import TradingDomain

@Suite("Model answers")
struct ModelAnswerTests {
    func reply(content: String?, finish: String = "stop", refusal: String? = nil) -> Data {
        var message: [String: Any] = ["role": "assistant", "content": content ?? NSNull()]
        if let refusal { message["refusal"] = refusal }
        let body: [String: Any] = ["choices": [["message": message, "finish_reason": finish]], "usage": ["prompt_tokens": 10, "completion_tokens": 5]]
        return (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
    }

    @Test func aValidAnswer() throws {
        let (result, usage) = ModelAnswerParser.parse(reply(content: #"{"action": "buy", "confidence": 0.7, "horizon": "1d", "rationale": "trend"}"#))
        #expect(try result.get() == ModelAnswer(action: .buy, confidence: 0.7, horizon: "1d", rationale: "trend"))
        #expect(usage == .init(promptTokens: 10, completionTokens: 5))
    }

    @Test(arguments: [
        (#"{"action": "buy", "confidence": 1.5}"#, "outside 0…1"),
        (#"{"action": "buy", "confidence": -0.1}"#, "outside 0…1"),
        (#"{"action": "yolo", "confidence": 0.5}"#, "unknown action"),
        (#"{"action": "buy", "confidence": "high"}"#, "not the expected JSON"),
        (#"{"action": "buy", "confidence": true}"#, "not the expected JSON"),
        (#"{"confidence": 0.5}"#, "missing field action"),
        (#"{"action": "buy"}"#, "missing field confidence"),
        ("Sure! I think you should buy.", "not the expected JSON"),
        ("   ", "empty content"),
    ])
    func invalidContentIsNeverClamped(content: String, fragment: String) {
        let (result, _) = ModelAnswerParser.parse(reply(content: content))
        guard case let .failure(why) = result else { Issue.record("accepted \(content)"); return }
        #expect(why.description.contains(fragment), "\(why)")
    }

    @Test func refusalsAndTruncationAreInvalid() {
        guard case .failure(.refusal) = ModelAnswerParser.parse(reply(content: nil, refusal: "no")).0 else { Issue.record("refusal accepted"); return }
        guard case .failure(.truncated) = ModelAnswerParser.parse(reply(content: #"{"action": "buy", "confidence": 0.9}"#, finish: "length")).0 else {
            Issue.record("truncated accepted"); return
        }
        guard case .failure(.malformedResponse) = ModelAnswerParser.parse(Data("[]".utf8)).0 else { Issue.record("garbage accepted"); return }
    }

    @Test func aFencedJSONBlockIsRead() throws {
        let result = ModelAnswerParser.parseContent("```json\n{\"action\": \"hold\", \"confidence\": 0.4}\n```")
        #expect(try result.get().action == .hold)
    }
}

@Suite("Opinion aggregation and prompts")
struct AggregationTests {
    func answer(_ a: ModelOpinion.Action, _ c: Double) -> ModelAnswer { ModelAnswer(action: a, confidence: c, horizon: "", rationale: "") }

    @Test func weightedConfidenceAndAgreement() throws {
        let o = try #require(OpinionAggregator.combine([(answer(.buy, 0.9), 2), (answer(.buy, 0.6), 1), (answer(.sell, 0.8), 1)], minValid: 1))
        #expect(o.action == .buy)
        #expect(abs(o.confidence - (2 * 0.9 + 0.6) / 4) < 1e-12)
        #expect(abs(o.agreement - 0.75) < 1e-12)
    }

    @Test func tooFewValidAnswersGiveNoOpinion() {
        #expect(OpinionAggregator.combine([(answer(.buy, 0.9), 1)], minValid: 2) == nil)
        #expect(OpinionAggregator.combine([], minValid: 1) == nil)
    }

    @Test func tiesGoToTheCautiousAction() throws {
        let o = try #require(OpinionAggregator.combine([(answer(.buy, 0.5), 1), (answer(.hold, 0.5), 1)], minValid: 1))
        #expect(o.action == .hold)
    }

    @Test func thePromptHoldsNothingAfterTheAnalysedCandle() {
        let candles = (0..<40).map { Candle(openTime: Int64($0) * 900_000, open: 1, high: 2, low: 0.5, close: Double($0), volume: 1) }
        let asOf = candles[34].openTime
        let text = PromptBuilder.user(PromptContext(symbol: "X", timeframe: "15m", asOf: asOf, candles: candles, indicators: ["rsi": 55],
                                                    technicalDirection: "long", technicalConfidence: 0.6))
        #expect(text.contains(Timestamp.rfc3339(candles[34].openTime)))
        for later in candles[35...] { #expect(!text.contains(Timestamp.rfc3339(later.openTime))) }
        #expect(text == PromptBuilder.user(PromptContext(symbol: "X", timeframe: "15m", asOf: asOf, candles: Array(candles.prefix(35)),
                                                         indicators: ["rsi": 55], technicalDirection: "long", technicalConfidence: 0.6)))
    }

    @Test func cacheKeysDependOnModelAndPrompt() {
        let a = OpinionService.cacheKey(model: "m", system: "s", user: "u")
        #expect(a.count == 64)
        #expect(a == OpinionService.cacheKey(model: "m", system: "s", user: "u"))
        #expect(a != OpinionService.cacheKey(model: "n", system: "s", user: "u"))
        #expect(a != OpinionService.cacheKey(model: "m", system: "s", user: "v"))
    }
}
