import Foundation
import Testing
import TestSupport

/// A fake OpenAI-compatible chat-completions server, hostile on demand: the answer depends on the requested model's
/// name (see `answer`). It counts the requests it receives per model, so budgets, cache and breakers are checked by
/// what reached the server, not by what the job recorded.
final class FakeModels: @unchecked Sendable {
    let lock = NSLock()
    var counts: [String: Int] = [:]
    let release = DispatchSemaphore(value: 0)
    var server: TestHTTPServer?
    /// Where the "redirect" model sends its 307.
    var redirectTarget: URL?
    /// The "who" model answers this (so two servers can disagree about the same model name).
    var whoSays = ("sell", "0.9")

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

    static func completion(content: String?, finish: String = "stop", refusal: String? = nil, usage: String = #"{"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}"#) -> String {
        var message: [String: Any] = ["role": "assistant"]
        message["content"] = content ?? NSNull()
        if let refusal { message["refusal"] = refusal }
        let body: [String: Any] = ["id": "x", "object": "chat.completion", "choices": [["index": 0, "message": message, "finish_reason": finish]]]
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self)
        return String(text.dropLast()) + #", "usage": \#(usage)}"#  // verbatim: 1e30 and -1000000 as a hostile server sends them
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
        case "hang":
            _ = release.wait(timeout: .now() + 60)  // held until the test ends
            return TestHTTPReply(body: opinion("buy", "1.0"))
        case "delayed":  // a slow but timely model: answers after 1.2 s (its timeout is 1.9 s)
            _ = release.wait(timeout: .now() + 1.2)
            return TestHTTPReply(body: opinion("buy", "1.0"))
        case "quick":  // answers after 0.1 s (its timeout is 0.5 s)
            _ = release.wait(timeout: .now() + 0.1)
            return TestHTTPReply(body: opinion("buy", "1.0"))
        case "huge-usage": return TestHTTPReply(body: FakeModels.completion(content: #"{"action": "hold", "confidence": 0.5}"#, usage: #"{"prompt_tokens": 1e30, "completion_tokens": 30}"#))
        case "negative-usage": return TestHTTPReply(body: FakeModels.completion(content: #"{"action": "hold", "confidence": 0.5}"#, usage: #"{"prompt_tokens": -1000000, "completion_tokens": 30}"#))
        case "verbose": return TestHTTPReply(body: FakeModels.completion(content: #"{"action": "hold", "confidence": 0.5}"#, usage: #"{"prompt_tokens": 0, "completion_tokens": 300}"#))
        case "prose": return TestHTTPReply(body: FakeModels.completion(content: "Sure! Markets look bullish, I would buy."))
        case "who": return TestHTTPReply(body: opinion(whoSays.0, whoSays.1))
        case "hostile":
            let rationale = "fine.\ndecision: enter: BTCUSDT qty 999 (forged)\u{1B}[2J\u{1B}[31mPWNED"
            let content = String(decoding: (try? JSONSerialization.data(withJSONObject: ["action": "hold", "confidence": 0.5, "horizon": "1d", "rationale": rationale])) ?? Data(), as: UTF8.self)
            return TestHTTPReply(body: FakeModels.completion(content: content))
        case "redirect":
            return TestHTTPReply(status: 307, headers: ["Location": (redirectTarget?.absoluteString ?? "http://127.0.0.1:1") + "/v1/chat/completions"], body: "")
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
        let h = try Harness(config: config(url, models: ["buyer", "broken"], extra: #", "max_calls_per_run": 6, "breaker_failures": 2, "breaker_cooldown_seconds": 3600, "max_concurrent": 1"#))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE NOT from_cache") == "6", "the per-run call budget")
        #expect(fake.count("broken") == 2, "the breaker opened after 2 consecutive failures")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_budget_exhausted'") != "0")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_breaker_open'") == "1")
        // A second process at the same instant: same questions → answered from the cache; the breaker still holds.
        let before = fake.total
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.count("broken") == 2)
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE from_cache") != "0")
        #expect(fake.total - before <= 6)
    }

    @Test func theDailyTokenBudgetStopsRequests() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // 150 tokens per answer, but a call goes only if the day can still cover its worst case (prompt bytes + 64 + 300).
        let h = try Harness(config: config(url, models: ["buyer"], extra: #", "max_tokens_per_day": 5000, "cache_ttl_seconds": 0"#))
        defer { h.remove() }
        var last = 0
        for time in ["2024-03-01T00:00:15Z", "2024-03-01T00:15:15Z", "2024-03-01T00:30:15Z", "2024-03-01T00:45:15Z"] {
            #expect(try h.run(["run", "--now", time]).code == 0)
            #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE NOT from_cache") == "\(fake.total)", "every request the server saw is audited")
            #expect(Int(try h.sqlite("SELECT SUM(prompt_tokens + completion_tokens) FROM llm_calls")) ?? .max <= 5000)
            last = fake.total
        }
        #expect(last > 0 && last < 32, "some calls, then the day's budget refuses the rest: \(last)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_budget_exhausted'") != "0")
        // The next UTC day has a fresh budget.
        #expect(try h.run(["run", "--now", "2024-03-02T00:00:15Z"]).code == 0)
        #expect(fake.total > last)
    }

    @Test func implausibleUsageIsChargedAsTheWorstCaseAndEveryRequestSendsMaxTokens() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["huge-usage", "negative-usage"],
                                           extra: #", "max_tokens_per_day": 20000, "max_cost_per_day": "0", "cache_ttl_seconds": 0, "max_calls_per_run": 100, "max_tokens_per_answer": 200"#))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let sent = fake.total
        #expect(sent > 0 && sent < 16, "each answer charged its worst case (~3,000 tokens): the 20,000 budget stops the run early, got \(sent)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE NOT from_cache") == "\(sent)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE NOT usage_implausible") == "0")
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE prompt_tokens < 0 OR completion_tokens < 0 OR completion_tokens > 200") == "0")
        let charged = Int(try h.sqlite("SELECT SUM(prompt_tokens + completion_tokens) FROM llm_calls")) ?? -1
        #expect(charged > 0 && charged <= 20000, "\(charged)")
        // Every request asked for at most 200 tokens.
        let maxTokens = fake.server?.requests.map { (try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any])?["max_tokens"] as? Int } ?? []
        #expect(!maxTokens.isEmpty && maxTokens.allSatisfy { $0 == 200 })
        // Later the same day: the budget still holds, nothing more reaches the server.
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(fake.total == sent)
    }

    @Test func theMoneyBudgetIsNeverOvershot() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // 300 completion tokens at 1 per 1k = 0.3 per answer, the worst case too; the day allows 1: three calls (0.9), never a fourth (1.2).
        let h = try Harness(config: #"{"llm": {"enabled": true, "consult_band": 1.0, "max_tokens_per_day": 0, "max_cost_per_day": "1", "cache_ttl_seconds": 0, "providers": [{"name": "a", "base_url": "\#(url.absoluteString)", "model": "verbose", "price_per_1k_output": "1"}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.total == 3)
        #expect(try h.sqlite("SELECT DISTINCT cost FROM llm_calls") == "30000000")  // 0.3 as a raw count of 1e-8
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_budget_exhausted'") != "0")
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(fake.total == 3)
    }

    @Test func theCacheTTLIsTheAgeOfTheAnswerAndAHitDoesNotRenewIt() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["buyer"], extra: #", "cache_ttl_seconds": 600, "max_calls_per_run": 100"#))
        defer { h.remove() }
        // The same closed candle (00:00) in all three runs, so the same questions.
        #expect(try h.run(["run", "--now", "2024-03-01T00:16:00Z"]).code == 0)
        let first = fake.total
        #expect(first == 8)
        #expect(try h.run(["run", "--now", "2024-03-01T00:21:00Z"]).code == 0)
        #expect(fake.total == first, "5 minutes old: from the cache")
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE from_cache AND cached_from IS NOT NULL") == "8")
        #expect(try h.run(["run", "--now", "2024-03-01T00:27:00Z"]).code == 0)
        #expect(fake.total == 2 * first, "11 minutes old: expired, although it was replayed 6 minutes ago")
    }

    @Test func theCacheIsKeyedByProviderAndAReplayGivesTheSameOpinion() throws {
        let one = FakeModels(), two = FakeModels()
        two.whoSays = ("buy", "0.9")
        let url1 = try one.start(), url2 = try two.start()
        defer { one.stop(); two.stop() }
        let h = try Harness(config: #"{"market": {"symbols": ["BTCUSDT", "ETHUSDT"]}, "llm": {"enabled": true, "consult_band": 1.0, "cache_ttl_seconds": 600, "providers": [{"name": "first", "base_url": "\#(url1.absoluteString)", "model": "who"}, {"name": "second", "base_url": "\#(url2.absoluteString)", "model": "who"}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:16:00Z"]).code == 0)
        #expect(one.total == 2 && two.total == 2, "both providers asked about both symbols")
        #expect(try h.run(["run", "--now", "2024-03-01T00:21:00Z"]).code == 0)
        #expect(one.total == 2 && two.total == 2, "the second run is answered from the cache")
        let opinions = try h.sqlite("SELECT run_id, symbol, outcome, action, confidence, agreement FROM llm_opinions ORDER BY symbol, run_id").split(separator: "\n")
        #expect(opinions.count == 4)
        for pair in stride(from: 0, to: opinions.count - 1, by: 2) {
            #expect(opinions[pair].split(separator: "|").dropFirst().elementsEqual(opinions[pair + 1].split(separator: "|").dropFirst()), "\(opinions)")
        }
        #expect(try h.sqlite("SELECT DISTINCT provider || ':' || action FROM llm_calls ORDER BY 1") == "first:sell\nsecond:buy")
        let explain = try h.run(["explain", "--symbol", "BTCUSDT"])
        #expect(explain.stdout.contains("first (who): valid (cached: the answer of call"))
        #expect(explain.stdout.contains("second (who): valid (cached: the answer of call"))
    }

    @Test func fractionalTimeoutsAreKept() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // Whole-second truncation made 1.9 s act as 1 s and 0.5 s as 0.
        let h = try Harness(config: #"{"market": {"symbols": ["BTCUSDT"]}, "llm": {"enabled": true, "consult_band": 1.0, "providers": [{"name": "delayed", "base_url": "\#(url.absoluteString)", "model": "delayed", "timeout_seconds": 1.9}, {"name": "quick", "base_url": "\#(url.absoluteString)", "model": "quick", "timeout_seconds": 0.5}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.total == 2)
        let problems = try h.sqlite("SELECT provider, problem FROM llm_calls")
        #expect(try h.sqlite("SELECT provider || ':' || status FROM llm_calls ORDER BY provider") == "delayed:valid\nquick:valid", "\(problems)")
    }

    @Test func redirectsAreNotFollowedAndTheKeyStaysHome() throws {
        let elsewhere = FakeModels(), fake = FakeModels()
        let target = try elsewhere.start()
        fake.redirectTarget = target
        let url = try fake.start()
        defer { fake.stop(); elsewhere.stop() }
        let h = try Harness(config: #"{"market": {"symbols": ["BTCUSDT"]}, "llm": {"enabled": true, "consult_band": 1.0, "providers": [{"name": "r", "base_url": "\#(url.absoluteString)", "model": "redirect", "api_key_env": "TJ_TEST_LLM_KEY"}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: ["TJ_TEST_LLM_KEY": "sk-test-secret"]).code == 0)
        #expect(fake.server?.requests.count == 1)
        #expect(fake.server?.requests.first?.headers["authorization"] == "Bearer sk-test-secret")
        #expect(elsewhere.server?.requests.count == 0, "the 307 was not followed")
        #expect(try h.sqlite("SELECT status || ':' || problem FROM llm_calls") == "invalid:HTTP 307 (a redirect, not followed)")
    }

    @Test func explainShowsModelTextAsInertQuotedData() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: #"{"market": {"symbols": ["BTCUSDT"]}, "llm": {"enabled": true, "consult_band": 1.0, "providers": [{"name": "h", "base_url": "\#(url.absoluteString)", "model": "hostile"}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let out = try h.run(["explain", "--symbol", "BTCUSDT"]).stdout
        #expect(!out.unicodeScalars.contains { $0.value == 0x1B }, "no escape sequence reaches the terminal")
        #expect(!out.split(separator: "\n").contains { $0.hasPrefix("decision: enter: BTCUSDT qty 999") }, "\(out)")
        #expect(out.contains(#"rationale, in the model's words: "fine.\ndecision: enter: BTCUSDT qty 999 (forged)\u{1B}[2J\u{1B}[31mPWNED""#), "\(out)")
    }

    @Test func aHangingProviderCannotHoldTheCyclePastTheStepDeadline() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        // 8 symbols, a provider that never answers (timeout 30 s), two requests at a time, a 0.5 s step deadline.
        let h = try Harness(config: #"{"llm": {"enabled": true, "consult_band": 1.0, "max_concurrent": 2, "step_timeout_seconds": 0.5, "breaker_failures": 100, "providers": [{"name": "h", "base_url": "\#(url.absoluteString)", "model": "hang", "timeout_seconds": 30}]}}"#)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.total == 2, "two calls in flight until the deadline cut them off; none started after it")
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_calls WHERE problem LIKE '%step_timeout_seconds%'") == "2")
        #expect(try h.sqlite("SELECT COUNT(*) FROM llm_opinions WHERE outcome = 'deadline_passed'") == "6")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_step_deadline'") == "6")
        #expect(try h.sqlite("SELECT COUNT(*) FROM signals") == "8", "the cycle went on without the models")
    }

    @Test func invalidAnswersOpenTheBreaker() throws {
        let fake = FakeModels()
        let url = try fake.start()
        defer { fake.stop() }
        let h = try Harness(config: config(url, models: ["prose"], extra: #", "max_concurrent": 1, "breaker_failures": 2, "breaker_cooldown_seconds": 3600, "cache_ttl_seconds": 0"#))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(fake.count("prose") == 2, "prose twice in a row opens the breaker")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'llm_breaker_open'") == "1")
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(fake.count("prose") == 2, "still open in the next run")
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
}
