import Crypto
import Foundation
import HTTPTransport
import Storage
import TradingDomain

/// What a consultation came to.
public enum ConsultationOutcome: String, Sendable {
    case opinion
    /// Too few valid answers.
    case noOpinion = "no_opinion"
    /// The run's call budget or the day's token/money budget cannot cover another call: the cycle goes on without the models.
    case budgetExhausted = "budget_exhausted"
    /// Every provider's circuit breaker is open.
    case providersUnavailable = "providers_unavailable"
    /// The LLM step's deadline (`llm.step_timeout_seconds`) passed before the models could be asked.
    case deadlinePassed = "deadline_passed"
}

/// Asks the configured models about symbols and turns the valid answers into one opinion per symbol
/// (`OpinionAggregator`). Never throws: a model that is down, slow, wrong-shaped or overconfident gives no opinion,
/// never an order. Symbols may be consulted concurrently: at most `maxConcurrent` requests are in flight over all
/// symbols and providers, the step has one deadline, and the budgets are reserved (worst case) before each call and
/// settled from the validated usage after it, so concurrent consultations cannot overspend. Persisted in the state
/// database: every request and answer (audit), a cache keyed by SHA-256 of (provider, base URL, model, request shape,
/// prompt) whose entries age from when the model answered, per-provider circuit breakers, and the budgets' spending.
public final class OpinionService: @unchecked Sendable {
    let configuration: LLMConfiguration
    let database: any RecordStore
    let http: any HTTPClient
    let environment: [String: String]
    let permits: Permits
    let ledger = SpendingLedger()
    private let lock = NSLock()
    private var deadline: UInt64?

    public init(configuration: LLMConfiguration, database: any RecordStore, http: any HTTPClient, environment: [String: String]) {
        self.configuration = configuration
        self.database = database
        self.http = http
        self.environment = environment
        permits = Permits(max(1, configuration.maxConcurrent))
    }

    struct CallRecord: Sendable {
        var provider: LLMProvider
        var cacheKey: String
        var rawReply: String?
        var result: Result<ModelAnswer, InvalidAnswer>
        var latencyMs: Int64
        var usage: ModelAnswerParser.Usage
        /// The fresh call whose answer this cache hit replays.
        var cachedFrom: Int64?
    }

    /// A call that was not sent.
    enum Skip: Sendable { case budget, deadline, breakerOpen }

