import Foundation
import GRDB
import GRDBSQLite
import TradingDomain

/// The `candle_blocks` cache: each symbol's newest candles packed in blocks of up to `blockSize` candles (48 bytes
/// each: the open time and the five prices as their bit patterns, little-endian; then a checksum). A block claims that
/// it holds exactly the `candles` rows of its symbol and timeframe with open time in `cover_from...cover_to`; the blocks of a symbol
/// cover disjoint ranges. The triggers of `CandleBlockMigrations` delete a block as soon as any write to `candles`
/// touches its range, so the claim holds whoever writes the table. Candles are written into blocks only as they were
/// read back from `candles` (SQLite's own rounding of a stored REAL included), so a window read through the blocks is
/// bit for bit the one `Candles.window` reads; anything the blocks do not cover is read from `candles`.
public enum CandleBlocks {
    /// Candles per block: a block (768 bytes) fits in its B-tree page without an overflow page.
    static let blockSize = 16
    static let bytesPerCandle = 48

    struct Block {
        var from: Int64
        var to: Int64
        var candles: [Candle]
    }

    /// `Candles.window(db, symbol:timeframe:limit:upTo:)` read through the blocks, which are then brought up to date
    /// for the next read (new candles appended, blocks older than the window removed): call it in a write transaction.
    /// A cache that cannot serve the read (none yet, damaged, newer than `upTo`) is rebuilt from `candles`.
    public static func window(_ db: Database, symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64) throws -> [Candle] {
        guard limit > 0 else { return try Candles.window(db, symbol: symbol, timeframe: timeframe, limit: limit, upTo: upTo) }
        let tf = timeframe.name
        let (chain, collected, more, usable) = try readChain(db, symbol: symbol, timeframe: tf, limit: limit, upTo: upTo)
        guard usable, let newest = chain.first, let oldest = chain.last else {
            return try rebuild(db, symbol: symbol, timeframe: timeframe, limit: limit, upTo: upTo)
        }
        if newest.to > upTo {
            // Read as of an earlier time than the cache was written at (a replay): the table alone, the cache kept.
            return try Candles.window(db, symbol: symbol, timeframe: timeframe, limit: limit, upTo: upTo)
        }
        let tail = try between(db, symbol: symbol, timeframe: tf, after: newest.to, upTo: upTo)
        if tail.count >= limit { return try rebuild(db, symbol: symbol, timeframe: timeframe, limit: limit, upTo: upTo) }
        var older: [Candle] = []
        if tail.count + collected < limit {
            older = try before(db, symbol: symbol, timeframe: tf, time: oldest.from, limit: limit - tail.count - collected)
        }
        // The newest `limit` of older + the chain (oldest block first) + tail, appended without the ones before them.
        var window: [Candle] = []
        window.reserveCapacity(min(limit, older.count + collected + tail.count))
        var skip = max(0, older.count + collected + tail.count - limit)
        func add(_ part: [Candle]) {
            if skip >= part.count {
                skip -= part.count
            } else {
                window.append(contentsOf: part[skip...])
                skip = 0
            }
        }
        add(older)
        for block in chain.reversed() { add(block.candles) }
        add(tail)

        // Upkeep: the older candles read from the table become blocks before the chain (everything older removed
        // first); otherwise blocks wholly older than the window go.
        if let first = older.first {
            try execute(db, "DELETE FROM candle_blocks WHERE symbol = ? AND timeframe = ? AND cover_from < ?", [symbol, tf, oldest.from])
            try insertChain(db, symbol: symbol, timeframe: tf, candles: older[...], from: first.openTime, to: oldest.from - 1)
        } else if more, let first = window.first {
            try execute(db, "DELETE FROM candle_blocks WHERE symbol = ? AND timeframe = ? AND cover_to < ?", [symbol, tf, first.openTime])
        }
        // The new candles go into the newest block while it has room, then into new blocks; the last one covers to `upTo`.
        if !tail.isEmpty || newest.to != upTo {
            let room = max(0, blockSize - newest.candles.count)
            let head = newest.candles + tail.prefix(room)
            let rest = tail.dropFirst(room)
            try execute(db, "UPDATE candle_blocks SET cover_to = ?, data = ? WHERE symbol = ? AND timeframe = ? AND cover_from = ?",
                        [rest.first.map { $0.openTime - 1 } ?? upTo, encode(head[...], from: newest.from, to: rest.first.map { $0.openTime - 1 } ?? upTo), symbol, tf, newest.from])
            if let first = rest.first {
                try insertChain(db, symbol: symbol, timeframe: tf, candles: rest, from: first.openTime, to: upTo)
            }
        }
        return window
    }

