import Foundation
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
        let market: any MarketDataSource
        switch config.string("market.source") {
        case "csv":
            market = CSVMarket.make(directory: config.string("market.csv_dir"))
        case "binance":
            throw UsageError(message: "market.source \"binance\" is not available in this build")
        default:
            market = SimulatedMarket()
        }
        let paper = PaperBroker(database: database.writer, settings: PaperSettings(
            startingCash: config.decimal("paper.starting_cash"), quoteAsset: config.string("paper.quote_asset"),
            feeRate: config.decimal("paper.fee_rate"), slippageBasisPoints: config.decimal("paper.slippage_bps")))
        if live {
            throw UsageError(message: "live trading is not available in this build")
        }
        try paper.ensureFunded()
        var consultant: (any OpinionConsultant)?
        if config.bool("llm.enabled") && !config.objects("llm.providers").isEmpty {
            let service = OpinionService(configuration: ModelConsultant.configuration(config), database: database.writer,
                                         http: URLSessionHTTPClient(defaultTimeout: 120), environment: environment)
            consultant = ModelConsultant(service: service, timeframe: config.string("market.timeframe"))
        }
        return Venues(market: market, broker: paper, consultant: consultant)
    }
}
