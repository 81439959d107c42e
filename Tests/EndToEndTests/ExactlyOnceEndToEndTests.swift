import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// The real binary recovering from what a crash or a lost database leaves behind, against the paper broker and the
/// fake Binance.
@Suite("Exactly-once recovery", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct ExactlyOnceEndToEndTests {
    /// A killed run shows as crashed (not running) in `status`, and the temporary files of dead processes go at the
    /// next run.
    @Test func aKilledRunShowsAsCrashedAndItsTemporaryFilesAreRemoved() throws {
        let h = try Harness()
        defer { h.remove() }
        let killed = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: ["TRADEJOB_FAILPOINT": "after-write-ahead"])
        #expect(killed.code == 137)
        let status = try h.json(try h.run(["status", "--json"]).stdout)
        #expect((status["last_run"] as? [String: Any])?["outcome"] as? String == "crashed", "\(status)")
        #expect(status["cycle_in_progress"] as? Bool == false)
        #expect(try h.run(["status"]).stdout.contains("crashed (the process died"))

        // A temporary file left by a process that no longer exists (a child that has exited), and one of a live one.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let stale = h.stateDir + "/.next_run.tmp-\(child.processIdentifier)"
        let live = h.stateDir + "/metrics/.tradejob.prom.tmp-\(getpid())"
        try FileManager.default.createDirectory(atPath: h.stateDir + "/metrics", withIntermediateDirectories: true)
        for path in [stale, live] { #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8))) }
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(!FileManager.default.fileExists(atPath: stale), "the dead process's file is gone")
        #expect(FileManager.default.fileExists(atPath: live), "a live process's file is left alone")
        let after = try h.json(try h.run(["status", "--json"]).stdout)
        #expect((after["last_run"] as? [String: Any])?["outcome"] as? String == "ok")
        #expect(try PaperInvariants.read(h).holds)
    }

    /// `status` sees a cycle that holds the run lock (here, this test process) from the kernel's lock table, and not once
    /// it is let go.
    @Test(.enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote)) func statusSeesTheRunLockHeld() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let fd = open(h.stateDir + "/tradejob.lock", O_RDWR | O_CLOEXEC)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let held = try h.json(try h.run(["status", "--json"]).stdout)
        #expect(held["cycle_in_progress"] as? Bool == true, "\(held)")
        #expect(held["state"] as? String == "RUNNING")
        flock(fd, LOCK_UN)
        let free = try h.json(try h.run(["status", "--json"]).stdout)
        #expect(free["cycle_in_progress"] as? Bool == false, "\(free)")
    }

    /// Live equity after the run's own purchases counts them once: never above what the account is worth.
    @Test func liveEquityCountsTheRunsPurchasesOnce() throws {
        let fake = BinanceLiveEndToEndTests.exchange()
        defer { fake.stop() }
        let h = try Harness(config: BinanceLiveEndToEndTests.config(baseURL: fake.baseURL))
        defer { h.remove() }
        #expect(try h.run(["run"], environment: BinanceLiveEndToEndTests.liveEnvironment).code == 0)
        #expect(fake.orders.contains { $0.status == "FILLED" }, "the run bought something")
        var worth: Decimal = fake.balance("USDT").free + fake.balance("USDT").locked
        for symbol in BinanceLiveEndToEndTests.symbols {
            let base = String(symbol.dropLast(4))
            worth += (fake.balance(base).free + fake.balance(base).locked) * (fake.currentPrice(symbol: symbol) ?? 0)
        }
        let equity = MoneyColumn.decimal(try h.sqlite("SELECT equity FROM equity ORDER BY time DESC, run_id DESC LIMIT 1"))
        let peak = try #require(Decimal(string: try h.sqlite("SELECT value FROM job_state WHERE key = 'equity.peak'")))
        #expect(equity <= worth + Decimal(string: "0.000001")!, "equity \(equity) vs the account's worth \(worth)")
        #expect(peak <= 10_000, "the stored peak \(peak) is not inflated")
        #expect(equity > 9_900, "equity \(equity): the purchases are counted (less fees)")
    }

    /// Sends a market order to the fake venue as "this job" did before its database was lost.
    static func bookAtVenue(_ fake: FakeBinance, side: String, quantity: String, clientOrderID: String) async throws {
        let query = "symbol=BTCUSDT&side=\(side)&type=MARKET&quantity=\(quantity)&newClientOrderId=\(clientOrderID)&timestamp=\(fake.serverTimeMs)"
        var request = URLRequest(url: fake.baseURL.appendingPathComponent("api/v3/order"))
        request.httpMethod = "POST"
        request.setValue(BinanceLiveEndToEndTests.apiKey, forHTTPHeaderField: "X-MBX-APIKEY")
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data((query + "&signature=" + fake.sign(query)).utf8)
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(side) \(clientOrderID) booked")
    }

    /// An order of this job that the database does not know (a state restored from an older copy) is adopted from the
    /// venue's trades, and its coins are sold.
    @Test func anUnknownTjOrderAtTheVenueIsAdoptedAndSold() async throws {
        let fake = BinanceLiveEndToEndTests.exchange()
        defer { fake.stop() }
        // Booked at the venue by "this job" before the database was lost.
        try await Self.bookAtVenue(fake, side: "BUY", quantity: "0.01", clientOrderID: "tj-77-en0-a1")
        #expect(fake.balance("BTC").free > 0)

        // Entries off: only the adoption trades.
        let config = BinanceLiveEndToEndTests.config(baseURL: fake.baseURL, extra: ["strategy": ["min_confidence": 0.99, "exit_confidence": 1.0]])
        let h = try Harness(config: config)
        defer { h.remove() }
        let r = try h.run(["run"], environment: BinanceLiveEndToEndTests.liveEnvironment)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try h.sqlite("SELECT status FROM orders WHERE client_order_id = 'tj-77-en0-a1'") == "FILLED", "the order is known with the venue's status")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'order_adopted'") == "1")
        let positions = try h.sqlite("SELECT state || ' ' || exit_reason FROM positions")
        let events = try h.sqlite("SELECT kind || ': ' || message FROM events WHERE kind NOT IN ('fill', 'decision')")
        #expect(positions == "CLOSED adopted", "\(positions); \(events)")
        let sold = fake.orders.filter { $0.side == "SELL" }
        #expect(sold.count == 1 && sold.first?.status == "FILLED", "its coins were sold once")
        let dust = try h.sqlite("SELECT data FROM events WHERE kind = 'dust'").split(separator: "\n")
            .reduce(Decimal(0)) { $0 + (Decimal(string: ((try? h.json(String($1)))?["quantity"] as? String) ?? "") ?? .nan) }
        #expect(fake.balance("BTC").free + fake.balance("BTC").locked == dust, "no coins left but recorded dust")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'unexplained_trade'") == "0")
    }

    /// A lost position whose entry and exit are both at the venue (a fresh database learns the whole trade history):
    /// both orders are taken in under one position, which the exit closes. Nothing is sold again, and no position is
    /// left holding coins the account no longer has.
    @Test func aLostPositionsEntryAndExitAreAdoptedTogether() async throws {
        let fake = BinanceLiveEndToEndTests.exchange()
        defer { fake.stop() }
        let before = fake.balance("BTC").free + fake.balance("BTC").locked
        try await Self.bookAtVenue(fake, side: "BUY", quantity: "0.01", clientOrderID: "tj-77-en0-a1")
        // The buy's fee was taken in BTC: the exit sold what was left.
        try await Self.bookAtVenue(fake, side: "SELL", quantity: "0.00999", clientOrderID: "tj-77-ex0-a1")
        #expect(fake.balance("BTC").free + fake.balance("BTC").locked == before, "bought and sold at the venue")

        let config = BinanceLiveEndToEndTests.config(baseURL: fake.baseURL, extra: ["strategy": ["min_confidence": 0.99, "exit_confidence": 1.0]])
        let h = try Harness(config: config)
        defer { h.remove() }
        // A second run: nothing left to sell then either.
        for _ in 0..<2 {
            let r = try h.run(["run"], environment: BinanceLiveEndToEndTests.liveEnvironment)
            #expect(r.code == 0, "\(r.stderr)")
        }
        let events = try h.sqlite("SELECT kind || ': ' || message FROM events WHERE kind NOT IN ('fill', 'decision')")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind = 'order_adopted'") == "2", "\(events)")
        #expect(try h.sqlite("SELECT COUNT(DISTINCT position_id) FROM orders") == "1", "one position for both orders; \(events)")
        #expect(try h.sqlite("SELECT state || ' ' || exit_reason || ' ' || quantity FROM positions") == "CLOSED adopted 0", "\(events)")
        #expect(fake.orders.filter { $0.side == "SELL" }.count == 1, "only the lost position's own exit: nothing sold again")
        #expect(try h.sqlite("SELECT COUNT(*) FROM events WHERE kind IN ('unexplained_trade', 'unexplained_balance')") == "0", "\(events)")
    }
}
