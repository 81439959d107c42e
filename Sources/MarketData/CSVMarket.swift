import Foundation
import TechnicalAnalysis
import TradingDomain

/// Replays scripted candles: one OHLCV CSV per symbol, `<directory>/<SYMBOL>.csv` (see `OHLCVCSV`). A row's time is
/// the bar's open time; the file's bars are taken as bars of the requested timeframe (one row per bar; gaps allowed).
/// Only bars closed at `now` (open time + timeframe ≤ now) are returned; the current price is the open of the bar
/// that contains `now`, else the last close before it. Parsed files are cached per instance.
public final class CSVMarket: MarketDataSource, @unchecked Sendable {
    public let name = "csv"
    public let directory: String
    private let lock = NSLock()
    private var cache: [String: [Candle]] = [:]

    public init(directory: String) { self.directory = directory }

    func candles(_ symbol: String) throws -> [Candle] {
        if let cached = lock.withLock({ cache[symbol] }) { return cached }
        let path = directory + "/" + symbol + ".csv"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MarketDataError(source: name, symbol: symbol, message: "\(path) does not exist or cannot be read")
        }
        let series: OHLCVSeries
        do {
            series = try OHLCVCSV.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw MarketDataError(source: name, symbol: symbol, message: "\(path): \(error)")
        }
        var result: [Candle] = []
        result.reserveCapacity(series.count)
        for i in 0..<series.count {
            result.append(Candle(openTime: series.time[i], open: series.open[i], high: series.high[i], low: series.low[i],
                                 close: series.close[i], volume: series.volume[i]))
        }
        lock.withLock { cache[symbol] = result }
        return result
    }

    /// Index of the first candle whose open time is ≥ `t`.
    static func lowerBound(_ candles: [Candle], _ t: Int64) -> Int {
        var lo = 0, hi = candles.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if candles[mid].openTime < t { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    public func closedCandles(symbol: String, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle] {
        let all = try candles(symbol)
        let end = Self.lowerBound(all, now - timeframe.milliseconds + 1)  // open time + tf ≤ now
        var start = max(0, end - limit)
        if let after { start = max(start, Self.lowerBound(all, after + 1)) }
        return start < end ? Array(all[start..<end]) : []
    }

    public func currentPrice(symbol: String, timeframe: Timeframe, now: Int64) async throws -> Double {
        let all = try candles(symbol)
        let i = Self.lowerBound(all, now + 1) - 1  // last bar opened at or before now
        guard i >= 0 else { throw MarketDataError(source: name, symbol: symbol, message: "no candle at or before \(now)") }
        if now < all[i].openTime + timeframe.milliseconds { return all[i].open }
        return all[i].close
    }
}
