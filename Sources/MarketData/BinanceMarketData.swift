import Binance
import Foundation
import TradingDomain

/// Candles and prices from Binance Spot's public market data (`GET /api/v3/klines`, `GET /api/v3/ticker/price`).
///
/// The first backfill asks for the newest `limit` closed candles, a page of 1000 at a time from the computed
/// start; afterwards only candles newer than `after` are asked for, so a steady-state run makes at most one
/// klines request per symbol (none when no new candle can have closed). A kline is closed when its close time
/// is before now, judged by the earlier of the caller's `now` and the venue's estimated time, so a local clock
/// running ahead never lets a still-open bar in.
public struct BinanceMarketData: MarketDataSource {
    public let name = "binance"
    public let client: BinanceClient

    /// Klines per request (Binance's maximum).
    static let pageSize = 1000

    public init(client: BinanceClient) {
        self.client = client
    }

    public func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) async throws -> [Candle] {
        guard limit > 0 else { return [] }
        let serverNow = (try? await client.estimatedServerTime()) ?? now
        let cutoff = min(now, serverNow)
        let interval = timeframe.milliseconds
        let newestClosedOpen = timeframe.lastClosedBarOpen(at: cutoff)
        let windowStart = newestClosedOpen - Int64(limit - 1) * interval
        var start = windowStart
        if let after {
            if after >= newestClosedOpen { return [] }  // nothing newer can have closed yet
            start = max(after + 1, windowStart)
        }

        var candles: [Candle] = []
        var pages = 0
        let maxPages = limit / Self.pageSize + 3
        while pages < maxPages {
            pages += 1
            let page: [BinanceKline]
            do {
                page = try await client.klines(symbol: symbol, interval: timeframe.name, startTime: start, limit: Self.pageSize)
            } catch {
                throw MarketDataError(source: name, symbol: symbol, message: "\(error)")
            }
            var newest: Int64?
            for kline in page where kline.openTime >= start {
                newest = max(newest ?? kline.openTime, kline.openTime)
                guard kline.closeTime < cutoff, kline.openTime <= newestClosedOpen else { continue }  // still open
                candles.append(try Self.candle(kline, symbol: symbol))
            }
            guard page.count >= Self.pageSize, let newest, newest < newestClosedOpen else { break }
            start = newest + 1
        }

        var seen = Set<Int64>()
        let ordered = candles.sorted { $0.openTime < $1.openTime }.filter { seen.insert($0.openTime).inserted }
        let newer = after.map { after in ordered.filter { $0.openTime > after } } ?? ordered
        return Array(newer.suffix(limit))
    }

    public func currentPrice(symbol: Symbol, timeframe: Timeframe, now: Int64) async throws -> Double {
        let price: Price
        do {
            price = try await client.tickerPrice(symbol: symbol)
        } catch {
            throw MarketDataError(source: name, symbol: symbol, message: "\(error)")
        }
        return price.double
    }

    /// A kline as a candle; prices and volume through `Double(String)`.
    static func candle(_ kline: BinanceKline, symbol: Symbol) throws -> Candle {
        guard let open = Double(kline.open), let high = Double(kline.high), let low = Double(kline.low), let close = Double(kline.close),
              let volume = Double(kline.volume), [open, high, low, close, volume].allSatisfy({ $0.isFinite }) else {
            throw MarketDataError(source: "binance", symbol: symbol, message: "kline at \(kline.openTime) has unreadable prices")
        }
        return Candle(openTime: kline.openTime, open: open, high: high, low: low, close: close, volume: volume)
    }
}
