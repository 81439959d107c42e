import Foundation
import Binance
import HTTPTransport
import LLM
import Brokers
import Cycle
import MarketData
import Settings
import Storage

/// The market data source, broker and (optional) model consultant a configuration asks for.
struct Venues {
    var market: any MarketDataSource
    var broker: any Broker
    var consultant: (any OpinionConsultant)?

    static func make(config: ResolvedConfig, database: StateDatabase, environment: [String: String], live: Bool) throws -> Venues {
        try make(config: config, records: database, store: database.store, environment: environment, live: live)
    }

    /// On any state: `records` for the Binance client and the models, `store` for the paper broker.
    static func make(config: ResolvedConfig, records: any RecordStore, store: any StateStore, environment: [String: String], live: Bool) throws -> Venues {
        let market: any MarketDataSource
        // One Binance client per run, shared by the market data and the broker: one weight budget, one breaker.
        var binance: BinanceClient?
        func binanceClient() throws -> BinanceClient {
            if let binance { return binance }
            var credentials: BinanceCredentials?
            if live || BinanceCredentials.isConfigured(environment: environment) {
                do {
                    credentials = try BinanceCredentials.load(environment: environment)
                } catch {
                    throw UsageError(message: "Binance credentials: \(error)")
                }
            }
            let client = try BinanceClient(settings: binanceSettings(config), credentials: credentials,
                                           http: URLSessionHTTPClient(defaultTimeout: config.double("binance.request_timeout_seconds")),
                                           database: records)
            binance = client
            return client
        }
        switch config.string("market.source") {
        case "csv":
            market = CSVMarket.make(directory: config.string("market.csv_dir"))
        case "binance":
            market = BinanceMarketData(client: try binanceClient())
        default:
            market = SimulatedMarket()
        }
        let paper = PaperBroker(store: store, settings: PaperSettings(
            startingCash: config.decimal("paper.starting_cash"), quoteAsset: config.string("paper.quote_asset"),
            feeRate: config.decimal("paper.fee_rate"), slippageBasisPoints: config.decimal("paper.slippage_bps")))
        var consultant: (any OpinionConsultant)?
        if config.bool("llm.enabled") && !config.objects("llm.providers").isEmpty {
            let service = OpinionService(configuration: ModelConsultant.configuration(config), database: records,
                                         http: URLSessionHTTPClient(defaultTimeout: 120), environment: environment)
            consultant = ModelConsultant(service: service, timeframe: config.string("market.timeframe"))
        }
        if live {
            guard config.string("market.source") == "binance" else {
                throw UsageError(message: "mode \"live\" trades on Binance and needs market.source \"binance\" (got \"\(config.string("market.source"))\")")
            }
            return Venues(market: market, broker: BinanceBroker(client: try binanceClient()), consultant: consultant)
        }
        try paper.ensureFunded()
        return Venues(market: market, broker: paper, consultant: consultant)
    }
}

/// The `binance.*` keys as the client's settings.
func binanceSettings(_ config: ResolvedConfig) -> BinanceSettings {
    BinanceSettings(baseURL: config.string("binance.base_url"), recvWindowMs: config.int("binance.recv_window_ms"),
                    requestTimeoutSeconds: config.double("binance.request_timeout_seconds"),
                    maxWeightShare: config.double("binance.max_weight_share"),
                    exchangeInfoTTLSeconds: config.int("binance.exchange_info_ttl_seconds"),
                    breakerFailures: config.int("binance.breaker_failures"),
                    breakerCooldownSeconds: config.int("binance.breaker_cooldown_seconds"),
                    maxRetries: config.int("binance.max_retries"))
}
