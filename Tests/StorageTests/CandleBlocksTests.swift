import Foundation
import GRDB
import Testing
@testable import Storage
import TestSupport
import TradingDomain

/// The window cache (`CandleBlocks`) against the exact query (`Candles.window`): after every kind of write to
/// `candles` (new candles, corrections, backfilled gaps, deletions by hand), damaged blocks, other limits and reads as
/// of an earlier time, the window read through the blocks is bit for bit the table's, and every block holds exactly
/// the table's candles in its range.
@Suite("Candle window cache")
struct CandleBlocksTests {
    let tf = Timeframe("15m")!
    let step: Int64 = 900_000

    func bits(_ candles: [Candle]) -> [[UInt64]] {
        candles.map { [UInt64(bitPattern: $0.openTime), $0.open.bitPattern, $0.high.bitPattern, $0.low.bitPattern, $0.close.bitPattern, $0.volume.bitPattern] }
    }

    func candle(_ time: Int64, _ rng: inout SeededGenerator) -> Candle {
        // Integral prices and -0.0 included: SQLite stores an integral REAL as an integer and reads it back as +0.0/2.0.
        let pick = Int.random(in: 0..<10, using: &rng)
        let price = pick == 0 ? 2.0 : pick == 1 ? -0.0 : Double.random(in: 0.001...50_000, using: &rng)
        return Candle(openTime: time, open: price, high: price * 1.01, low: price * 0.99, close: Double.random(in: 1...2, using: &rng),
                      volume: pick == 2 ? 0 : Double.random(in: 0...1e6, using: &rng))
    }

