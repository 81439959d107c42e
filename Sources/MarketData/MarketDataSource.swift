import TradingDomain

/// Why candles could not be had from a source.
public struct MarketDataError: Error, CustomStringConvertible, Sendable {
    public let source: String
    public let symbol: Symbol
    public let message: String
    public init(source: String, symbol: Symbol, message: String) {
        self.source = source
        self.symbol = symbol
        self.message = message
    }
    public var description: String { "\(source) market data for \(symbol): \(message)" }
}

/// Where candles come from: the simulated market, CSV replay, or Binance's klines.
/// Every source returns only candles that are closed at `now`, oldest first.
public protocol MarketDataSource: Sendable {
    /// A short name for logs and errors (`simulated`, `csv`, `binance`).
    var name: String { get }

    /// Closed candles of `symbol` at `timeframe` whose open time is after `after` (all of the newest
    /// `limit` closed candles when `after` is nil), at most `limit` of them (the newest), oldest first.
    func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle]

    /// The price a market order sent at `now` would trade at before slippage (the paper broker fills at it).
    func currentPrice(symbol: Symbol, timeframe: Timeframe, now: Int64) async throws -> Double
}
