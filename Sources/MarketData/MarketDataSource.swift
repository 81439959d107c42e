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

    /// The same source when it answers from memory without waiting (the replayed and the simulated markets), else nil.
    var immediate: (any ImmediateMarketData)? { get }
}

extension MarketDataSource {
    public var immediate: (any ImmediateMarketData)? { nil }
}

/// A source that answers at once, from memory or by computing: the cycle calls it through these synchronous twins of
/// `closedCandles` and `currentPrice` (the same answers), which skip what an async call costs (an async frame and two
/// executor hops) on the backtest's per-cycle path.
public protocol ImmediateMarketData: MarketDataSource {
    func closedCandlesNow(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) throws -> [Candle]
    func currentPriceNow(symbol: Symbol, timeframe: Timeframe, now: Int64) throws -> Double
}

extension ImmediateMarketData {
    public var immediate: (any ImmediateMarketData)? { self }
    public func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle] {
        try closedCandlesNow(symbol: symbol, timeframe: timeframe, after: after, limit: limit, now: now)
    }
    public func currentPrice(symbol: Symbol, timeframe: Timeframe, now: Int64) async throws -> Double {
        try currentPriceNow(symbol: symbol, timeframe: timeframe, now: now)
    }
}
