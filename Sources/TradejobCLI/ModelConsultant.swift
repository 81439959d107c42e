import Foundation
import Cycle
import LLM
import Settings
import Strategy
import TradingDomain

/// Connects the cycle's opinion slot to the LLM module.
struct ModelConsultant: OpinionConsultant {
    let service: OpinionService
    let timeframe: String

    func opinion(runID: RunID, symbol: Symbol, candles: [Candle], snapshot: MarketSnapshot, technical: Signal, now: Int64) async -> ModelOpinion? {
        let context = PromptContext(symbol: symbol, timeframe: timeframe, asOf: snapshot.candleTime, candles: candles, indicators: snapshot.indicators,
                                    technicalDirection: technical.direction.rawValue, technicalConfidence: technical.confidence)
        return await service.consult(runID: runID.rawValue, context: context, now: now).0
    }

    /// `llm.*` as the LLM module's configuration.
    static func configuration(_ c: ResolvedConfig) -> LLMConfiguration {
        let providers = c.objects("llm.providers").map { o -> LLMProvider in
            func string(_ k: String) -> String { if case let .string(s)? = o[k] { return s }; return "" }
            func double(_ k: String, _ d: Double) -> Double { if case let .double(v)? = o[k] { return v }; return d }
            func decimal(_ k: String) -> Money { if case let .decimal(v)? = o[k] { return v.reinterpreted(as: Money.self) }; return 0 }
            var structured = true
            if case let .bool(b)? = o["structured_output"] { structured = b }
            return LLMProvider(name: string("name"), baseURL: string("base_url"), model: string("model"), apiKeyEnvironment: string("api_key_env"),
                               timeoutSeconds: double("timeout_seconds", 20), weight: double("weight", 1), pricePer1kInput: decimal("price_per_1k_input"),
                               pricePer1kOutput: decimal("price_per_1k_output"), structuredOutput: structured)
        }
        return LLMConfiguration(providers: providers, maxConcurrent: c.int("llm.max_concurrent"), minValidAnswers: c.int("llm.min_valid_answers"),
                                maxCallsPerRun: c.int("llm.max_calls_per_run"), maxTokensPerDay: c.int("llm.max_tokens_per_day"),
                                maxCostPerDay: c.decimal("llm.max_cost_per_day"), cacheTTLSeconds: c.int("llm.cache_ttl_seconds"),
                                breakerFailures: c.int("llm.breaker_failures"), breakerCooldownSeconds: c.int("llm.breaker_cooldown_seconds"),
                                maxTokensPerAnswer: c.int("llm.max_tokens_per_answer"), stepTimeoutSeconds: c.double("llm.step_timeout_seconds"))
    }
}
