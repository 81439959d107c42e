import Foundation
import GRDB
import GRDBSQLite
import TradingDomain

/// The `candles` cache: closed candles per symbol and timeframe, upserted on their unique key.
public enum Candles {
    public static func newestOpenTime(_ db: Database, symbol: Symbol, timeframe: Timeframe) throws -> Int64? {
        let statement = try db.cachedStatement(sql: "SELECT MAX(open_time) FROM candles WHERE symbol = ? AND timeframe = ?")
        return try firstValue(statement, arguments: [symbol, timeframe.name], table: "candles", column: "open_time")
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
        let statement = try db.cachedStatement(sql: """
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = ? AND timeframe = ? AND open_time <= ?
            ORDER BY open_time DESC LIMIT ?
            """)
        let rows = try Row.fetchCursor(statement, arguments: [symbol, timeframe.name, upTo, limit])
        var result: [Candle] = []
        result.reserveCapacity(limit)
        // The columns read straight from the statement (every one is NOT NULL): a window is 500 rows, a cycle reads one
        // per symbol.
        let s = statement.sqliteStatement
        while try rows.next() != nil {
            result.append(Candle(openTime: sqlite3_column_int64(s, 0), open: sqlite3_column_double(s, 1), high: sqlite3_column_double(s, 2),
                                 low: sqlite3_column_double(s, 3), close: sqlite3_column_double(s, 4), volume: sqlite3_column_double(s, 5)))
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
        let statement = try db.cachedStatement(sql: """
            INSERT INTO signals (run_id, symbol, candle_time, direction, confidence, score, components, indicators, patterns, opinion)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        // The finite indicators, written straight from the signal's dictionary (no filtered copy of it).
        let finite = CompactJSON.object(signal.indicators.lazy.filter { $0.value.isFinite }.map { (key: $0.key, value: $0.value) }, CompactJSON.number)
        try statement.execute(arguments: [runID, signal.symbol, signal.candleTime, signal.direction.rawValue, signal.confidence, signal.score,
                                          CompactJSON.object(signal.components), finite, patternsJSON(signal.patterns),
                                          signal.opinion.map(opinionJSON)])
        return db.lastInsertedRowID
    }

    /// `{"CDL…":value,…}` (the hits are already in name order).
    /// The signal's JSON columns as stored (components, finite indicators, pattern hits, opinion): one writer for every backend.
    public static func jsonColumns(_ signal: Signal) -> (components: String, indicators: String, patterns: String, opinion: String?) {
        let finite = CompactJSON.object(signal.indicators.lazy.filter { $0.value.isFinite }.map { (key: $0.key, value: $0.value) }, CompactJSON.number)
        return (CompactJSON.object(signal.components), finite, patternsJSON(signal.patterns), signal.opinion.map(opinionJSON))
    }

    static func patternsJSON(_ patterns: PatternHits) -> String {
        CompactJSON.object(patterns.map { (key: $0.name, value: $0.value) }) { $1.append(String($0)) }
    }

    /// `{"action":…,"agreement":…,"confidence":…}`, as `JSONEncoder` writes a `ModelOpinion` with sorted keys.
    static func opinionJSON(_ opinion: ModelOpinion) -> String {
        guard opinion.agreement.isFinite, opinion.confidence.isFinite else { return "{}" }
        var out = "{\"action\":"
        CompactJSON.string(opinion.action.rawValue, into: &out)
        out.append(",\"agreement\":")
        CompactJSON.number(opinion.agreement, into: &out)
        out.append(",\"confidence\":")
        CompactJSON.number(opinion.confidence, into: &out)
        out.append("}")
        return out
    }
}
