import Foundation
import GRDB
import Testing
@testable import Storage
import TradingDomain

/// The migration of money columns from decimal TEXT to INTEGER fixed point (`v6-fixed-point-money`).
@Suite("Money migration to fixed point")
struct MoneyMigrationTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/decimal-v1-state.sqlite")

    func temporaryPath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-money-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("tradejob.sqlite").path
    }

    /// The raw value Foundation's `Decimal` gives for stored text: the number rounded half-even to 8 places, × 10^8.
    static func expectedRaw(_ text: String) -> Int64? {
        guard var value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return nil }
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 8, .bankers)
        let scaled = rounded * Decimal(FixedPoint.scale)
        return Int64(exactly: NSDecimalNumber(decimal: scaled).int64Value).flatMap { NSDecimalNumber(value: $0).decimalValue == scaled ? $0 : nil }
    }

    /// Every row of `table` in a stable order, as column → value.
    static func rows(_ db: Database, _ table: String) throws -> [[String: DatabaseValue]] {
        let order = table == "venue_symbol_filters" ? "venue, symbol" : "rowid"
        return try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)").map { row in
            Dictionary(uniqueKeysWithValues: row.columnNames.map { ($0, row[$0] as DatabaseValue) })
        }
    }

    /// Checks that after the migration every money value is the INTEGER raw of its old text rounded half-even, and every
    /// other value is unchanged (and a column added since is NULL). Returns how many money values were compared.
    static func checkMigration(from before: [String: [[String: DatabaseValue]]], peak: String?, to db: StateDatabase) throws -> Int {
        var compared = 0
        try db.writer.read { d in
            for rebuild in MoneyMigrations.rebuilds {
                let after = try rows(d, rebuild.table)
                let old = before[rebuild.table] ?? []
                #expect(after.count == old.count, "\(rebuild.table)")
                for (index, (was, now)) in zip(old, after).enumerated() {
                    // Every column kept; those later migrations add (the venue maximums) are NULL in an old row.
                    #expect(Set(was.keys).isSubset(of: now.keys), "\(rebuild.table) row \(index)")
                    #expect(now.filter { was[$0.key] == nil }.allSatisfy { $0.value.isNull }, "\(rebuild.table) row \(index)")
                    for (column, value) in was {
                        let migrated = now[column] ?? .null
                        guard rebuild.money.contains(column), case let .string(text) = value.storage else {
                            #expect(migrated == value, "\(rebuild.table).\(column) row \(index): \(value) became \(migrated)")
                            continue
                        }
                        guard case let .int64(raw) = migrated.storage else {
                            Issue.record("\(rebuild.table).\(column) row \(index): \(migrated) is not an INTEGER")
                            continue
                        }
                        #expect(raw == expectedRaw(text), "\(rebuild.table).\(column) row \(index): \"\(text)\" became \(raw)")
                        compared += 1
                    }
                }
                let types = try String.fetchAll(d, sql: "SELECT type FROM pragma_table_info('\(rebuild.table)') WHERE name IN (\(rebuild.money.map { "'\($0)'" }.joined(separator: ", ")))")
                #expect(types.allSatisfy { $0 == "INTEGER" } && types.count == rebuild.money.count, "\(rebuild.table): \(types)")
            }
            let storedPeak = try String.fetchOne(d, sql: "SELECT value FROM job_state WHERE key = 'equity.peak'")
            if let peak {
                #expect(storedPeak.flatMap { Money($0)?.raw } == expectedRaw(peak), "equity.peak \(peak) became \(storedPeak ?? "nil")")
                compared += 1
            }
        }
        return compared
    }

    static func snapshot(path: String) throws -> ([String: [[String: DatabaseValue]]], String?) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { d in
            var tables: [String: [[String: DatabaseValue]]] = [:]
            for rebuild in MoneyMigrations.rebuilds { tables[rebuild.table] = try rows(d, rebuild.table) }
            return (tables, try String.fetchOne(d, sql: "SELECT value FROM job_state WHERE key = 'equity.peak'"))
        }
    }

    @Test func aStateWrittenByTheDecimalVersionOpensWithEveryValueKept() throws {
        let path = try temporaryPath()
        try FileManager.default.copyItem(atPath: Self.fixture.path, toPath: path)
        let (before, peak) = try Self.snapshot(path: path)
        #expect(before["positions"]?.count == 7 && before["fills"]?.count == 13 && before["equity"]?.count == 9)
        let db = try StateDatabase(path: path)
        let compared = try Self.checkMigration(from: before, peak: peak, to: db)
        #expect(compared > 150)
        // The job reads it: the open position, its cost and the wallet, as the Decimal version had them (rounded half-even).
        let open = try db.writer.read { try Positions.active($0) }
        #expect(open.count == 1)
        #expect(open.first?.quantity == Quantity("24352.92025123"))
        #expect(open.first?.cost == Money("1977.13712703"))  // was 1977.1371270277748378
        #expect(open.first?.stopPrice == Price("0.08058258"))  // was 0.0805825824139333368
        let cash = try db.writer.read { try Wallet.balances($0)["USDT"] }
        let oldCash = before["wallet"]?.first(where: { $0["asset"] == "USDT".databaseValue })?["free"]
        guard case let .string(cashText)? = oldCash?.storage else { Issue.record("no USDT in the fixture's wallet"); return }
        #expect(cash?.raw == Self.expectedRaw(cashText), "\(cashText)")
        // Opening again migrates nothing twice.
        _ = try StateDatabase(path: path)
    }

    @Test func derivedValuesRoundHalfEvenAndEightDecimalsStayExact() throws {
        let path = try temporaryPath()
        let queue = try DatabaseQueue(path: path)
        try StateMigrations.migrator.migrate(queue, upTo: "v5-notification-channels")
        let values = ["0.00000001", "-0.000000015", "0.000000025", "1.123456785", "1.1234567851", "-7.5", "92233720368.54775807",
                      "100", "0.0805825824139333368", "1E-8", "0"]
        try queue.write { d in
            for (i, v) in values.enumerated() {
                try d.execute(sql: "INSERT INTO wallet (asset, free, locked) VALUES (?, ?, ?)", arguments: ["A\(i)", v, "0"])
            }
            try d.execute(sql: """
                INSERT INTO venue_symbol_filters (venue, symbol, base_asset, quote_asset, tick_size, step_size, min_qty, min_notional, fetched_at)
                VALUES ('binance', 'BTCUSDT', 'BTC', 'USDT', '0.01000000', '0.00001000', '0.00001000', '5.00000000', 7)
                """)
            try d.execute(sql: "INSERT INTO job_state (key, value) VALUES ('equity.peak', '10234.567890125')")
        }
        try queue.close()
        let (before, peak) = try Self.snapshot(path: path)
        let db = try StateDatabase(path: path)
        #expect(try Self.checkMigration(from: before, peak: peak, to: db) == values.count * 2 + 4 + 1)
        let wallet = try db.writer.read { try Wallet.balances($0) }
        #expect(wallet["A1"]?.raw == -2 && wallet["A2"]?.raw == 2 && wallet["A3"] == Money("1.12345678") && wallet["A4"] == Money("1.12345679"))
        #expect(wallet["A6"] == Money(raw: .max) && wallet["A9"]?.raw == 1)
        let filters = try db.writer.read { try VenueSymbolFilters.get($0, venue: "binance", symbol: "BTCUSDT") }
        #expect(filters?.tickSize == Price("0.01") && filters?.stepSize == Quantity("0.00001") && filters?.minNotional == 5)
    }

    @Test func aValueThatIsNotANumberStopsTheMigrationNamingIt() throws {
        let path = try temporaryPath()
        let queue = try DatabaseQueue(path: path)
        try StateMigrations.migrator.migrate(queue, upTo: "v5-notification-channels")
        try queue.write { d in
            try d.execute(sql: "INSERT INTO equity (time, run_id, equity, cash) VALUES (1, 1, '100', 'lots')")
            try d.execute(sql: "INSERT INTO equity (time, run_id, equity, cash) VALUES (2, 1, '1e12', '0')")
        }
        try queue.close()
        do {
            _ = try StateDatabase(path: path)
            Issue.record("the migration should have failed")
        } catch {
            #expect("\(error)".contains("equity.cash, row 1") && "\(error)".contains("lots"), "\(error)")
        }
        // Nothing was changed: the old schema and text are still there.
        let reopened = try DatabaseQueue(path: path)
        #expect(try reopened.read { try String.fetchOne($0, sql: "SELECT cash FROM equity WHERE time = 1") } == "lots")
        #expect(try reopened.read { try StateMigrations.migrator.hasCompletedMigrations($0) } == false)
    }

    @Test func modelCallCostsBecomeFixedPointWithEveryOtherValueKept() throws {
        let path = try temporaryPath()
        let queue = try DatabaseQueue(path: path)
        try StateMigrations.migrator.migrate(queue, upTo: "v6-fixed-point-money")
        let costs = ["0", "0.00042", "0.000000015", "-0.5", "12.345678901"]
        try queue.write { d in
            for (i, cost) in costs.enumerated() {
                try d.execute(sql: """
                    INSERT INTO llm_calls (run_id, symbol, provider, model, cache_key, time, prompt, status, prompt_tokens, completion_tokens, cost,
                    cached_from, base_url, usage_implausible) VALUES (?, 'BTCUSDT', 'openai', 'm', ?, ?, 'p', 'ok', 10, 5, ?, NULL, 'http://127.0.0.1', 0)
                    """, arguments: [i + 1, "k\(i)", 1_000 + i, cost])
            }
        }
        let before = try queue.read { try Self.rows($0, "llm_calls") }
        try queue.close()
        let db = try StateDatabase(path: path)
        let after = try db.writer.read { try Self.rows($0, "llm_calls") }
        #expect(after.count == costs.count)
        for (index, (was, now)) in zip(before, after).enumerated() {
            #expect(Set(was.keys) == Set(now.keys))
            for (column, value) in was where column != "cost" { #expect(now[column] == value, "llm_calls.\(column) row \(index)") }
            guard case let .int64(raw)? = now["cost"]?.storage else { Issue.record("row \(index): \(String(describing: now["cost"])) is not an INTEGER"); continue }
            #expect(raw == Self.expectedRaw(costs[index]), "\"\(costs[index])\" became \(raw)")
        }
        // The day's spending reads them as money; negative costs stay as written (the budget counts them as nothing).
        let spent = try db.writer.read { try SQLiteLedger($0).llmCosts(from: 0, to: 10_000) }
        #expect(spent == [0, Money("0.00042"), Money(raw: 2), Money("-0.5"), Money("12.34567890")].compactMap { $0 })
        let type = try db.writer.read { try String.fetchOne($0, sql: "SELECT type FROM pragma_table_info('llm_calls') WHERE name = 'cost'") }
        #expect(type == "INTEGER")
        let indexes = try db.writer.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'llm_calls' ORDER BY name") }
        #expect(indexes == ["llm_calls_cache", "llm_calls_run", "llm_calls_time"])
    }
}
