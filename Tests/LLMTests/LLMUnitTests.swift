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

    @Test func cacheKeysDependOnProviderModelRequestShapeAndPrompt() {
        let p = LLMProvider(name: "a", baseURL: "http://one.example", model: "m")
        let a = OpinionService.cacheKey(provider: p, maxTokens: 300, system: "s", user: "u")
        #expect(a.count == 64)
        #expect(a == OpinionService.cacheKey(provider: p, maxTokens: 300, system: "s", user: "u"))
        var slash = p
        slash.baseURL = "http://one.example/"
        #expect(a == OpinionService.cacheKey(provider: slash, maxTokens: 300, system: "s", user: "u"))
        var other = p
        other.baseURL = "http://two.example"
        #expect(a != OpinionService.cacheKey(provider: other, maxTokens: 300, system: "s", user: "u"), "the same model at another provider")
        other = p
        other.name = "b"
        #expect(a != OpinionService.cacheKey(provider: other, maxTokens: 300, system: "s", user: "u"))
        other = p
        other.model = "n"
        #expect(a != OpinionService.cacheKey(provider: other, maxTokens: 300, system: "s", user: "u"))
        other = p
        other.structuredOutput = false
        #expect(a != OpinionService.cacheKey(provider: other, maxTokens: 300, system: "s", user: "u"))
        #expect(a != OpinionService.cacheKey(provider: p, maxTokens: 301, system: "s", user: "u"))
        #expect(a != OpinionService.cacheKey(provider: p, maxTokens: 300, system: "s", user: "v"))
    }
}

