import Foundation
import TechnicalAnalysis
import TradingDomain

/// Replays candles held in memory (a backtest's history, or parsed CSV files): only bars closed at `now`
/// (open time + timeframe ≤ now) are returned; the current price is the open of the bar that contains `now`,
/// else the last close before it.
public final class ReplayMarket: ImmediateMarketData, @unchecked Sendable {
    public let name: String
    private let lock = NSLock()
    private var bars: SymbolTable<[Candle]>
    private let loader: (@Sendable (Symbol) throws -> [Candle])?

    /// Candles per symbol, oldest first.
    public init(name: String = "replay", candles: [Symbol: [Candle]]) {
        self.name = name
        var table = SymbolTable<[Candle]>()
        for (symbol, series) in candles { table[symbol] = series }
        bars = table
        loader = nil
    }

    /// Candles loaded on first use by `loader` (and cached).
    init(name: String, loader: @escaping @Sendable (Symbol) throws -> [Candle]) {
        self.name = name
        bars = SymbolTable()
        self.loader = loader
    }

    func candles(_ symbol: Symbol) throws -> [Candle] {
        if let cached = lock.withLock({ bars[symbol] }) { return cached }
        guard let loader else { throw MarketDataError(source: name, symbol: symbol, message: "no candles for this symbol") }
        let loaded = try loader(symbol)
        lock.withLock { bars[symbol] = loaded }
        return loaded
    }

    /// Index of the first candle whose open time is ≥ `t` (candles oldest first): where even spacing puts it when the
    /// guess checks out, else a binary search.
    public static func lowerBound(_ candles: [Candle], _ t: Int64) -> Int { candles.lowerBound(of: t) { $0.openTime } }

    public func closedCandlesNow(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) throws -> [Candle] {
        let all = try candles(symbol)
        let end = Self.lowerBound(all, now - timeframe.milliseconds + 1)  // open time + tf ≤ now
        var start = max(0, end - limit)
        if let after { start = max(start, Self.lowerBound(all, after + 1)) }
        return start < end ? Array(all[start..<end]) : []
    }

    public func currentPriceNow(symbol: Symbol, timeframe: Timeframe, now: Int64) throws -> Double {
        guard let price = Self.currentPrice(try candles(symbol), timeframe: timeframe, now: now) else {
            throw MarketDataError(source: name, symbol: symbol, message: "no candle at or before \(now)")
        }
        return price
    }

    /// The price at `now` in `candles` (oldest first): the open of the bar that contains it, else the last close
    /// before it; nil before the first bar.
    public static func currentPrice(_ candles: [Candle], timeframe: Timeframe, now: Int64) -> Double? {
        let i = lowerBound(candles, now + 1) - 1  // the last bar opened at or before now
        guard i >= 0 else { return nil }
        return now < candles[i].openTime + timeframe.milliseconds ? candles[i].open : candles[i].close
    }
}

/// Replays scripted candles: one OHLCV CSV per symbol, `<directory>/<SYMBOL>.csv` (see `OHLCVCSV`). A row's time is
/// the bar's open time; the file's rows are taken as bars of the requested timeframe (gaps allowed). Parsed files
/// are cached per instance; replay semantics are `ReplayMarket`'s.
public enum CSVMarket {
    public static func make(directory: String) -> ReplayMarket {
        ReplayMarket(name: "csv") { symbol in try load(path: directory + "/" + symbol.rawValue + ".csv", symbol: symbol) }
    }

    /// Reads one OHLCV CSV file as candles, streamed a block at a time (the file is never held whole); errors name
    /// the file and the line. A file of the plain shape is read straight from its bytes, a large one in chunks on
    /// several threads (`PlainOHLCVFile`, the same candles).
    public static func load(path: String, symbol: Symbol) throws -> [Candle] {
        if let plain = PlainOHLCVFile.candles(path: path) { return plain }
        var result: [Candle] = []
        do {
            try OHLCVCSV.read(path: path, expectedRows: { result.reserveCapacity($0) }) { row in
                result.append(Candle(openTime: row.time, open: row.open, high: row.high, low: row.low, close: row.close, volume: row.volume))
            }
        } catch let error as OHLCVFileUnreadable {
            throw MarketDataError(source: "csv", symbol: symbol, message: "\(error)")
        } catch {
            throw MarketDataError(source: "csv", symbol: symbol, message: "\(path): \(error)")
        }
        return result
    }
}