    /// The blocks with `cover_from ≤ upTo`, newest first, as long as each ends where the next newer one starts and until
    /// they hold at least `limit` candles; `more`: blocks are left unread; `usable`: every block read was well formed.
    static func readChain(_ db: Database, symbol: Symbol, timeframe: String, limit: Int, upTo: Int64)
        throws -> (chain: [Block], collected: Int, more: Bool, usable: Bool) {
        let statement = try db.cachedStatement(sql: """
            SELECT cover_from, cover_to, data FROM candle_blocks WHERE symbol = ? AND timeframe = ? AND cover_from <= ? ORDER BY cover_from DESC
            """)
        let rows = try Row.fetchCursor(statement, arguments: [symbol, timeframe, upTo])
        let s = statement.sqliteStatement
        var chain: [Block] = []
        var collected = 0
        while try rows.next() != nil {
            let from = sqlite3_column_int64(s, 0), to = sqlite3_column_int64(s, 1)
            if let newer = chain.last, !(newer.from > Int64.min && to == newer.from - 1) {
                return (chain, collected, true, true)  // a gap: the blocks before it are not used
            }
            if collected >= limit { return (chain, collected, true, true) }
            let count = Int(sqlite3_column_bytes(s, 2))
            guard let block = decode(sqlite3_column_blob(s, 2), count: count, from: from, to: to) else { return ([], 0, true, false) }
            collected += block.candles.count
            chain.append(block)
        }
        return (chain, collected, false, true)
    }

    /// The exact window from `candles`, and the symbol's blocks replaced by ones holding it (covering to `upTo`).
    static func rebuild(_ db: Database, symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64) throws -> [Candle] {
        let window = try Candles.window(db, symbol: symbol, timeframe: timeframe, limit: limit, upTo: upTo)
        try execute(db, "DELETE FROM candle_blocks WHERE symbol = ? AND timeframe = ?", [symbol, timeframe.name])
        if let first = window.first {
            try insertChain(db, symbol: symbol, timeframe: timeframe.name, candles: window[...], from: first.openTime, to: upTo)
        }
        return window
    }

