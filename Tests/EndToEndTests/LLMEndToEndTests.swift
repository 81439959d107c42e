import Foundation
import Testing
import TestSupport

/// A fake OpenAI-compatible chat-completions server: the answer depends on the requested model's name.
final class FakeModels: @unchecked Sendable {
    let lock = NSLock()
    var counts: [String: Int] = [:]
    let release = DispatchSemaphore(value: 0)
    var server: TestHTTPServer?

    func start() throws -> URL {
        let s = try TestHTTPServer { [weak self] request in self?.answer(request) ?? TestHTTPReply(status: 500) }
        server = s
        return s.baseURL
    }

    func stop() {
        for _ in 0..<64 { release.signal() }
        server?.stop()
    }

    func count(_ model: String) -> Int { lock.withLock { counts[model] ?? 0 } }
    var total: Int { lock.withLock { counts.values.reduce(0, +) } }

    static func completion(content: String?, finish: String = "stop", refusal: String? = nil) -> String {
        var message: [String: Any] = ["role": "assistant"]
        message["content"] = content ?? NSNull()
        if let refusal { message["refusal"] = refusal }
        let body: [String: Any] = ["id": "x", "object": "chat.completion", "choices": [["index": 0, "message": message, "finish_reason": finish]],
                                   "usage": ["prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150]]
        return String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self)
    }

    func answer(_ request: TestHTTPRequest) -> TestHTTPReply {
        guard request.path == "/v1/chat/completions",
              let object = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any], let model = object["model"] as? String else {
            return TestHTTPReply(status: 404, body: "{}")
        }
        lock.withLock { counts[model, default: 0] += 1 }
        let opinion = { (action: String, confidence: String) in
            FakeModels.completion(content: #"{"action": "\#(action)", "confidence": \#(confidence), "horizon": "1d", "rationale": "\#(model) says \#(action)"}"#)
        }
        switch model {
        case "buyer": return TestHTTPReply(body: opinion("buy", "1.0"))
        case "seller": return TestHTTPReply(body: opinion("sell", "0.9"))
        case "overconfident": return TestHTTPReply(body: opinion("buy", "5"))
        case "stranger": return TestHTTPReply(body: opinion("moon", "0.9"))
        case "refuser": return TestHTTPReply(body: FakeModels.completion(content: nil, refusal: "I cannot give financial advice"))
        case "truncated": return TestHTTPReply(body: FakeModels.completion(content: #"{"action": "buy", "conf"#, finish: "length"))
        case "garbage": return TestHTTPReply(body: "<html>oops</html>")
        case "broken": return TestHTTPReply(status: 500, body: #"{"error": "boom"}"#)
        case "limited": return TestHTTPReply(status: 429, headers: ["Retry-After": "10"], body: "{}")
        case "slow":
            _ = release.wait(timeout: .now() + 5)  // held until the test ends; the client's deadline is shorter
            return TestHTTPReply(body: opinion("buy", "1.0"))
        default: return TestHTTPReply(status: 400, body: "{}")
        }
    }
}

@Suite("LLM opinions, end to end", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct LLMEndToEndTests {
    func config(_ url: URL, models: [String], extra: String = "", minConfidence: Double = 0.6, llmWeight: Double = 0.2, band: Double = 1.0) -> String {
        let providers = models.map { #"{"name": "\#($0)", "base_url": "\#(url.absoluteString)", "model": "\#($0)", "timeout_seconds": \#($0 == "slow" ? "0.5" : "10"), "api_key_env": "TJ_TEST_LLM_KEY"}"# }
        return #"{"strategy": {"min_confidence": \#(minConfidence), "weights": {"llm": \#(llmWeight)}}, "llm": {"enabled": true, "consult_band": \#(band), "providers": [\#(providers.joined(separator: ", "))]\#(extra)}}"#
    }

    @Test func aCycleAlwaysCompletesAndTheAuditTrailIsComplete() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["buyer", "seller", "refuser", "truncated", "garbage", "broken", "limited", "slow"],
                                           extra: #", "max_calls_per_run": 100, "breaker_failures": 100"#))
        defer { h.remove() }
        let r = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: ["TJ_TEST_LLM_KEY": "sk-test-secret"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("sk-test-secret"))
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls") == "64")  // 8 symbols × 8 models
        let debugCalls = try h.sqlite("SELECT symbol, provider, status, problem FROM llm_calls") + (try h.sqlite("SELECT symbol, outcome FROM llm_opinions")) + r.stderr
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE status = 'valid'") == "16", "\(debugCalls)")
        for problem in ["refused", "finish_reason length", "malformed response", "HTTP 500", "HTTP 429", "no reply"] {
            #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE problem LIKE '%\(problem)%'") != "0", "\(problem)")
        }
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_opinions") == "8")
        let explain = try h.run(["explain", "--symbol", "BTCUSDT"])
        #expect(explain.code == 0)
        #expect(explain.stdout.contains("buyer says buy"))
        #expect(explain.stdout.contains("refuser"))
        #expect(explain.stdout.contains("signal:"))
    }

    @Test func invalidAnswersNeverProduceOrders() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // Entries need confidence above 0.95, reachable only with a strong buy opinion (weight 10).
        let invalid = try Harness(config: config(url, models: ["overconfident", "stranger", "refuser", "truncated", "garbage"], minConfidence: 0.95, llmWeight: 10))
        defer { invalid.remove() }
        #expect(try invalid.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(try invalid.sqlite("SELECT COUNT(*) FROM orders") == "0")
        #expect(try invalid.sqlite("SELECT COUNT(*) FROM llm_calls WHERE status = 'valid'") == "0")
        #expect(try invalid.sqlite("SELECT COUNT(*) FROM llm_calls WHERE problem LIKE '%outside 0%'") != "0")
        #expect(try invalid.sqlite("SELECT COUNT(*) FROM llm_calls WHERE problem LIKE '%unknown action%'") != "0")
        // Control: a valid strong buy does move the same market to orders.
        let valid = try Harness(config: config(url, models: ["buyer"], minConfidence: 0.95, llmWeight: 10))
        defer { valid.remove() }
        #expect(try valid.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let debugValid = try valid.sqlite("SELECT symbol, status, problem, from_cache FROM llm_calls") + " " + (try valid.sqlite("SELECT symbol, confidence, opinion FROM signals"))
        #expect(try valid.sqlite("SELECT COUNT(*) FROM orders") != "0", "\(debugValid)")
    }

    @Test func budgetsBreakersAndTheCacheHoldAcrossRuns() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["buyer", "broken"], extra: #", "max_calls_per_run": 6, "breaker_failures": 2, "breaker_cooldown_seconds": 3600"#))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE from_cache = 0") == "6", "the per-run call budget")
        #expect(fake.count("broken") == 2, "the breaker opened after 2 consecutive failures")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_budget_exhausted'") != "0")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_breaker_open'") == "1")
        // A second process at the same instant: same questions → answered from the cache; the breaker still holds.
        let before = fake.total
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.count("broken") == 2)
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE from_cache = 1") != "0")
        #expect(fake.total - before <= 6)
    }

    @Test func theDailyTokenBudgetStopsRequests() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["buyer"], extra: #", "max_tokens_per_day": 300, "cache_ttl_seconds": 0"#))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let first = fake.total
        #expect(first == 2, "150 tokens per answer: the third call would exceed 300")
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(fake.total == first, "the day's budget is spent across runs")
        // The next UTC day has a fresh budget.
        #expect(try h.run(["run", "--now", "2024-03-02T00:00:15Z"]).code == 0)
        #expect(fake.total > first)
    }

    @Test func structuredOutputOrPlainJSONPerProvider() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: #"{"market": {"symbols": ["BTCUSDT"]}, "llm": {"enabled": true, "consult_band": 1.0, "providers": [{"name": "a", "base_url": "\#(url.absoluteString)", "model": "buyer"}, {"name": "b", "base_url": "\#(url.absoluteString)", "model": "seller", "structured_output": false}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: ["TJ_TEST_LLM_KEY": "k"]).code == 0)
        let bodies = fake.server?.requests.map { (try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any]) ?? [:] } ?? []
        let structured = try #require(bodies.first { $0["model"] as? String == "buyer" })
        let format = structured["response_format"] as? [String: Any]
        #expect(format?["type"] as? String == "json_schema")
        #expect((format?["json_schema"] as? [String: Any])?["strict"] as? Bool == true)
        let plain = try #require(bodies.first { $0["model"] as? String == "seller" })
        #expect(plain["response_format"] == nil)
    }

    @Test func aStrongSellOpinionVetoesEntries() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // llm weight 0: the opinion does not move the score, only the veto applies (seller answers sell 0.9 ≥ 0.7).
        let h = try Harness(config: config(url, models: ["seller"], minConfidence: 0.3, llmWeight: 0))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders") == "0")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'decision' AND message LIKE '%vetoed%'") != "0")
    }

    @Test func onlySymbolsNearTheThresholdAreSent() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["buyer"], band: 0.0))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.total == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls") == "0")
    }

    @Test func theDailyMoneyBudgetStopsRequests() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // 120 prompt tokens at 10 per 1k = 1.2 per answer; the day allows 1: one call, then none.
        let h = try Harness(config: #"{"llm": {"enabled": true, "consult_band": 1.0, "max_tokens_per_day": 0, "max_cost_per_day": "1", "cache_ttl_seconds": 0, "providers": [{"name": "a", "base_url": "\#(url.absoluteString)", "model": "buyer", "price_per_1k_input": "10"}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.total == 1)
        #expect(try h.sqlite("SELECT cost FROM llm_calls WHERE from_cache = 0") == "1.2")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_budget_exhausted'") != "0")
    }
}
