import Foundation
import TradingDomain

/// One OpenAI-compatible chat-completions endpoint (`POST {baseURL}/v1/chat/completions`).
public struct LLMProvider: Sendable, Equatable {
    public var name: String
    public var baseURL: String
    public var model: String
    /// The environment variable holding the API key (never the key itself); empty: no key.
    public var apiKeyEnvironment: String
    public var timeoutSeconds: Double
    public var weight: Double
    public var pricePer1kInput: Money
    public var pricePer1kOutput: Money
    /// Send `response_format: json_schema` (false: plain JSON instructions, for servers without schema support).
    public var structuredOutput: Bool

    public init(name: String, baseURL: String, model: String, apiKeyEnvironment: String = "", timeoutSeconds: Double = 20, weight: Double = 1,
                pricePer1kInput: Money = 0, pricePer1kOutput: Money = 0, structuredOutput: Bool = true) {
        self.name = name
        self.baseURL = baseURL
        self.model = model
        self.apiKeyEnvironment = apiKeyEnvironment
        self.timeoutSeconds = timeoutSeconds
        self.weight = weight
        self.pricePer1kInput = pricePer1kInput
        self.pricePer1kOutput = pricePer1kOutput
        self.structuredOutput = structuredOutput
    }
}

/// The `llm.*` settings.
public struct LLMConfiguration: Sendable, Equatable {
    public var providers: [LLMProvider]
    public var maxConcurrent: Int
    public var minValidAnswers: Int
    public var maxCallsPerRun: Int
    /// 0 = no limit.
    public var maxTokensPerDay: Int
    /// 0 = no limit.
    public var maxCostPerDay: Money
    public var cacheTTLSeconds: Int
    public var breakerFailures: Int
    public var breakerCooldownSeconds: Int
    /// `max_tokens` sent with every request: the most completion tokens one answer may use (and be charged).
    public var maxTokensPerAnswer: Int
    /// The whole LLM step's deadline, from its first consultation in the run: after it no call is started, calls in
    /// flight are cut off, and the cycle goes on without the models.
    public var stepTimeoutSeconds: Double

    public init(providers: [LLMProvider], maxConcurrent: Int = 4, minValidAnswers: Int = 1, maxCallsPerRun: Int = 20, maxTokensPerDay: Int = 200_000,
                maxCostPerDay: Money = 5, cacheTTLSeconds: Int = 3600, breakerFailures: Int = 3, breakerCooldownSeconds: Int = 900,
                maxTokensPerAnswer: Int = 300, stepTimeoutSeconds: Double = 20) {
        self.providers = providers
        self.maxConcurrent = maxConcurrent
        self.minValidAnswers = minValidAnswers
        self.maxCallsPerRun = maxCallsPerRun
        self.maxTokensPerDay = maxTokensPerDay
        self.maxCostPerDay = maxCostPerDay
        self.cacheTTLSeconds = cacheTTLSeconds
        self.breakerFailures = breakerFailures
        self.breakerCooldownSeconds = breakerCooldownSeconds
        self.maxTokensPerAnswer = maxTokensPerAnswer
        self.stepTimeoutSeconds = stepTimeoutSeconds
    }
}
