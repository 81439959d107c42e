import Crypto
import Foundation
import GRDB
import HTTPTransport
import Storage
import TradingDomain

/// What a consultation came to.
public enum ConsultationOutcome: String, Sendable {
    case opinion
    /// Too few valid answers.
    case noOpinion = "no_opinion"
    /// The run's call budget or the day's token/money budget is spent: the cycle goes on without the models.
    case budgetExhausted = "budget_exhausted"
    /// Every provider's circuit breaker is open.
    case providersUnavailable = "providers_unavailable"
}

/// Asks the configured models about one symbol, concurrently (at most `maxConcurrent` at a time, each with its own
/// deadline), and turns the valid answers into one opinion (`OpinionAggregator`). Never throws: a model that is down,
/// slow, wrong-shaped or overconfident gives no opinion, never an order. Persisted in the state database: every request
/// and answer (audit), a cache keyed by SHA-256 of (model, prompt), per-provider circuit breakers, and the budgets'
/// spending (tokens and money per UTC day, from the reported usage).
public final class OpinionService: @unchecked Sendable {
    let configuration: LLMConfiguration
    let database: DatabaseQueue
    let http: any HTTPClient
    let environment: [String: String]
    /// One consultation at a time (the models of one symbol are still asked concurrently), so that budgets are
    /// checked and spent in order, never raced by two symbols at once.
    let gate = ConsultationGate()

    public init(configuration: LLMConfiguration, database: DatabaseQueue, http: any HTTPClient, environment: [String: String]) {
        self.configuration = configuration
        self.database = database
        self.http = http
        self.environment = environment
    }

    struct CallRecord: Sendable {
        var provider: LLMProvider
        var cacheKey: String
        var rawReply: String?
        var result: Result<ModelAnswer, InvalidAnswer>
        var latencyMs: Int64
        var usage: ModelAnswerParser.Usage
        var fromCache: Bool
        var transportFailure: Bool
    }

    /// Consults the models about `context` for run `runID`; returns the opinion (nil for none) and the outcome.
    public func consult(runID: Int64, context: PromptContext, now: Int64) async -> (ModelOpinion?, ConsultationOutcome) {
        await gate.acquire()
        let result = await consultAlone(runID: runID, context: context, now: now)
        await gate.release()
        return result
    }

    func consultAlone(runID: Int64, context: PromptContext, now: Int64) async -> (ModelOpinion?, ConsultationOutcome) {
        let user = PromptBuilder.user(context)
        let c = configuration
        let dayStart = (now / 86_400_000) * 86_400_000
        var plan: [(LLMProvider, String, ModelAnswer?)] = []
        var budgetLeft = 0
        var dailySpent = false
        do {
            (plan, budgetLeft, dailySpent) = try await database.read { db in
                var plan: [(LLMProvider, String, ModelAnswer?)] = []
                for provider in c.providers where provider.weight > 0 {
                    let openUntil = try Int64.fetchOne(db, sql: "SELECT open_until FROM llm_breakers WHERE provider = ?", arguments: [provider.name]) ?? 0
                    if openUntil > now { continue }
                    let key = Self.cacheKey(model: provider.model, system: PromptBuilder.system, user: user)
                    var cached: ModelAnswer?
                    if c.cacheTTLSeconds > 0, let row = try Row.fetchOne(db, sql: """
                        SELECT action, confidence, horizon, rationale FROM llm_calls WHERE cache_key = ? AND status = 'valid' AND time >= ?
                        ORDER BY id DESC LIMIT 1
                        """, arguments: [key, now - Int64(c.cacheTTLSeconds) * 1000]),
                       let action = ModelOpinion.Action(rawValue: row["action"] ?? "") {
                        cached = ModelAnswer(action: action, confidence: row["confidence"] ?? 0, horizon: row["horizon"] ?? "", rationale: row["rationale"] ?? "")
                    }
                    plan.append((provider, key, cached))
                }
                let callsThisRun = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM llm_calls WHERE run_id = ? AND from_cache = 0", arguments: [runID]) ?? 0
                let tokens = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM llm_calls WHERE time >= ?", arguments: [dayStart]) ?? 0
                let cost = try String.fetchAll(db, sql: "SELECT cost FROM llm_calls WHERE time >= ?", arguments: [dayStart]).compactMap(Money.parse).reduce(0, +)
                let spent = (c.maxTokensPerDay > 0 && tokens >= c.maxTokensPerDay) || (c.maxCostPerDay > 0 && cost >= c.maxCostPerDay)
                return (plan, c.maxCallsPerRun - callsThisRun, spent)
            }
        } catch {
            return (nil, .noOpinion)
        }
        if plan.isEmpty { return await record(runID: runID, context: context, now: now, calls: [], outcome: .providersUnavailable) }

        var calls: [CallRecord] = []
        var toAsk: [(LLMProvider, String)] = []
        for (provider, key, cached) in plan {
            if let cached {
                calls.append(CallRecord(provider: provider, cacheKey: key, rawReply: nil, result: .success(cached), latencyMs: 0,
                                        usage: .init(promptTokens: 0, completionTokens: 0), fromCache: true, transportFailure: false))
            } else {
                toAsk.append((provider, key))
            }
        }
        var budgetHit = false
        if !toAsk.isEmpty && (dailySpent || budgetLeft <= 0) {
            budgetHit = true
            toAsk = []
        } else if toAsk.count > budgetLeft {
            budgetHit = true
            toAsk = Array(toAsk.prefix(max(0, budgetLeft)))
        }
        let asked = await ask(toAsk, user: user)
        calls += asked
        let valid = calls.compactMap { call -> (answer: ModelAnswer, weight: Double)? in
            if case let .success(answer) = call.result { return (answer, call.provider.weight) }
            return nil
        }
        let opinion = OpinionAggregator.combine(valid, minValid: c.minValidAnswers)
        let outcome: ConsultationOutcome = opinion != nil ? .opinion : (budgetHit && asked.isEmpty && calls.isEmpty ? .budgetExhausted : (budgetHit ? .budgetExhausted : .noOpinion))
        let (_, finalOutcome) = await record(runID: runID, context: context, now: now, calls: calls, outcome: outcome, opinion: opinion)
        return (opinion, finalOutcome)
    }