    /// Every block holds exactly the table's candles of its range, and the blocks of a symbol do not overlap.
    func checkBlocks(_ db: Database, symbol: Symbol) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT cover_from, cover_to, data FROM candle_blocks WHERE symbol = ? AND timeframe = ? ORDER BY cover_from",
                                    arguments: [symbol, tf.name])
        var previousTo = Int64.min
        for row in rows {
            let from: Int64 = row[0], to: Int64 = row[1], data: Data = row[2]
            #expect(from > previousTo)
            previousTo = to
            let block = data.withUnsafeBytes { CandleBlocks.decode($0.baseAddress, count: data.count, from: from, to: to) }
            guard let block else { continue }  // a block damaged on purpose: the next read rebuilds it
            let table = try Candles.range(db, symbol: symbol, timeframe: tf, from: from, to: to)
            #expect(bits(block.candles) == bits(table), "block \(from)...\(to) of \(symbol)")
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func windowThroughTheBlocksIsTheTablesWindow(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let db = try StateDatabase(inMemory: ())
        let symbols: [Symbol] = ["AAAUSDT", "BBBUSDT"]
        var newest: [Symbol: Int64] = [:]
        var limit = 40
        for round in 0..<300 {
            let symbol = symbols[Int.random(in: 0..<symbols.count, using: &rng)]
            var upTo = newest[symbol] ?? 0
            try db.write { ledger in
                let d = ledger.db
                let last = newest[symbol] ?? 0
                switch Int.random(in: 0..<20, using: &rng) {
                case 0..<9:  // the usual cycle: 0–2 new candles, sometimes after a gap
                    var t = last
                    let new = (0..<Int.random(in: 0...2, using: &rng)).map { _ -> Candle in
                        t += step * (Int.random(in: 0..<8, using: &rng) == 0 ? 3 : 1)
                        return candle(t, &rng)
                    }
                    try Candles.upsert(d, symbol: symbol, timeframe: tf, candles: new)
                    newest[symbol] = new.last?.openTime ?? last
                    upTo = newest[symbol] ?? 0
                case 9:  // a long absence: many candles at once
                    let new = (1...Int.random(in: 20...120, using: &rng)).map { candle(last + Int64($0) * step, &rng) }
                    try Candles.upsert(d, symbol: symbol, timeframe: tf, candles: new)
                    newest[symbol] = new.last?.openTime ?? last
                    upTo = newest[symbol] ?? 0
                case 10, 11:  // a stored candle corrected, or a missing one filled in
                    let back = Int64(Int.random(in: 0...60, using: &rng))
                    try Candles.upsert(d, symbol: symbol, timeframe: tf, candles: [candle(max(0, last - back * step), &rng)])
                case 12:  // a candle deleted by hand
                    let back = Int64(Int.random(in: 0...60, using: &rng))
                    try d.execute(sql: "DELETE FROM candles WHERE symbol = ? AND timeframe = ? AND open_time = ?", arguments: [symbol, tf.name, last - back * step])
                case 13:  // a block damaged
                    try d.execute(sql: """
                        UPDATE candle_blocks SET data = ? WHERE symbol = ? AND timeframe = ? AND cover_from = (SELECT MAX(cover_from) FROM candle_blocks WHERE symbol = ?)
                        """, arguments: [Data([1, 2, 3]), symbol, tf.name, symbol])
                case 14:  // another lookback
                    limit = [1, 5, 16, 17, 40, 100][Int.random(in: 0..<6, using: &rng)]
                case 15:  // read as of an earlier time (a replay)
                    upTo = last - Int64(Int.random(in: 1...30, using: &rng)) * step
                case 16:  // read as of a later time than the newest candle
                    upTo = last + Int64(Int.random(in: 1...3, using: &rng)) * step
                default:
                    break
                }
                let exact = try Candles.window(d, symbol: symbol, timeframe: tf, limit: limit, upTo: upTo)
                let cached = try CandleBlocks.window(d, symbol: symbol, timeframe: tf, limit: limit, upTo: upTo)
                #expect(bits(cached) == bits(exact), "round \(round), seed \(seed)")
                // Read again: the blocks just brought up to date give the same window.
                #expect(bits(try CandleBlocks.window(d, symbol: symbol, timeframe: tf, limit: limit, upTo: upTo)) == bits(exact))
                for s in symbols { try checkBlocks(d, symbol: s) }
            }
        }
    }

    @Test func steadyStateReadsTheBlocksAndKeepsThemSmall() throws {
        var rng = SeededGenerator(seed: 9)
        let db = try StateDatabase(inMemory: ())
        let symbol: Symbol = "XUSDT"
        let history = (0..<500).map { candle(Int64($0) * step, &rng) }
        try db.write { try Candles.upsert($0.db, symbol: symbol, timeframe: tf, candles: history) }
        for k in 500..<600 {
            try db.write { ledger in
                let d = ledger.db
                try Candles.upsert(d, symbol: symbol, timeframe: tf, candles: [candle(Int64(k) * step, &rng)])
                let exact = try Candles.window(d, symbol: symbol, timeframe: tf, limit: 500, upTo: Int64(k) * step)
                #expect(bits(try CandleBlocks.window(d, symbol: symbol, timeframe: tf, limit: 500, upTo: Int64(k) * step)) == bits(exact))
            }
        }
        // Only the blocks the window needs are kept: 500 candles in blocks of 16, plus the one the window starts in.
        let blocks = try db.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM candle_blocks") ?? 0 }
        #expect(blocks <= 500 / CandleBlocks.blockSize + 2)
        #expect(blocks >= 500 / CandleBlocks.blockSize)
    }

    @Test func aStateWrittenBeforeTheCacheGetsItOnItsFirstCycle() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-blocks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tradejob.sqlite").path
        // The schema as the previous version left it: every migration but the cache's.
        var previous = DatabaseMigrator()
        CoreMigrations.register(in: &previous)
        NotificationMigrations.register(in: &previous)
        LLMMigrations.register(in: &previous)
        BinanceMigrations.register(in: &previous)
        NotificationMigrations.registerChannels(in: &previous)
        MoneyMigrations.register(in: &previous)
        LLMMigrations.registerFixedPointCost(in: &previous)
        var rng = SeededGenerator(seed: 5)
        let history = (0..<50).map { candle(Int64($0) * step, &rng) }
        do {
            let queue = try DatabaseQueue(path: path)
            try previous.migrate(queue)
            try queue.write { try Candles.upsert($0, symbol: "XUSDT", timeframe: tf, candles: history) }
            try queue.close()
        }
        let db = try StateDatabase(path: path)
        let window = try db.write { try CandleBlocks.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 49 * step) }
        #expect(window.count == 40)
        let exact = try db.read { try Candles.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 49 * step) }
        #expect(bits(window) == bits(exact))
        let blocks = try db.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM candle_blocks") ?? 0 }
        #expect(blocks == 3)
        try db.close()
    }

    /// 40 candles 100 ms apart, read once through the cache (three blocks: 0...1599, 1600...3199, 3200...3900).
    func cachedState() throws -> (StateDatabase, [Candle]) {
        let db = try StateDatabase(inMemory: ())
        let candles = (0..<40).map { Candle(openTime: Int64($0) * 100, open: 1, high: 1, low: 1, close: 1, volume: 1) }
        try db.write { try Candles.upsert($0.db, symbol: "XUSDT", timeframe: tf, candles: candles) }
        _ = try db.write { try CandleBlocks.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 3900) }
        return (db, candles)
    }

    func cachedAndExact(_ db: StateDatabase) throws -> (cached: [Candle], exact: [Candle]) {
        let exact = try db.read { try Candles.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 3900) }
        let cached = try db.write { try CandleBlocks.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 3900) }
        return (cached, exact)
    }

    /// An open time that is not a whole number (only hand-written SQL stores one) between two blocks' ranges still
    /// clears the block it falls in.
    @Test func anOpenTimeBetweenTwoBlocksClearsTheBlock() throws {
        let (db, _) = try cachedState()
        try db.write { try $0.db.execute(sql: "INSERT INTO candles VALUES ('XUSDT', '15m', 1599.5, 9, 9, 9, 9, 9)") }
        let (cached, exact) = try cachedAndExact(db)
        #expect(exact.contains { $0.close == 9 })
        #expect(bits(cached) == bits(exact))
    }

    /// A block whose times are well formed but whose price bytes were damaged fails its checksum and is read again.
    @Test func aBlockWithDamagedPriceBytesIsReadAgain() throws {
        let (db, _) = try cachedState()
        try db.write { ledger in
            let rows = try Row.fetchAll(ledger.db, sql: "SELECT cover_from, data FROM candle_blocks")
            #expect(rows.count == 3)
            for row in rows {
                var data: Data = row[1]
                for k in 0..<(data.count / 48) { for b in 8..<48 { data[k * 48 + b] = 0xFF } }
                try ledger.db.execute(sql: "UPDATE candle_blocks SET data = ? WHERE cover_from = ?", arguments: [data, row[0] as Int64])
            }
        }
        let (cached, exact) = try cachedAndExact(db)
        #expect(exact.allSatisfy { $0.close == 1 })
        #expect(bits(cached) == bits(exact))
    }

    /// A `candles` table rebuilt without the triggers (SQLite drops them with the table): the next open empties the
    /// cache and makes them again, so later writes clear blocks as before.
    @Test func triggersLostWithARebuiltTableAreMadeAgainOnOpen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-blocks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tradejob.sqlite").path
        var rng = SeededGenerator(seed: 7)
        let history = (0..<50).map { candle(Int64($0) * step, &rng) }
        do {
            let db = try StateDatabase(path: path)
            try db.write { try Candles.upsert($0.db, symbol: "XUSDT", timeframe: tf, candles: history) }
            _ = try db.write { try CandleBlocks.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 49 * step) }
            try db.write { ledger in
                try ledger.db.execute(sql: """
                    CREATE TABLE candles_copy AS SELECT * FROM candles;
                    DROP TABLE candles;
                    ALTER TABLE candles_copy RENAME TO candles;
                    """)
            }
            try db.close()
        }
        let db = try StateDatabase(path: path)
        let triggers = try db.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'candles'") ?? 0 }
        #expect(triggers == 3)
        #expect(try db.read { try Int.fetchOne($0.db, sql: "SELECT COUNT(*) FROM candle_blocks") ?? -1 } == 0)
        _ = try db.write { try CandleBlocks.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 49 * step) }
        try db.write { try $0.db.execute(sql: "UPDATE candles SET close = 777 WHERE open_time = ?", arguments: [48 * step]) }
        let exact = try db.read { try Candles.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 49 * step) }
        let cached = try db.write { try CandleBlocks.window($0.db, symbol: "XUSDT", timeframe: tf, limit: 40, upTo: 49 * step) }
        #expect(exact.contains { $0.close == 777 })
        #expect(bits(cached) == bits(exact))
        try db.close()
    }
}
