import Foundation
import GRDB
import TradingDomain

/// The `candles` cache: closed candles per symbol and timeframe, upserted on their unique key.
public enum Candles {
    public static func newestOpenTime(_ db: Database, symbol: Symbol, timeframe: Timeframe) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT MAX(open_time) FROM candles WHERE symbol = ? AND timeframe = ?", arguments: [symbol, timeframe.name])
    }

    public static func upsert(_ db: Database, symbol: Symbol, timeframe: Timeframe, candles: [Candle]) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO candles (symbol, timeframe, open_time, open, high, low, close, volume) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(symbol, timeframe, open_time) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
            close = excluded.close, volume = excluded.volume
            """)
        for c in candles {
            try statement.execute(arguments: [symbol, timeframe.name, c.openTime, c.open, c.high, c.low, c.close, c.volume])
        }
    }

    /// The newest `limit` candles with open time ≤ `upTo`, oldest first.
    public static func window(_ db: Database, symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64 = .max) throws -> [Candle] {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = ? AND timeframe = ? AND open_time <= ?
            ORDER BY open_time DESC LIMIT ?
            """, arguments: [symbol, timeframe.name, upTo, limit])
        var result: [Candle] = []
        result.reserveCapacity(limit)
        while let r = try rows.next() {
            result.append(Candle(openTime: r[0], open: r[1], high: r[2], low: r[3], close: r[4], volume: r[5]))
        }
        result.reverse()
        return result
    }

    /// Every stored candle of a symbol in a time range, oldest first.
    public static func range(_ db: Database, symbol: Symbol, timeframe: Timeframe, from: Int64, to: Int64) throws -> [Candle] {
        try Row.fetchAll(db, sql: """
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = ? AND timeframe = ? AND open_time >= ? AND open_time <= ?
            ORDER BY open_time
            """, arguments: [symbol, timeframe.name, from, to]).map {
            Candle(openTime: $0[0], open: $0[1], high: $0[2], low: $0[3], close: $0[4], volume: $0[5])
        }
    }

    public static func symbols(_ db: Database, timeframe: Timeframe) throws -> [Symbol] {
        try Symbol.fetchAll(db, sql: "SELECT DISTINCT symbol FROM candles WHERE timeframe = ? ORDER BY symbol", arguments: [timeframe.name])
    }
}

/// The `signals` table: one row per run and symbol analysed.
public enum Signals {
    @discardableResult
    public static func insert(_ db: Database, runID: Int64, signal: Signal) throws -> Int64 {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) -> String { (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}" }
        let finite = signal.indicators.filter { $0.value.isFinite }
        try db.execute(sql: """
            INSERT INTO signals (run_id, symbol, candle_time, direction, confidence, score, components, indicators, patterns, opinion)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [runID, signal.symbol, signal.candleTime, signal.direction.rawValue, signal.confidence, signal.score,
                             json(signal.components), json(finite), json(signal.patterns), signal.opinion.map { json($0) }])
        return db.lastInsertedRowID
    }
}
