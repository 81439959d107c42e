import Foundation
import Testing
import Storage
import TradingDomain

@Suite("Memory ledger")
struct MemoryLedgerTests {
    /// With a retention, the ledger drops old candles in batches but every window the cycle can ask for (up to the
    /// retention) is the one a ledger keeping everything gives; what it holds stays under twice the retention.
    @Test func candleRetentionKeepsEveryWindowUpToTheRetention() throws {
        let tf = try #require(Timeframe("15m"))
        let all = MemoryLedger(), kept = MemoryLedger(candleRetention: 7)
        for i in 0..<200 {
            let t = Int64(i) * tf.milliseconds
            let candle = Candle(openTime: t, open: 1, high: 2, low: 0.5, close: Double(i), volume: 1)
            for ledger in [all, kept] { try ledger.upsertCandles(symbol: "BTCUSDT", timeframe: tf, candles: [candle]) }
            for limit in [1, 3, 7] {
                let expected = try all.candleWindow(symbol: "BTCUSDT", timeframe: tf, limit: limit, upTo: t)
                #expect(try kept.candleWindow(symbol: "BTCUSDT", timeframe: tf, limit: limit, upTo: t) == expected, "bar \(i), limit \(limit)")
            }
            #expect(try kept.newestCandleTime(symbol: "BTCUSDT", timeframe: tf) == t)
            #expect(try kept.candleWindow(symbol: "BTCUSDT", timeframe: tf, limit: 1000, upTo: .max).count < 14)
        }
        #expect(try all.candleWindow(symbol: "BTCUSDT", timeframe: tf, limit: 1000, upTo: .max).count == 200)
    }
}