@Suite("Usage and budgets")
struct UsageTests {
    func body(usage: String) -> Data {
        Data(#"{"choices": [{"message": {"content": "{\"action\": \"buy\", \"confidence\": 0.5}"}, "finish_reason": "stop"}], "usage": \#(usage)}"#.utf8)
    }
    let limits = ModelAnswerParser.UsageLimits(promptTokens: 1000, completionTokens: 300)

    @Test func plausibleUsageIsChargedAsReported() {
        #expect(ModelAnswerParser.parse(body(usage: #"{"prompt_tokens": 999, "completion_tokens": 300}"#), limits: limits).1 == .init(promptTokens: 999, completionTokens: 300))
        #expect(ModelAnswerParser.parse(body(usage: #"{"prompt_tokens": 0, "completion_tokens": 0}"#), limits: limits).1 == .init(promptTokens: 0, completionTokens: 0))
    }

    @Test(arguments: [
        #"{"prompt_tokens": 1e30, "completion_tokens": 30}"#,
        #"{"prompt_tokens": -1000000, "completion_tokens": 30}"#,
        #"{"prompt_tokens": 10, "completion_tokens": -1}"#,
        #"{"prompt_tokens": 10.5, "completion_tokens": 30}"#,
        #"{"prompt_tokens": 1001, "completion_tokens": 30}"#,
        #"{"prompt_tokens": 10, "completion_tokens": 301}"#,
        #"{"prompt_tokens": "10", "completion_tokens": 30}"#,
        #"{"prompt_tokens": 9223372036854775807, "completion_tokens": 30}"#,
        #"{"completion_tokens": 30}"#,
        #"null"#,
    ])
    func implausibleUsageIsChargedAsTheWorstCase(usage: String) {
        let charged = ModelAnswerParser.parse(body(usage: usage), limits: limits).1
        #expect(charged == .init(promptTokens: 1000, completionTokens: 300, implausible: true), "\(usage)")
    }

    @Test func aReplyThatIsNotJSONIsChargedTheWorstCase() {
        #expect(ModelAnswerParser.parse(Data("Sure! Buy.".utf8), limits: limits).1.implausible)
    }

    @Test func theWorstCaseOfARequestIsItsPromptBytesPlusFramingAndMaxTokens() {
        let worst = ModelAnswerParser.UsageLimits.worstCase(prompt: "héllo", maxTokens: 300)
        #expect(worst == .init(promptTokens: 6 + ModelAnswerParser.UsageLimits.framingTokens, completionTokens: 300))
    }

    @Test func reservationsNeverLetSpendingPassABudget() async {
        let ledger = SpendingLedger()
        let c = LLMConfiguration(providers: [], maxCallsPerRun: 100, maxTokensPerDay: 1000, maxCostPerDay: 1)
        // Worst case 400 tokens and 0.3: two fit in 1000 tokens together.
        #expect(await ledger.reserve(runID: 1, dayStart: 0, tokens: 400, cost: Money(raw: 30_000_000), configuration: c) { .init() })
        #expect(await ledger.reserve(runID: 1, dayStart: 0, tokens: 400, cost: Money(raw: 30_000_000), configuration: c) { .init() })
        // A third waits for the calls in flight; settled at 100 tokens and 0.1 each, it fits (200 + 400 ≤ 1000).
        async let third = ledger.reserve(runID: 1, dayStart: 0, tokens: 400, cost: Money(raw: 30_000_000), configuration: c) { .init() }
        await ledger.settle(reservedTokens: 400, reservedCost: Money(raw: 30_000_000), tokens: 100, cost: Money(raw: 10_000_000))
        await ledger.settle(reservedTokens: 400, reservedCost: Money(raw: 30_000_000), tokens: 100, cost: Money(raw: 10_000_000))
        #expect(await third)
        // Spent 0.2, in flight 0.3: another 0.3 fits (0.8); the next (1.1) waits, and once the call in flight is
        // settled at its worst case (0.8 spent) it cannot fit at all: refused.
        #expect(await ledger.reserve(runID: 1, dayStart: 0, tokens: 100, cost: Money(raw: 30_000_000), configuration: c) { .init() })
        async let refused = ledger.reserve(runID: 1, dayStart: 0, tokens: 100, cost: Money(raw: 30_000_000), configuration: c) { .init() }
        await ledger.settle(reservedTokens: 400, reservedCost: Money(raw: 30_000_000), tokens: 400, cost: Money(raw: 30_000_000))
        await ledger.settle(reservedTokens: 100, reservedCost: Money(raw: 30_000_000), tokens: 100, cost: Money(raw: 30_000_000))
        #expect(await refused == false)
        // What was spent earlier today counts (loaded once per run and day).
        let later = SpendingLedger()
        #expect(await later.reserve(runID: 2, dayStart: 0, tokens: 400, cost: 0, configuration: c) { .init(calls: 0, tokens: 700, cost: 0) } == false)
        #expect(await later.reserve(runID: 2, dayStart: 0, tokens: 300, cost: 0, configuration: c) { .init(calls: 0, tokens: 700, cost: 0) })
    }

    @Test func theRunsCallBudget() async {
        let ledger = SpendingLedger()
        let c = LLMConfiguration(providers: [], maxCallsPerRun: 2, maxTokensPerDay: 0, maxCostPerDay: 0)
        #expect(await ledger.reserve(runID: 1, dayStart: 0, tokens: 1, cost: 0, configuration: c) { .init() })
        #expect(await ledger.reserve(runID: 1, dayStart: 0, tokens: 1, cost: 0, configuration: c) { .init() })
        #expect(await ledger.reserve(runID: 1, dayStart: 0, tokens: 1, cost: 0, configuration: c) { .init() } == false)
    }
}

@Suite("Model text is inert")
struct ModelTextTests {
    @Test func controlCharactersAreEscapedAndTheTextIsQuoted() {
        let hostile = "fine.\ndecision: enter: BTCUSDT 1.0\u{1B}[2J\r\u{7}\u{9B}\u{202E}\u{2028}\"\\"
        let shown = ModelText.quoted(hostile)
        #expect(shown == #""fine.\ndecision: enter: BTCUSDT 1.0\u{1B}[2J\r\u{7}\u{9B}\u{202E}\u{2028}\"\\""#)
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(ModelText.quoted("plain words, ünïcode ok") == "\"plain words, ünïcode ok\"")
        #expect(ModelText.quoted(String(repeating: "a", count: 10), limit: 3) == "\"aaa…\"")
    }
}