    func ask(_ providers: [(LLMProvider, String)], user: String) async -> [CallRecord] {
        let limit = max(1, configuration.maxConcurrent)
        return await withTaskGroup(of: CallRecord.self) { group in
            var results: [CallRecord] = []
            var next = 0
            func launch() {
                guard next < providers.count else { return }
                let (provider, key) = providers[next]
                next += 1
                group.addTask { await self.call(provider, key: key, user: user) }
            }
            for _ in 0..<min(limit, providers.count) { launch() }
            while let r = await group.next() {
                results.append(r)
                launch()
            }
            return results.sorted { $0.provider.name < $1.provider.name }
        }
    }

    func call(_ provider: LLMProvider, key: String, user: String) async -> CallRecord {
        var body: [String: Any] = [
            "model": provider.model,
            "temperature": 0,
            "messages": [["role": "system", "content": PromptBuilder.system], ["role": "user", "content": user]],
        ]
        if provider.structuredOutput {
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": "trading_opinion", "strict": true, "schema": OpinionSchema.json]]
        }
        var headers = ["Content-Type": "application/json"]
        if !provider.apiKeyEnvironment.isEmpty, let apiKey = environment[provider.apiKeyEnvironment], !apiKey.isEmpty {
            headers["Authorization"] = "Bearer \(apiKey)"
        }
        let base = provider.baseURL.hasSuffix("/") ? String(provider.baseURL.dropLast()) : provider.baseURL
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Int64 { Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) }
        guard let url = URL(string: base + "/v1/chat/completions"),
              let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
            return CallRecord(provider: provider, cacheKey: key, rawReply: nil, result: .failure(.malformedResponse("bad base_url")), latencyMs: 0,
                              usage: .init(promptTokens: 0, completionTokens: 0), fromCache: false, transportFailure: true)
        }
        do {
            let response = try await http.send(HTTPRequest(method: "POST", url: url, headers: headers, body: data, timeout: provider.timeoutSeconds))
            let raw = String(decoding: response.body.prefix(20_000), as: UTF8.self)
            guard (200..<300).contains(response.status) else {
                return CallRecord(provider: provider, cacheKey: key, rawReply: raw, result: .failure(.httpStatus(response.status)), latencyMs: elapsed(),
                                  usage: .init(promptTokens: 0, completionTokens: 0), fromCache: false, transportFailure: true)
            }
            let (result, usage) = ModelAnswerParser.parse(response.body)
            var failed = false
            if case .failure(.malformedResponse) = result { failed = true }
            return CallRecord(provider: provider, cacheKey: key, rawReply: raw, result: result, latencyMs: elapsed(), usage: usage, fromCache: false, transportFailure: failed)
        } catch {
            return CallRecord(provider: provider, cacheKey: key, rawReply: nil, result: .failure(.transport("\(error)")), latencyMs: elapsed(),
                              usage: .init(promptTokens: 0, completionTokens: 0), fromCache: false, transportFailure: true)
        }
    }

    /// Audits every call, updates the breakers and stores the opinion, in one transaction.
    func record(runID: Int64, context: PromptContext, now: Int64, calls: [CallRecord], outcome: ConsultationOutcome,
                opinion: ModelOpinion? = nil) async -> (ModelOpinion?, ConsultationOutcome) {
        let c = configuration
        let prompt = PromptBuilder.user(context)
        do {
            try await database.write { db in
                for call in calls {
                    var status = "valid", problem: String?, answer: ModelAnswer?
                    switch call.result {
                    case let .success(a): answer = a
                    case let .failure(why): status = "invalid"; problem = why.description
                    }
                    let cost = Decimal(call.usage.promptTokens) / 1000 * call.provider.pricePer1kInput + Decimal(call.usage.completionTokens) / 1000 * call.provider.pricePer1kOutput
                    try db.execute(sql: """
                        INSERT INTO llm_calls (run_id, symbol, provider, model, cache_key, time, prompt, raw_reply, status, problem, action, confidence, horizon,
                        rationale, latency_ms, prompt_tokens, completion_tokens, cost, from_cache) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [runID, context.symbol, call.provider.name, call.provider.model, call.cacheKey, now, prompt, call.rawReply, status, problem,
                                         answer?.action.rawValue, answer?.confidence, answer?.horizon, answer?.rationale, call.latencyMs,
                                         call.usage.promptTokens, call.usage.completionTokens, Money.text(cost), call.fromCache])
                    if call.fromCache { continue }
                    if call.transportFailure {
                        try db.execute(sql: "INSERT INTO llm_breakers (provider, consecutive_failures) VALUES (?, 1) ON CONFLICT(provider) DO UPDATE SET consecutive_failures = consecutive_failures + 1",
                                       arguments: [call.provider.name])
                        let failures = try Int.fetchOne(db, sql: "SELECT consecutive_failures FROM llm_breakers WHERE provider = ?", arguments: [call.provider.name]) ?? 0
                        if failures >= c.breakerFailures {
                            try db.execute(sql: "UPDATE llm_breakers SET open_until = ?, consecutive_failures = 0 WHERE provider = ?",
                                           arguments: [now + Int64(c.breakerCooldownSeconds) * 1000, call.provider.name])
                            try Events.append(db, runID: runID, time: now, kind: "llm_breaker_open", symbol: context.symbol,
                                              message: "provider \(call.provider.name): \(failures) consecutive failures; skipped for \(c.breakerCooldownSeconds) s")
                        }
                    } else {
                        try db.execute(sql: "INSERT INTO llm_breakers (provider, consecutive_failures) VALUES (?, 0) ON CONFLICT(provider) DO UPDATE SET consecutive_failures = 0",
                                       arguments: [call.provider.name])
                    }
                }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO llm_opinions (run_id, symbol, time, outcome, action, confidence, agreement, technical_confidence)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [runID, context.symbol, now, outcome.rawValue, opinion?.action.rawValue, opinion?.confidence, opinion?.agreement, context.technicalConfidence])
                if outcome == .budgetExhausted {
                    try Events.append(db, runID: runID, time: now, kind: "llm_budget_exhausted", symbol: context.symbol,
                                      message: "LLM budget spent: continuing without the models")
                }
            }
        } catch {
            return (opinion, outcome)
        }
        return (opinion, outcome)
    }

    /// SHA-256 (hex) of the model and the whole prompt.
    public static func cacheKey(model: String, system: String, user: String) -> String {
        SHA256.hash(data: Data((model + "\u{0}" + system + "\u{0}" + user).utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// A first-in, first-out async lock.
actor ConsultationGate {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
