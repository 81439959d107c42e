import Foundation
import Testing
import Binance
import MarketData
import TestSupport
import TradingDomain

@Suite struct BinanceMarketDataTests {
    static let minute = Timeframe("1m")!

    /// The `startTime` parameter of a logged klines request.
    func startTime(_ query: String) -> Int64? {
        query.split(separator: "&").first { $0.hasPrefix("startTime=") }.flatMap { Int64($0.dropFirst("startTime=".count)) }
    }

    @Test func backfillPaginatesDropsTheOpenCandleThenAsksOnlyForNewerOnes() async throws {
        let h = try BinanceHarness(klines: 1600)
        defer { h.close() }
        let source = BinanceMarketData(client: try h.client())
        let now = h.clock.now
        // The fake's server time is 30 s into bar 1599 (still open); the newest closed bar is 1598.
        let newestClosed = BinanceHarness.t0 + 1598 * 60_000

        let candles = try await source.closedCandles(symbol: BinanceHarness.symbol, timeframe: Self.minute, after: nil, limit: 1500, now: now)
        #expect(candles.count == 1500)
        #expect(candles.last?.openTime == newestClosed)
        #expect(candles.first?.openTime == newestClosed - 1499 * 60_000)
        #expect(zip(candles, candles.dropFirst()).allSatisfy { $1.openTime - $0.openTime == 60_000 })
        #expect(candles.last?.close == 100.2)  // 1598 % 7 = 2 → 100.2, parsed from "100.20000000"
        let requests = h.requests("/api/v3/klines")
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.query.contains("interval=1m") && $0.query.contains("limit=1000") })
        #expect(requests.map { startTime($0.query) } == [newestClosed - 1499 * 60_000, newestClosed - 500 * 60_000 + 1])

        // Nothing new can have closed yet: no request at all.
        let none = try await source.closedCandles(symbol: BinanceHarness.symbol, timeframe: Self.minute, after: newestClosed, limit: 1500, now: now)
        #expect(none.isEmpty)
        #expect(h.requests("/api/v3/klines").count == 2)

        // Three minutes later (two more bars closed, one open): one request for what is newer.
        for i in 1600..<1603 {
            h.fake.appendKline(symbol: BinanceHarness.symbol.rawValue, FakeBinance.Kline(
                openTimeMs: BinanceHarness.t0 + Int64(i) * 60_000, open: 101, high: 102, low: 100, close: 101.5, volume: 1, intervalMs: 60_000))
        }
        h.clock.advance(ms: 3 * 60_000)
        let newer = try await source.closedCandles(symbol: BinanceHarness.symbol, timeframe: Self.minute, after: newestClosed,
                                                   limit: 1500, now: h.clock.now)
        #expect(newer.map(\.openTime) == [1599, 1600, 1601].map { BinanceHarness.t0 + Int64($0) * 60_000 })
        #expect(newer.last?.close == 101.5)
        let incremental = h.requests("/api/v3/klines")
        #expect(incremental.count == 3)
        #expect(startTime(incremental[2].query) == newestClosed + 1)
    }

    @Test func aSmallBackfillIsOneRequestAndTheNewestClosedComeLast() async throws {
        let h = try BinanceHarness(klines: 50)
        defer { h.close() }
        let source = BinanceMarketData(client: try h.client())
        let candles = try await source.closedCandles(symbol: BinanceHarness.symbol, timeframe: Self.minute, after: nil, limit: 20, now: h.clock.now)
        #expect(candles.count == 20)
        #expect(candles.last?.openTime == BinanceHarness.t0 + 48 * 60_000)
        #expect(h.requests("/api/v3/klines").count == 1)

        // A caller whose clock runs ahead of the venue never gets the still-open bar.
        let ahead = try await source.closedCandles(symbol: BinanceHarness.symbol, timeframe: Self.minute, after: nil, limit: 5,
                                                   now: h.clock.now + 10 * 60_000)
        #expect(ahead.last?.openTime == BinanceHarness.t0 + 48 * 60_000)
    }

    @Test func currentPriceComesFromTheTicker() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let source = BinanceMarketData(client: try h.client())
        h.fake.setPrice(symbol: BinanceHarness.symbol.rawValue, price: dec("123.45"))
        #expect(try await source.currentPrice(symbol: BinanceHarness.symbol, timeframe: Self.minute, now: h.clock.now) == 123.45)
        #expect(h.requests("/api/v3/ticker/price").first?.query == "symbol=BTCUSDT")

        await #expect(throws: MarketDataError.self) {
            try await source.currentPrice(symbol: "NOPEUSDT", timeframe: Self.minute, now: h.clock.now)
        }
    }
}
