import Foundation
import Testing

/// The money invariants of a paper-trading state, read from its database with the sqlite3 tool and computed exactly
/// (in `Decimal`): what the crash tests check after every recovery.
struct PaperInvariants: CustomStringConvertible {
    var integrity = ""
    /// Orders whose outcome is not final.
    var unresolvedOrders = 0
    /// Positions not CLOSED that hold nothing and have no order working, or are stuck ADJUSTING: no way forward.
    var strandedPositions = 0
    /// Intents (position, purpose, leg) with more than one FILLED order.
    var intentsFilledTwice = 0
    /// Paper-book orders whose status differs from the database's order (or that the database lacks).
    var bookMismatches = 0
    /// |wallet − (starting cash − buys − fees + sells)| in the quote asset, and the same per base asset.
    var walletErrors: [String: Decimal] = [:]
    /// Positions whose quantity differs from the sum of their fills.
    var positionMismatches = 0
    /// Decisions committed without their order: positions with no order at all, or more adjustments than adjustment
    /// orders (each decision and its order intent are one transaction).
    var decisionsWithoutOrder = 0

    var holds: Bool {
        integrity == "ok" && unresolvedOrders == 0 && strandedPositions == 0 && intentsFilledTwice == 0 && bookMismatches == 0
            && walletErrors.values.allSatisfy { $0 == 0 } && positionMismatches == 0 && decisionsWithoutOrder == 0
    }

    var description: String {
        "integrity \(integrity), \(unresolvedOrders) unresolved orders, \(strandedPositions) stranded positions, "
            + "\(intentsFilledTwice) intents filled twice, \(bookMismatches) paper-book mismatches, \(positionMismatches) position ≠ Σ fills, "
            + "\(decisionsWithoutOrder) decisions without their order, "
            + "wallet errors \(walletErrors.filter { $0.value != 0 })"
    }

    static func read(_ h: Harness, startingCash: Decimal = 10_000, quote: String = "USDT") throws -> PaperInvariants {
        var result = PaperInvariants()
        func rows(_ sql: String) throws -> [[String]] {
            try h.sqlite(sql).split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        }
        func number(_ text: String) -> Decimal { MoneyColumn.decimal(text) }
        result.integrity = try h.integrityCheck()
        result.unresolvedOrders = Int(try h.sqlite("SELECT COUNT(*) FROM orders WHERE status IN ('PENDING_SUBMIT','UNKNOWN','NEW','PARTIALLY_FILLED')")) ?? -1
        result.strandedPositions = Int(try h.sqlite("""
            SELECT COUNT(*) FROM positions p WHERE p.state != 'CLOSED' AND (p.state = 'ADJUSTING' OR CAST(p.quantity AS REAL) <= 0)
            AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.position_id = p.id AND o.status IN ('PENDING_SUBMIT','UNKNOWN','NEW','PARTIALLY_FILLED'))
            """)) ?? -1
        result.intentsFilledTwice = Int(try h.sqlite("""
            SELECT COUNT(*) FROM (SELECT position_id, purpose, leg FROM orders WHERE status = 'FILLED' GROUP BY position_id, purpose, leg HAVING COUNT(*) > 1) AS twice
            """)) ?? -1
        result.bookMismatches = Int(try h.sqlite("""
            SELECT COUNT(*) FROM paper_orders b LEFT JOIN orders o ON o.client_order_id = b.client_order_id WHERE o.status IS NULL OR o.status != b.status
            """)) ?? -1

        result.decisionsWithoutOrder = Int(try h.sqlite("""
            SELECT COUNT(*) FROM positions p WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.position_id = p.id)
            OR p.adjustments != (SELECT COUNT(DISTINCT leg) FROM orders o WHERE o.position_id = p.id AND o.purpose IN ('ADD', 'PARTIAL_TP'))
            """)) ?? -1

        var expected: [String: Decimal] = [quote: startingCash]
        var perPosition: [String: Decimal] = [:]
        for f in try rows("SELECT f.symbol, f.side, f.quantity, f.price, f.fee, f.fee_asset, COALESCE(CAST(o.position_id AS TEXT), '') FROM fills f LEFT JOIN orders o ON o.client_order_id = f.client_order_id") where f.count == 7 {
            let base = f[0].hasSuffix(quote) ? String(f[0].dropLast(quote.count)) : f[0]
            let sign: Decimal = f[1] == "BUY" ? 1 : -1
            let quantity = number(f[2])
            expected[base, default: 0] += sign * quantity
            expected[quote, default: 0] -= sign * MoneyColumn.notional(quantity, number(f[3]))
            expected[f[5], default: 0] -= number(f[4])
            perPosition[f[6], default: 0] += sign * quantity
        }
        var wallet: [String: Decimal] = [:]
        for w in try rows("SELECT asset, free, locked FROM wallet") where w.count == 3 { wallet[w[0]] = number(w[1]) + number(w[2]) }
        for asset in Set(expected.keys).union(wallet.keys) {
            let difference = (wallet[asset] ?? 0) - (expected[asset] ?? 0)
            result.walletErrors[asset] = difference < 0 ? -difference : difference
        }
        for p in try rows("SELECT id, quantity, state FROM positions") where p.count == 3 {
            let held = number(p[1])
            let filled = perPosition[p[0]] ?? 0
            if p[2] == "CLOSED" ? held != 0 || filled != 0 : held != filled { result.positionMismatches += 1 }
        }
        return result
    }
}

extension Harness {
    /// Copies every file of `other`'s state directory into this one's (which must not exist yet).
    /// A copy of `other`'s state: its directory, or on PostgreSQL every row of its account's tables (runs and positions
    /// first, for the references to them) with the id sequences set after the copied ids.
    func copyState(from other: Harness) throws {
        guard let account, let source = other.account else {
            try FileManager.default.copyItem(atPath: other.stateDir, toPath: stateDir)
            return
        }
        _ = try run(["migrate"])
        let listed = try sqlite("SELECT table_name FROM information_schema.tables WHERE table_schema = 'tradejob_\(source)' AND table_name <> 'schema_migrations'")
        let tables = listed.split(separator: "\n").map(String.init).sorted { a, b in
            let first = ["runs", "positions"]
            return (first.firstIndex(of: a) ?? 2, a) < (first.firstIndex(of: b) ?? 2, b)
        }
        var sql = "TRUNCATE " + tables.map { "tradejob_\(account).\($0)" }.joined(separator: ", ") + "; "
        for table in tables { sql += "INSERT INTO tradejob_\(account).\(table) SELECT * FROM tradejob_\(source).\(table); " }
        for table in ["runs", "signals", "events", "llm_calls", "positions", "orders", "fills"] {
            sql += "SELECT setval(pg_get_serial_sequence('tradejob_\(account).\(table)', 'id'), COALESCE((SELECT MAX(id) FROM tradejob_\(account).\(table)), 0) + 1, false); "
        }
        _ = try sqlite(sql)
    }

    /// The stored next run time (RFC 3339).
    func nextRun() throws -> String {
        if account != nil {
            // A PostgreSQL state's schedule: the newest scheduled run.
            let ms = try sqlite("SELECT next_run_at FROM runs WHERE next_run_at IS NOT NULL ORDER BY id DESC LIMIT 1")
            guard let value = Int64(ms) else { throw HarnessError(message: "no next run stored") }
            let date = Date(timeIntervalSince1970: Double(value) / 1000)
            let f = ISO8601DateFormatter()
            f.timeZone = TimeZone(identifier: "UTC")
            return f.string(from: date)
        }
        return try String(contentsOfFile: stateDir + "/next_run", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
