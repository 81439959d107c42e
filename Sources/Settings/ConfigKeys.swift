import Foundation
import TradingDomain

/// Every configuration key tradejob knows, with its default and a one-line description. This table is the
/// single source of truth: validation, environment overrides, `config template` and `config show` all read it.
public enum ConfigKeys {
    static let defaultSymbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT"]

    public static let all: [ConfigKey] = [
        ConfigKey("mode", .string(allowed: ["paper", "live"]), .string("paper"),
                  "paper: simulated fills in the paper broker; live: real orders (also needs --live or TRADEJOB_LIVE=1)"),

        // market
        ConfigKey("market.source", .string(allowed: ["simulated", "csv", "binance"]), .string("simulated"),
                  "where candles come from: the built-in deterministic simulated market, CSV files, or Binance klines"),
        ConfigKey("market.symbols", .stringList(minCount: 1), .stringList(defaultSymbols), "symbols to trade (quote asset USDT)"),
        ConfigKey("market.timeframe", .string(allowed: ["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d"]),
                  .string("15m"), "trading timeframe (candle length)"),
        ConfigKey("market.lookback", .int(min: 60, max: 5000), .int(500), "closed candles analysed per symbol (and backfilled on the first run)"),
        ConfigKey("market.csv_dir", .string(allowed: nil), .string("data"), "with source csv: directory holding <SYMBOL>.csv files (relative to the working directory)"),

        // analysis
        ConfigKey("analysis.max_concurrent_analyses", .int(min: 1, max: 64), .int(4), "symbols analysed at the same time"),
        ConfigKey("analysis.ema_fast", .int(min: 2, max: 500), .int(20), "fast EMA period (trend component)"),
        ConfigKey("analysis.ema_slow", .int(min: 3, max: 1000), .int(50), "slow EMA period (trend component)"),
        ConfigKey("analysis.rsi_period", .int(min: 2, max: 200), .int(14), "RSI period (Wilder)"),
        ConfigKey("analysis.atr_period", .int(min: 2, max: 200), .int(14), "ATR period (Wilder), used for stops and sizing"),
        ConfigKey("analysis.bollinger_period", .int(min: 2, max: 500), .int(20), "Bollinger Bands period"),
        ConfigKey("analysis.bollinger_k", .double(min: 0.1, max: 10), .double(2.0), "Bollinger Bands width in population standard deviations"),
        ConfigKey("analysis.adx_period", .int(min: 2, max: 200), .int(14), "ADX period (trend regime)"),
        ConfigKey("analysis.pivot_window", .int(min: 1, max: 50), .int(3), "bars left and right of a swing high/low"),

        // strategy
        ConfigKey("strategy.min_confidence", .double(min: 0, max: 1), .double(0.6), "an entry needs a signal confidence above this"),
        ConfigKey("strategy.exit_confidence", .double(min: 0, max: 1), .double(0.5), "a flat signal with at least this confidence exits an open position (signal reversed)"),
        ConfigKey("strategy.weights.trend", .double(min: 0, max: 10), .double(0.35), "score weight: EMA fast vs slow, scaled by ATR"),
        ConfigKey("strategy.weights.momentum", .double(min: 0, max: 10), .double(0.25), "score weight: MACD histogram, scaled by ATR"),
        ConfigKey("strategy.weights.rsi", .double(min: 0, max: 10), .double(0.15), "score weight: RSI distance from 50"),
        ConfigKey("strategy.weights.bollinger", .double(min: 0, max: 10), .double(0.10), "score weight: position of the close within the Bollinger Bands (mean reversion)"),
        ConfigKey("strategy.weights.patterns", .double(min: 0, max: 10), .double(0.10), "score weight: candlestick patterns on the last candle (sum of TA-Lib values / 100)"),
        ConfigKey("strategy.weights.structure", .double(min: 0, max: 10), .double(0.15), "score weight: breakouts through support/resistance and the trend regime"),
        ConfigKey("strategy.weights.llm", .double(min: 0, max: 10), .double(0.20), "score weight of the language models' opinion (when llm.enabled)"),

        // risk
        ConfigKey("risk.risk_per_trade", .double(min: 0.0001, max: 0.5), .double(0.01), "fraction of equity lost if the initial stop is hit (sizes the position)"),
        ConfigKey("risk.max_position_fraction", .double(min: 0.001, max: 1), .double(0.2), "largest position as a fraction of equity"),
        ConfigKey("risk.max_total_exposure", .double(min: 0.001, max: 1), .double(0.8), "all positions together as a fraction of equity"),
        ConfigKey("risk.max_open_positions", .int(min: 1, max: 100), .int(4), "open positions at most"),
        ConfigKey("risk.min_order_notional", .decimal(min: 0, max: 1_000_000), .decimal(10), "orders below this quote amount are not sent"),
        ConfigKey("risk.stop_loss_atr", .double(min: 0.1, max: 50), .double(2.0), "stop loss distance below the basis price, in ATRs"),
        ConfigKey("risk.take_profit_atr", .double(min: 0.1, max: 100), .double(4.0), "take profit distance above the basis price, in ATRs"),
        ConfigKey("risk.trailing_stop", .bool, .bool(true), "trail a stop below the highest price once activated"),
        ConfigKey("risk.trailing_activation_atr", .double(min: 0, max: 100), .double(1.5), "the trailing stop activates once the price rose this many ATRs above the basis"),
        ConfigKey("risk.trailing_distance_atr", .double(min: 0.1, max: 50), .double(1.5), "trailing stop distance below the highest price, in ATRs"),
        ConfigKey("risk.max_holding_hours", .double(min: 0, max: 100_000), .double(0), "exit a position held this long (0 = no limit)"),
        ConfigKey("risk.max_adjustments", .int(min: 0, max: 3), .int(3), "adjustments (adds and partial take-profits) per position, at most 3"),
        ConfigKey("risk.add_trigger_atr", .double(min: 0.1, max: 50), .double(1.0), "add to a position when the price is this many ATRs above the last entry and the signal is still long above min_confidence"),
        ConfigKey("risk.add_fraction", .double(min: 0.01, max: 1), .double(0.5), "size of an add as a fraction of the current quantity (still capped by the limits)"),
        ConfigKey("risk.partial_take_profit_atr", .double(min: 0, max: 100), .double(2.5), "sell part of the position once the price is this many ATRs above the basis (0 = off)"),
        ConfigKey("risk.partial_take_profit_fraction", .double(min: 0.01, max: 0.99), .double(0.5), "fraction of the quantity sold at the partial take-profit"),
        ConfigKey("risk.stop_basis", .string(allowed: ["initial_entry", "average_price"]), .string("initial_entry"), "price that stops and targets are measured from after an adjustment"),

        // paper broker
        ConfigKey("paper.starting_cash", .decimal(min: 0, max: 1_000_000_000), .decimal(10000), "paper wallet's starting cash in the quote asset"),
        ConfigKey("paper.quote_asset", .string(allowed: nil), .string("USDT"), "quote asset of every symbol"),
        ConfigKey("paper.fee_rate", .decimal(min: 0, max: Fixed(raw: 10_000_000) /* 0.1 */), .decimal(Fixed(raw: 100_000) /* 0.001 */), "fee as a fraction of notional, charged in the quote asset"),
        ConfigKey("paper.slippage_bps", .decimal(min: 0, max: 1000), .decimal(5), "market orders fill this many basis points worse than the current price"),

        // protections
        ConfigKey("protections.max_drawdown.enabled", .bool, .bool(true), "protect against a drawdown of equity from its persisted peak"),
        ConfigKey("protections.max_drawdown.fraction", .double(min: 0.001, max: 1), .double(0.15), "drawdown from the peak that trips the protection"),
        ConfigKey("protections.max_drawdown.action", .string(allowed: ["block_entries", "safe_mode"]), .string("safe_mode"), "what a trip does"),
        ConfigKey("protections.max_drawdown.block_minutes", .int(min: 1, max: 100_000), .int(240), "with block_entries: how long new entries are blocked"),
        ConfigKey("protections.daily_loss.enabled", .bool, .bool(true), "protect against a loss within one UTC day"),
        ConfigKey("protections.daily_loss.fraction", .double(min: 0.001, max: 1), .double(0.05), "loss since the UTC day's first equity, as a fraction of it"),
        ConfigKey("protections.daily_loss.action", .string(allowed: ["block_entries", "safe_mode"]), .string("block_entries"), "what a trip does (block_entries lasts until the next UTC midnight)"),
        ConfigKey("protections.losing_streak.enabled", .bool, .bool(true), "protect against repeated stop-loss exits"),
        ConfigKey("protections.losing_streak.count", .int(min: 1, max: 100), .int(3), "stop-loss exits within the lookback that trip it"),
        ConfigKey("protections.losing_streak.lookback_minutes", .int(min: 1, max: 100_000), .int(1440), "window counted"),
        ConfigKey("protections.losing_streak.action", .string(allowed: ["block_entries", "safe_mode"]), .string("block_entries"), "what a trip does"),
        ConfigKey("protections.losing_streak.block_minutes", .int(min: 1, max: 100_000), .int(240), "with block_entries: how long"),
        ConfigKey("protections.symbol_cooldown.enabled", .bool, .bool(true), "no new entry in a symbol for a while after an exit"),
        ConfigKey("protections.symbol_cooldown.minutes", .int(min: 1, max: 100_000), .int(60), "cooldown after an exit"),
        ConfigKey("protections.error_rate.enabled", .bool, .bool(true), "protect against a job or a source that keeps failing"),
        ConfigKey("protections.error_rate.consecutive_failures", .int(min: 1, max: 1000), .int(3), "consecutive failed cycles (or source failures) that trip it"),
        ConfigKey("protections.error_rate.action", .string(allowed: ["block_entries", "safe_mode"]), .string("safe_mode"), "what a trip does"),
        ConfigKey("protections.error_rate.block_minutes", .int(min: 1, max: 100_000), .int(60), "with block_entries: how long"),

        // safe mode
        ConfigKey("safe_mode.cooldown_minutes", .int(min: 1, max: 1_000_000), .int(240), "how long safe mode holds after it is entered"),
        ConfigKey("safe_mode.auto_resume", .bool, .bool(true), "leave safe mode by itself when the cooldown ends (false: stay until `tradejob safe-mode clear`)"),

        // volatility and schedule
        ConfigKey("volatility.window", .int(min: 5, max: 1000), .int(20), "log returns in the realised volatility window"),
        ConfigKey("volatility.high", .double(min: 0, max: 100), .double(0.8), "market volatility (median annualised realised volatility) above which runs are FAST"),
        ConfigKey("volatility.low", .double(min: 0, max: 100), .double(0.3), "market volatility below which runs are SLOW"),
        ConfigKey("schedule.fast_minutes", .int(min: 1, max: 10_080), .int(15), "FAST interval"),
        ConfigKey("schedule.normal_minutes", .int(min: 1, max: 10_080), .int(30), "NORMAL interval"),
        ConfigKey("schedule.slow_minutes", .int(min: 1, max: 10_080), .int(240), "SLOW interval"),
        ConfigKey("schedule.offset_seconds", .int(min: 0, max: 3600), .int(15), "next run is aligned to a candle close plus this offset"),
        ConfigKey("schedule.grace_seconds", .int(min: 0, max: 3600), .int(60), "--if-due runs when now >= next run minus this grace"),

        // state
        ConfigKey("state.url", .string(allowed: nil), .string(""),
                  "empty: the SQLite file in --state-dir; postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full]: PostgreSQL (password from TRADEJOB_STATE_PASSWORD_FILE or TRADEJOB_STATE_PASSWORD)",
                  secret: true),
        ConfigKey("state.account", .string(allowed: nil), .string("default"),
                  "with a PostgreSQL state: this job's account (schema tradejob_<account>; its own lock, schedule, safe mode and metrics label)"),

        // metrics
        ConfigKey("metrics.directory", .string(allowed: nil), .string(""), "where tradejob.prom is written (empty: <state>/metrics)"),
        ConfigKey("metrics.pushgateway_url", .string(allowed: nil), .string(""), "also push the metrics to this Pushgateway (empty: off)"),

        // notifications
        ConfigKey("notifications.webhook_url", .string(allowed: nil), .string(""), "POST a JSON notification here (empty: off)", secret: true),
        ConfigKey("notifications.telegram_bot_token_env", .string(allowed: nil), .string(""), "environment variable holding the Telegram bot token (empty: Telegram off)"),
        ConfigKey("notifications.telegram_chat_id", .string(allowed: nil), .string(""), "Telegram chat to notify"),
        ConfigKey("notifications.telegram_api_base", .string(allowed: nil), .string("https://api.telegram.org"), "Telegram Bot API base URL"),
        ConfigKey("notifications.timeout_seconds", .double(min: 0.1, max: 60), .double(5), "per attempt"),
        ConfigKey("notifications.max_attempts", .int(min: 1, max: 10), .int(3), "attempts per notification per run"),

        // binance
        ConfigKey("binance.base_url", .string(allowed: nil), .string("https://api.binance.com"), "Binance Spot REST base URL (the Spot testnet works by changing it)"),
        ConfigKey("binance.recv_window_ms", .int(min: 1, max: 60_000), .int(5000), "recvWindow of signed requests"),
        ConfigKey("binance.request_timeout_seconds", .double(min: 0.1, max: 120), .double(10), "deadline of one request"),
        ConfigKey("binance.max_weight_share", .double(min: 0.05, max: 1), .double(0.8), "keep the used request weight below this share of the limit"),
        ConfigKey("binance.exchange_info_ttl_seconds", .int(min: 60, max: 604_800), .int(86_400), "how long cached exchange filters are trusted"),
        ConfigKey("binance.breaker_failures", .int(min: 1, max: 100), .int(5), "consecutive failures that open the venue's circuit breaker"),
        ConfigKey("binance.breaker_cooldown_seconds", .int(min: 1, max: 86_400), .int(300), "how long the breaker stays open before a trial request"),
        ConfigKey("binance.max_retries", .int(min: 0, max: 10), .int(3), "retries (exponential backoff with jitter) of requests that are safe to repeat"),

        // llm
        ConfigKey("llm.enabled", .bool, .bool(false), "ask language models for an opinion before a signal is final"),
        ConfigKey("llm.providers", .objectList([
            ConfigKey("name", .string(allowed: nil), .string(""), "provider name (unique)"),
            ConfigKey("base_url", .string(allowed: nil), .string(""), "OpenAI-compatible base URL (POST {base_url}/v1/chat/completions)"),
            ConfigKey("model", .string(allowed: nil), .string(""), "model name"),
            ConfigKey("api_key_env", .string(allowed: nil), .string(""), "environment variable holding the API key (empty: no key)"),
            ConfigKey("timeout_seconds", .double(min: 0.1, max: 300), .double(20), "deadline of one request"),
            ConfigKey("weight", .double(min: 0, max: 100), .double(1), "weight of this model's answer"),
            ConfigKey("price_per_1k_input", .decimal(min: 0, max: 1000), .decimal(0), "price per 1,000 prompt tokens"),
            ConfigKey("price_per_1k_output", .decimal(min: 0, max: 1000), .decimal(0), "price per 1,000 completion tokens"),
            ConfigKey("structured_output", .bool, .bool(true), "send response_format json_schema (false: plain JSON instructions)"),
        ]), .objectList([]), "models to ask"),
        ConfigKey("llm.max_concurrent", .int(min: 1, max: 32), .int(4), "requests in flight at once, over all symbols and providers"),
        ConfigKey("llm.step_timeout_seconds", .double(min: 0.1, max: 600), .double(20), "deadline of the whole LLM step of a run; then the cycle goes on without the models"),
        ConfigKey("llm.max_tokens_per_answer", .int(min: 16, max: 100_000), .int(300), "max_tokens sent with each request; also the most completion tokens an answer is charged"),
        ConfigKey("llm.min_valid_answers", .int(min: 1, max: 32), .int(1), "fewer valid answers give no opinion"),
        ConfigKey("llm.consult_band", .double(min: 0, max: 1), .double(0.15), "only symbols whose technical confidence is within this distance of min_confidence are sent"),
        ConfigKey("llm.veto_confidence", .double(min: 0, max: 1), .double(0.7), "a sell opinion at or above this confidence vetoes an entry"),
        ConfigKey("llm.max_calls_per_run", .int(min: 0, max: 10_000), .int(20), "model calls per run at most"),
        ConfigKey("llm.max_tokens_per_day", .int(min: 0, max: 1_000_000_000), .int(200_000), "tokens per UTC day at most (0 = no limit)"),
        ConfigKey("llm.max_cost_per_day", .decimal(min: 0, max: 1_000_000), .decimal(5), "money per UTC day at most, from the reported usage (0 = no limit)"),
        ConfigKey("llm.cache_ttl_seconds", .int(min: 0, max: 604_800), .int(3600), "an answer younger than this (from when the model gave it) answers the same question to the same provider again"),
        ConfigKey("llm.breaker_failures", .int(min: 1, max: 100), .int(3), "consecutive failed calls (no reply, HTTP error or an invalid answer) that open a provider's breaker"),
        ConfigKey("llm.breaker_cooldown_seconds", .int(min: 1, max: 86_400), .int(900), "how long a provider is skipped after its breaker opens"),
    ]

    /// Keys by path.
    public static let byPath: [String: ConfigKey] = Dictionary(all.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
    /// Whether `path` names a section: some key's path starts with `path` and a dot ("risk", "exits.trailing", …).
    /// Compared byte for byte (the paths are ASCII): a set of the sections built at start-up cost more than the scans.
    static func isSection(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { wanted in
            all.contains { key in
                var keyPath = key.path
                return keyPath.withUTF8 { bytes in
                    bytes.count > wanted.count && bytes[wanted.count] == UInt8(ascii: ".") && bytes.starts(with: wanted)
                }
            }
        }
    }
}