    /// Blocks of `candles` (sorted, every stored candle in `from...to`), the first covering from `from`, each next one
    /// from its first candle, the last to `to`.
    static func insertChain(_ db: Database, symbol: Symbol, timeframe: String, candles: ArraySlice<Candle>, from: Int64, to: Int64) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO candle_blocks (symbol, timeframe, cover_from, cover_to, data) VALUES (?, ?, ?, ?, ?)")
        var start = candles.startIndex
        while start < candles.endIndex {
            let end = min(start + blockSize, candles.endIndex)
            let coverFrom = start == candles.startIndex ? from : candles[start].openTime
            let coverTo = end < candles.endIndex ? candles[end].openTime - 1 : to
            try statement.execute(arguments: [symbol, timeframe, coverFrom, coverTo, encode(candles[start..<end], from: coverFrom, to: coverTo)])
            start = end
        }
    }

    /// The stored candles with `after < open time ≤ upTo`, oldest first.
    static func between(_ db: Database, symbol: Symbol, timeframe: String, after: Int64, upTo: Int64) throws -> [Candle] {
        let statement = try db.cachedStatement(sql: """
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = ? AND timeframe = ? AND open_time > ? AND open_time <= ?
            ORDER BY open_time
            """)
        return try candles(statement, arguments: [symbol, timeframe, after, upTo], reserve: 4)
    }

    /// The newest `limit` stored candles with open time < `time`, oldest first.
    static func before(_ db: Database, symbol: Symbol, timeframe: String, time: Int64, limit: Int) throws -> [Candle] {
        let statement = try db.cachedStatement(sql: """
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = ? AND timeframe = ? AND open_time < ?
            ORDER BY open_time DESC LIMIT ?
            """)
        return try candles(statement, arguments: [symbol, timeframe, time, limit], reserve: limit).reversed()
    }

    static func candles(_ statement: Statement, arguments: StatementArguments, reserve: Int) throws -> [Candle] {
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        let s = statement.sqliteStatement
        var result: [Candle] = []
        result.reserveCapacity(reserve)
        while try rows.next() != nil {
            result.append(Candle(openTime: sqlite3_column_int64(s, 0), open: sqlite3_column_double(s, 1), high: sqlite3_column_double(s, 2),
                                 low: sqlite3_column_double(s, 3), close: sqlite3_column_double(s, 4), volume: sqlite3_column_double(s, 5)))
        }
        return result
    }

    static func execute(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The packed candles (48 bytes each), then 8 bytes of `checksum(_:from:to:)`.
    static func encode(_ candles: ArraySlice<Candle>, from: Int64, to: Int64) -> Data {
        var data = Data(count: candles.count * bytesPerCandle + 8)
        data.withUnsafeMutableBytes { out in
            var o = 0
            func put(_ value: UInt64) {
                out.storeBytes(of: value.littleEndian, toByteOffset: o, as: UInt64.self)
                o += 8
            }
            for c in candles {
                put(UInt64(bitPattern: c.openTime))
                put(c.open.bitPattern)
                put(c.high.bitPattern)
                put(c.low.bitPattern)
                put(c.close.bitPattern)
                put(c.volume.bitPattern)
            }
            let sum = checksum(UnsafeRawBufferPointer(rebasing: out[..<o]), from: from, to: to)
            out.storeBytes(of: sum.littleEndian, toByteOffset: o, as: UInt64.self)
        }
        return data
    }

    /// A block's checksum: its candle bytes' `ByteChecksum` with the block's range mixed in.
    static func checksum(_ bytes: UnsafeRawBufferPointer, from: Int64, to: Int64) -> UInt64 {
        var sum = ByteChecksum()
        sum.add(bytes)
        return ByteChecksum.round(ByteChecksum.round(sum.finish(), UInt64(bitPattern: from)), UInt64(bitPattern: to))
    }

    /// A block's candles, or nil when its data is not a whole number of candles in increasing time order inside its
    /// range followed by their checksum.
    static func decode(_ bytes: UnsafeRawPointer?, count: Int, from: Int64, to: Int64) -> Block? {
        guard let bytes, count > 8, (count - 8) % bytesPerCandle == 0, from <= to else { return nil }
        let n = (count - 8) / bytesPerCandle
        let sum = checksum(UnsafeRawBufferPointer(start: bytes, count: n * bytesPerCandle), from: from, to: to)
        guard sum == UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: n * bytesPerCandle, as: UInt64.self)) else { return nil }
        var candles: [Candle] = []
        candles.reserveCapacity(n)
        var previous = from
        for k in 0..<n {
            func word(_ w: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: k * bytesPerCandle + w * 8, as: UInt64.self)) }
            let time = Int64(bitPattern: word(0))
            guard time >= previous, k == 0 || time > previous, time <= to else { return nil }
            previous = time
            candles.append(Candle(openTime: time, open: Double(bitPattern: word(1)), high: Double(bitPattern: word(2)), low: Double(bitPattern: word(3)),
                                  close: Double(bitPattern: word(4)), volume: Double(bitPattern: word(5))))
        }
        return Block(from: from, to: to, candles: candles)
    }
}