    /// Seconds left before the step's deadline, which starts with the first consultation.
    func secondsLeft() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        defer { lock.unlock() }
        if deadline == nil {
            let seconds = configuration.stepTimeoutSeconds.isFinite ? max(0, configuration.stepTimeoutSeconds) : 0
            deadline = now + UInt64(min(seconds, 86_400) * 1e9)
        }
        guard let deadline, deadline > now else { return 0 }
        return Double(deadline - now) / 1e9
    }

    /// Consults the models about `context` for run `runID`; returns the opinion (nil for none) and the outcome.
    public func consult(runID: Int64, context: PromptContext, now: Int64) async -> (ModelOpinion?, ConsultationOutcome) {
        _ = secondsLeft()
        let user = PromptBuilder.user(context)
        let c = configuration
        var plan: [(LLMProvider, String, (Int64, ModelAnswer)?)] = []
        do {
            plan = try await database.readRecords { ledger in
                var plan: [(LLMProvider, String, (Int64, ModelAnswer)?)] = []
                for provider in c.providers where provider.weight > 0 {
                    let openUntil = try ledger.llmBreakerOpenUntil(provider: provider.name) ?? 0
                    if openUntil > now { continue }
                    let key = Self.cacheKey(provider: provider, maxTokens: c.maxTokensPerAnswer, system: PromptBuilder.system, user: user)
                    plan.append((provider, key, try Self.cached(ledger, key: key, now: now, ttlSeconds: c.cacheTTLSeconds)))
                }
                return plan
            }
        } catch {
            return (nil, .noOpinion)
        }
        if plan.isEmpty { return await record(runID: runID, context: context, now: now, calls: [], outcome: .providersUnavailable) }

        var calls: [CallRecord] = []
        var toAsk: [(LLMProvider, String)] = []
        for (provider, key, cached) in plan {
            if let (id, answer) = cached {
                calls.append(CallRecord(provider: provider, cacheKey: key, rawReply: nil, result: .success(answer), latencyMs: 0,
                                        usage: .init(promptTokens: 0, completionTokens: 0), cachedFrom: id))
            } else {
                toAsk.append((provider, key))
            }
        }
        let limits = ModelAnswerParser.UsageLimits.worstCase(prompt: PromptBuilder.system + user, maxTokens: c.maxTokensPerAnswer)
        let attempts = await withTaskGroup(of: Result<CallRecord, SkipError>.self) { group in
            for (provider, key) in toAsk {
                group.addTask { await self.attempt(provider, key: key, user: user, limits: limits, runID: runID, symbol: context.symbol, now: now) }
            }
            var all: [Result<CallRecord, SkipError>] = []
            for await a in group { all.append(a) }
            return all
        }
        var skips: [Skip] = []
        for a in attempts {
            switch a {
            case let .success(call): calls.append(call)
            case let .failure(skip): skips.append(skip.reason)
            }
        }
        calls.sort { $0.provider.name < $1.provider.name }
        let valid = calls.compactMap { call -> (answer: ModelAnswer, weight: Double)? in
            if case let .success(answer) = call.result { return (answer, call.provider.weight) }
            return nil
        }
        let opinion = OpinionAggregator.combine(valid, minValid: c.minValidAnswers)
        let outcome: ConsultationOutcome = opinion != nil ? .opinion
            : skips.contains(.deadline) ? .deadlinePassed : skips.contains(.budget) ? .budgetExhausted
            : (calls.isEmpty && !skips.isEmpty) ? .providersUnavailable : .noOpinion
        return await record(runID: runID, context: context, now: now, calls: calls, outcome: outcome, opinion: opinion,
                            skipped: skips)
    }

    struct SkipError: Error { var reason: Skip }

    /// The newest valid answer the model itself gave for `key` (never a replay) that is younger than the TTL at `now`.
    static func cached(_ ledger: any StateRecords, key: String, now: Int64, ttlSeconds: Int) throws -> (Int64, ModelAnswer)? {
        guard ttlSeconds > 0, let row = try ledger.newestLLMAnswer(cacheKey: key, upTo: now, after: now - Int64(ttlSeconds) * 1000),
            let action = ModelOpinion.Action(rawValue: row.action ?? "") else { return nil }
        return (row.id, ModelAnswer(action: action, confidence: row.confidence ?? 0, horizon: row.horizon ?? "", rationale: row.rationale ?? ""))
    }

    /// One call within the step: waits for a permit, then goes only if the step's deadline has not passed, the
    /// provider's breaker is still closed and the budgets can cover its worst case; its usage settles the reservation,
    /// and its outcome updates the breaker before the permit is given back.
    func attempt(_ provider: LLMProvider, key: String, user: String, limits: ModelAnswerParser.UsageLimits, runID: Int64,
                 symbol: Symbol, now: Int64) async -> Result<CallRecord, SkipError> {
        await permits.acquire()
        let result = await attemptHoldingPermit(provider, key: key, user: user, limits: limits, runID: runID, symbol: symbol, now: now)
        await permits.release()
        return result
    }

    func attemptHoldingPermit(_ provider: LLMProvider, key: String, user: String, limits: ModelAnswerParser.UsageLimits, runID: Int64,
                              symbol: Symbol, now: Int64) async -> Result<CallRecord, SkipError> {
        guard secondsLeft() > 0 else { return .failure(SkipError(reason: .deadline)) }
        func breakerOpen() async -> Bool {
            let open = (try? await database.readRecords { ledger in
                try ledger.llmBreakerOpenUntil(provider: provider.name) ?? 0
            }) ?? 0
            return open > now
        }
        guard await !breakerOpen() else { return .failure(SkipError(reason: .breakerOpen)) }
        let dayStart = (now / 86_400_000) * 86_400_000
        let worstCost = Self.cost(promptTokens: limits.promptTokens, completionTokens: limits.completionTokens, provider: provider)
        let worstTokens = limits.promptTokens + limits.completionTokens
        let reserved = await ledger.reserve(runID: runID, dayStart: dayStart, tokens: worstTokens, cost: worstCost, configuration: configuration) {
            try self.database.readRecordsNow { ledger in try SpendingLedger.Totals.load(ledger, runID: runID, dayStart: dayStart) }
        }
        guard reserved else { return .failure(SkipError(reason: .budget)) }
        // The reservation may have waited for other calls to settle: the deadline and the breaker are asked again.
        let left = secondsLeft()
        let skip: Skip? = left <= 0 ? .deadline : await breakerOpen() ? .breakerOpen : nil
        if let skip {
            await ledger.settle(reservedTokens: worstTokens, reservedCost: worstCost, tokens: 0, cost: 0)
            return .failure(SkipError(reason: skip))
        }
        let record = await call(provider, key: key, user: user, limits: limits, timeout: min(provider.timeoutSeconds, left))
        let charged = record.usage.promptTokens + record.usage.completionTokens
        await ledger.settle(reservedTokens: worstTokens, reservedCost: worstCost, tokens: charged,
                            cost: Self.cost(promptTokens: record.usage.promptTokens, completionTokens: record.usage.completionTokens, provider: provider))
        var failed = true
        if case .success = record.result { failed = false }
        await updateBreaker(provider: provider, failed: failed, runID: runID, symbol: symbol, now: now)
        return .success(record)
    }

    /// Every fresh call that gives no valid answer (no reply, HTTP error or redirect, malformed reply, invalid answer)
    /// counts toward its provider's breaker; a valid answer closes it; replays from the cache count for nothing.
    func updateBreaker(provider: LLMProvider, failed: Bool, runID: Int64, symbol: Symbol, now: Int64) async {
        let c = configuration
        try? await database.writeRecords { ledger in
            guard failed else {
                try ledger.resetLLMBreakerFailures(provider: provider.name)
                return
            }
            let failures = try ledger.countLLMBreakerFailure(provider: provider.name)
            if failures >= c.breakerFailures {
                try ledger.openLLMBreaker(provider: provider.name, until: now + Int64(c.breakerCooldownSeconds) * 1000)
                try ledger.record(runID: RunID(rawValue: runID), time: now, kind: .llmBreakerOpen, symbol: symbol,
                                  message: "provider \(provider.name): \(failures) consecutive failed calls; skipped for \(c.breakerCooldownSeconds) s")
            }
        }
    }

    /// Tokens × price per 1,000, each part rounded up to 1e-8 (a budget is never under-charged); out of range: the
    /// largest amount (such a call never fits a budget).
    static func cost(promptTokens: Int, completionTokens: Int, provider: LLMProvider) -> Money {
        let thousand: Fixed = 1000
        do {
            let input = try provider.pricePer1kInput.multiplied(by: Fixed(exactly: promptTokens) ?? Fixed(raw: .max), dividedBy: thousand, .up)
            let output = try provider.pricePer1kOutput.multiplied(by: Fixed(exactly: completionTokens) ?? Fixed(raw: .max), dividedBy: thousand, .up)
            return try input + output
        } catch {
            return Money(raw: .max)
        }
    }

    /// One request. The deadline is the provider's timeout or what is left of the step, whichever is shorter; a
    /// redirect is not followed (the 3xx is a failed call); a 2xx reply is charged its validated usage.
    func call(_ provider: LLMProvider, key: String, user: String, limits: ModelAnswerParser.UsageLimits, timeout: Double) async -> CallRecord {
        var body: [String: Any] = [
            "model": provider.model,
            "temperature": 0,
            "max_tokens": configuration.maxTokensPerAnswer,
            "messages": [["role": "system", "content": PromptBuilder.system], ["role": "user", "content": user]],
        ]
        if provider.structuredOutput {
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": "trading_opinion", "strict": true, "schema": OpinionSchema.json]]
        }
        var headers = ["Content-Type": "application/json"]
        if !provider.apiKeyEnvironment.isEmpty, let apiKey = environment[provider.apiKeyEnvironment], !apiKey.isEmpty {
            headers["Authorization"] = "Bearer \(apiKey)"
        }
        let none = ModelAnswerParser.Usage(promptTokens: 0, completionTokens: 0)
        let started = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Int64 { Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000) }
        guard let url = URL(string: Self.normalizedBaseURL(provider.baseURL) + "/v1/chat/completions"),
              let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
            return CallRecord(provider: provider, cacheKey: key, rawReply: nil, result: .failure(.malformedResponse("bad base_url")), latencyMs: 0, usage: none)
        }
        do {
            let response = try await http.send(HTTPRequest(method: "POST", url: url, headers: headers, body: data, timeout: timeout))
            let raw = String(decoding: response.body.prefix(20_000), as: UTF8.self)
            guard (200..<300).contains(response.status) else {
                return CallRecord(provider: provider, cacheKey: key, rawReply: raw, result: .failure(.httpStatus(response.status)), latencyMs: elapsed(), usage: none)
            }
            let (result, usage) = ModelAnswerParser.parse(response.body, limits: limits)
            return CallRecord(provider: provider, cacheKey: key, rawReply: raw, result: result, latencyMs: elapsed(), usage: usage)
        } catch {
            let cut = timeout < provider.timeoutSeconds ? " (cut off by llm.step_timeout_seconds)" : ""
            return CallRecord(provider: provider, cacheKey: key, rawReply: nil, result: .failure(.transport("\(error)\(cut)")), latencyMs: elapsed(), usage: none)
        }
    }

    /// Audits every call and stores the opinion, in one transaction.
    func record(runID: Int64, context: PromptContext, now: Int64, calls: [CallRecord], outcome: ConsultationOutcome,
                opinion: ModelOpinion? = nil, skipped: [Skip] = []) async -> (ModelOpinion?, ConsultationOutcome) {
        let c = configuration
        let prompt = PromptBuilder.user(context)
        do {
            try await database.writeRecords { ledger in
                for call in calls {
                    var status = "valid", problem: String?, answer: ModelAnswer?
                    switch call.result {
                    case let .success(a): answer = a
                    case let .failure(why): status = "invalid"; problem = why.description
                    }
                    let cost = Self.cost(promptTokens: call.usage.promptTokens, completionTokens: call.usage.completionTokens, provider: call.provider)
                    try ledger.insertLLMCall(LLMCallRecord(
                        runID: runID, symbol: context.symbol, provider: call.provider.name, model: call.provider.model, cacheKey: call.cacheKey, time: now,
                        prompt: prompt, rawReply: call.rawReply, status: status, problem: problem,
                        action: answer?.action.rawValue, confidence: answer?.confidence, horizon: answer?.horizon, rationale: answer?.rationale, latencyMs: call.latencyMs,
                        promptTokens: call.usage.promptTokens, completionTokens: call.usage.completionTokens, cost: cost, fromCache: call.cachedFrom != nil,
                        cachedFrom: call.cachedFrom, baseURL: call.provider.baseURL, usageImplausible: call.usage.implausible))
                }
                try ledger.saveLLMOpinion(runID: runID, symbol: context.symbol, time: now, outcome: outcome.rawValue, action: opinion?.action.rawValue,
                                          confidence: opinion?.confidence, agreement: opinion?.agreement, technicalConfidence: context.technicalConfidence)
                if skipped.contains(.budget) {
                    try ledger.record(runID: RunID(rawValue: runID), time: now, kind: .llmBudgetExhausted, symbol: context.symbol,
                                      message: "LLM budget cannot cover another call (\(skipped.filter { $0 == .budget }.count) not sent): continuing without them")
                }
                if skipped.contains(.deadline) {
                    try ledger.record(runID: RunID(rawValue: runID), time: now, kind: .llmStepDeadline, symbol: context.symbol,
                                      message: "llm.step_timeout_seconds (\(c.stepTimeoutSeconds) s) passed (\(skipped.filter { $0 == .deadline }.count) calls not sent): continuing without them")
                }
            }
        } catch {
            return (opinion, outcome)
        }
        return (opinion, outcome)
    }

    /// The base URL without a trailing slash.
    static func normalizedBaseURL(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

    /// SHA-256 (hex) of everything that shapes the answer: the provider's name and base URL, the model, whether the
    /// schema is sent, `max_tokens`, and the whole prompt.
    public static func cacheKey(provider: LLMProvider, maxTokens: Int, system: String, user: String) -> String {
        let parts = ["tradejob-llm-cache-v2", provider.name, normalizedBaseURL(provider.baseURL), provider.model,
                     provider.structuredOutput ? "schema" : "plain", "\(maxTokens)", system, user]
        return SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// A first-in, first-out counting semaphore for async tasks.
actor Permits {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// The run's calls and the UTC day's tokens and money, loaded once from the audit trail and then kept in memory:
/// a call reserves its worst case before it is sent and is settled to its charged usage after, so that concurrent
/// consultations never spend past a budget.
actor SpendingLedger {
    struct Totals: Sendable {
        var calls = 0
        var tokens = 0
        var cost: Money = 0

        static func load(_ ledger: any StateRecords, runID: Int64, dayStart: Int64) throws -> Totals {
            let calls = try ledger.freshLLMCallCount(runID: runID)
            // Rows written before usage was validated may hold negative numbers: they count as nothing, never as a credit.
            let tokens = try ledger.llmTokens(from: dayStart, to: dayStart + 86_400_000)
            let cost = try ledger.llmCosts(from: dayStart, to: dayStart + 86_400_000)
                .filter { $0 > 0 }.total()
            return Totals(calls: calls, tokens: tokens.isFinite ? Int(min(tokens, 1e15)) : 0, cost: cost)
        }
    }

    private var loaded: (runID: Int64, dayStart: Int64)?
    /// Settled spending plus the reservations of the calls in flight.
    private var spent = Totals()
    private var inFlight = Totals()
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// True (and the worst case reserved) when the run's call budget and the day's budgets can cover it. A call that
    /// would fit once the calls in flight are settled waits for them; one that cannot fit even then is refused.
    func reserve(runID: Int64, dayStart: Int64, tokens: Int, cost: Money, configuration c: LLMConfiguration, load: @Sendable () throws -> Totals) async -> Bool {
        if loaded?.runID != runID || loaded?.dayStart != dayStart {
            guard let totals = try? load() else { return false }
            spent = totals
            loaded = (runID, dayStart)
        }
        while true {
            // Calls in flight count toward the run's cap whatever they are charged.
            guard spent.calls + inFlight.calls + 1 <= c.maxCallsPerRun else { return false }
            func fits(_ extra: Totals) -> Bool {
                let tokensFit = c.maxTokensPerDay <= 0 || spent.tokens + extra.tokens + tokens <= c.maxTokensPerDay
                guard c.maxCostPerDay > 0 else { return tokensFit }
                guard let total = try? spent.cost + extra.cost + cost else { return false }
                return tokensFit && total <= c.maxCostPerDay
            }
            if fits(inFlight) {
                inFlight.calls += 1
                inFlight.tokens += tokens
                inFlight.cost = (try? inFlight.cost + cost) ?? Money(raw: .max)
                return true
            }
            if !fits(Totals()) || inFlight.calls == 0 { return false }
            await withCheckedContinuation { waiting.append($0) }
        }
    }

    /// Replaces a reservation by what the call was charged (never more than the reservation), and wakes the waiters.
    func settle(reservedTokens: Int, reservedCost: Money, tokens: Int, cost: Money) {
        inFlight.calls -= 1
        inFlight.tokens -= reservedTokens
        inFlight.cost = (try? inFlight.cost - reservedCost) ?? 0
        spent.calls += 1
        spent.tokens += tokens
        spent.cost = (try? spent.cost + cost) ?? Money(raw: .max)
        let woken = waiting
        waiting = []
        for w in woken { w.resume() }
    }
}
