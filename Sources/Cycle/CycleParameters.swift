import Foundation
import Settings
import Strategy
import TradingDomain

/// Everything the cycle needs from the configuration, as typed values.
public struct CycleParameters: Sendable {
    /// The signal logic: `.scoring` (the documented one) or `.smaCross(fast:slow:quantity:)` (the reference crossover).
    public var strategy: any TradingStrategy = .scoring
    public var symbols: [Symbol]
    public var timeframe: Timeframe
    public var lookback: Int
    public var maxConcurrentAnalyses: Int
    public var analysis: AnalysisParameters
    public var minConfidence: Double
    public var weights: ScoringWeights
    public var limits: RiskLimits
    public var exits: ExitRules
    public var protections: ProtectionRules
    public var safeModeCooldownMs: Int64
    public var safeModeAutoResume: Bool
    public var schedule: SchedulePolicy
    public var volatilityWindow: Int
    public var quoteAsset: String
    public var llmEnabled: Bool
    public var llmConsultBand: Double
    public var llmVetoConfidence: Double

    public init(config c: ResolvedConfig) throws {
        guard let timeframe = Timeframe(c.string("market.timeframe")) else {
            throw ConfigError(file: c.file, problems: ["market.timeframe: got \(c.string("market.timeframe")), expected a supported timeframe"])
        }
        symbols = c.strings("market.symbols").map(Symbol.init(rawValue:))  // checked by the loader
        self.timeframe = timeframe
        lookback = c.int("market.lookback")
        maxConcurrentAnalyses = c.int("analysis.max_concurrent_analyses")
        analysis = AnalysisParameters(emaFast: c.int("analysis.ema_fast"), emaSlow: c.int("analysis.ema_slow"), rsiPeriod: c.int("analysis.rsi_period"),
                                      atrPeriod: c.int("analysis.atr_period"), bollingerPeriod: c.int("analysis.bollinger_period"),
                                      bollingerK: c.double("analysis.bollinger_k"), adxPeriod: c.int("analysis.adx_period"),
                                      pivotWindow: c.int("analysis.pivot_window"), volatilityWindow: c.int("volatility.window"),
                                      barsPerYear: timeframe.barsPerYear)
        minConfidence = c.double("strategy.min_confidence")
        weights = ScoringWeights(trend: c.double("strategy.weights.trend"), momentum: c.double("strategy.weights.momentum"),
                                 rsi: c.double("strategy.weights.rsi"), bollinger: c.double("strategy.weights.bollinger"),
                                 patterns: c.double("strategy.weights.patterns"), structure: c.double("strategy.weights.structure"),
                                 llm: c.double("strategy.weights.llm"))
        let costRate = RiskLimits.costRate(feeRate: c.decimal("paper.fee_rate"), slippageBasisPoints: c.decimal("paper.slippage_bps"))
        limits = RiskLimits(riskPerTrade: c.double("risk.risk_per_trade"), maxPositionFraction: c.double("risk.max_position_fraction"),
                            maxTotalExposure: c.double("risk.max_total_exposure"), maxOpenPositions: c.int("risk.max_open_positions"),
                            minOrderNotional: c.decimal("risk.min_order_notional"), stopLossATR: c.double("risk.stop_loss_atr"),
                            costRate: costRate)
        exits = ExitRules(stopLossATR: c.double("risk.stop_loss_atr"), takeProfitATR: c.double("risk.take_profit_atr"),
                          trailingStop: c.bool("risk.trailing_stop"), trailingActivationATR: c.double("risk.trailing_activation_atr"),
                          trailingDistanceATR: c.double("risk.trailing_distance_atr"),
                          maxHoldingMilliseconds: Int64(c.double("risk.max_holding_hours") * 3_600_000),
                          exitConfidence: c.double("strategy.exit_confidence"), maxAdjustments: c.int("risk.max_adjustments"),
                          addTriggerATR: c.double("risk.add_trigger_atr"), addFraction: c.double("risk.add_fraction"),
                          partialTakeProfitATR: c.double("risk.partial_take_profit_atr"),
                          partialTakeProfitFraction: c.double("risk.partial_take_profit_fraction"),
                          stopBasis: ExitRules.StopBasis(rawValue: c.string("risk.stop_basis")) ?? .initialEntry)
        func rule(_ name: ProtectionName, threshold: Double, lookbackMinutes: Int = 0, blockMinutes: Int? = nil) -> ProtectionRule {
            ProtectionRule(enabled: c.bool("protections.\(name.rawValue).enabled"), threshold: threshold,
                           action: ProtectionAction(rawValue: c.string("protections.\(name.rawValue).action")) ?? .safeMode,
                           blockMilliseconds: Int64(blockMinutes ?? c.int("protections.\(name.rawValue).block_minutes")) * 60_000,
                           lookbackMilliseconds: Int64(lookbackMinutes) * 60_000)
        }
        protections = ProtectionRules(
            maxDrawdown: rule(.maxDrawdown, threshold: c.double("protections.max_drawdown.fraction")),
            dailyLoss: rule(.dailyLoss, threshold: c.double("protections.daily_loss.fraction"), blockMinutes: 0),
            losingStreak: rule(.losingStreak, threshold: Double(c.int("protections.losing_streak.count")),
                               lookbackMinutes: c.int("protections.losing_streak.lookback_minutes")),
            errorRate: rule(.errorRate, threshold: Double(c.int("protections.error_rate.consecutive_failures"))),
            symbolCooldownMilliseconds: c.bool("protections.symbol_cooldown.enabled") ? Int64(c.int("protections.symbol_cooldown.minutes")) * 60_000 : 0)
        safeModeCooldownMs = Int64(c.int("safe_mode.cooldown_minutes")) * 60_000
        safeModeAutoResume = c.bool("safe_mode.auto_resume")
        schedule = SchedulePolicy(volatilityLow: c.double("volatility.low"), volatilityHigh: c.double("volatility.high"),
                                  fastSeconds: Int64(c.int("schedule.fast_minutes")) * 60, normalSeconds: Int64(c.int("schedule.normal_minutes")) * 60,
                                  slowSeconds: Int64(c.int("schedule.slow_minutes")) * 60, offsetSeconds: Int64(c.int("schedule.offset_seconds")))
        volatilityWindow = c.int("volatility.window")
        quoteAsset = c.string("paper.quote_asset")
        llmEnabled = c.bool("llm.enabled")
        llmConsultBand = c.double("llm.consult_band")
        llmVetoConfidence = c.double("llm.veto_confidence")
    }

    /// The settings the strategy reads, as they are now.
    func strategySettings(detailed: Bool) -> StrategySettings {
        StrategySettings(analysis: analysis, weights: weights, volatilityWindow: volatilityWindow, barsPerYear: timeframe.barsPerYear,
                         detailed: detailed)
    }
}
