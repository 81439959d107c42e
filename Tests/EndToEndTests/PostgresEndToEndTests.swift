import Foundation
import Testing
import TestSupport
import PostgresStorage
import Settings

/// The test server (`TRADEJOB_TEST_POSTGRES_URL`, see `.ci/postgres`) as the binary and `psql` reach it.
enum PostgresServer {
    static let url = ProcessInfo.processInfo.environment["TRADEJOB_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let password = ProcessInfo.processInfo.environment["TRADEJOB_TEST_POSTGRES_PASSWORD"] ?? ""
    static let available = url != nil && Harness.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/psql")
    static let skipNote: Comment = "no PostgreSQL test server (TRADEJOB_TEST_POSTGRES_URL, set by .ci/postgres), psql or tradejob binary"

    static func freshAccount(_ stem: String) -> String { "e_\(stem)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))" }

    /// A config on the account (simulated market, paper broker: the default otherwise), plus `extra` top-level JSON members.
    static func config(account: String, extra: String = "") -> String {
        "{\"state\": {\"url\": \"\(url ?? "")\", \"account\": \"\(account)\"}\(extra.isEmpty ? "" : ", " + extra)}"
    }

    static var environment: [String: String] { ["TRADEJOB_STATE_PASSWORD": password] }

    /// `psql` on the account's schema: rows as `|`-separated lines.
    static func psql(_ sql: String, account: String) throws -> String {
        guard let url else { throw HarnessError(message: "no test server") }
        let address = try PostgresAddress(url: url, account: account)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-X", "-qAt", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", address.host, "-p", "\(address.port)", "-U", address.user,
                             "-d", address.database, "-c", "SET search_path TO \(address.schema)", "-c", sql]
        process.environment = ["PGPASSWORD": password, "PATH": "/usr/bin:/bin"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problem = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError(message: "psql: \(String(decoding: problem, as: UTF8.self))") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func drop(account: String) {
        _ = try? psql("DROP SCHEMA IF EXISTS tradejob_\(account) CASCADE; DELETE FROM public.tradejob_accounts WHERE account = '\(account)'", account: account)
    }

    /// The next run a summary names (`next run 2024-03-01T00:15:15Z (…`).
    static func nextRun(_ summary: String) -> String? {
        summary.split(separator: "\n").first { $0.hasPrefix("next run ") }.map { String($0.dropFirst("next run ".count).prefix(20)) }
    }
}

/// The real binary on a PostgreSQL state: the same cycles as on SQLite (every stored money value equal), one cycle
/// however many start at once, a crash after any commit recovered by the next run with the lock released by the server,
/// and the documented exit codes.
@Suite("PostgreSQL state end to end", .enabled(if: PostgresServer.available, PostgresServer.skipNote), .serialized)
struct PostgresEndToEndTests {
    /// The tables compared between the backends (booleans as 0/1, rows in key order). Money columns are raw integers.
    static let comparedTables: [(String, String)] = [
        ("runs", "SELECT id, started_at, ended_at, outcome, interval_seconds, next_run_at, symbols_analysed, symbols_failed, summary FROM runs ORDER BY id"),
        ("positions", "SELECT id, symbol, state, quantity, entry_price, initial_entry_price, cost, stop_price, take_profit_price, highest_price, adjustments, CASE WHEN partial_take_profit_done THEN 1 ELSE 0 END, opened_at, last_checked_candle, closed_at, exit_price, exit_reason, realized_pnl, fees FROM positions ORDER BY id"),
        ("orders", "SELECT id, client_order_id, run_id, position_id, symbol, side, purpose, leg, attempt, quantity, price, status, venue_order_id, filled_quantity, average_price, reason, created_at, updated_at FROM orders ORDER BY id"),
        ("fills", "SELECT client_order_id, trade_id, symbol, side, quantity, price, fee, fee_asset, time, run_id FROM fills ORDER BY id"),
        ("wallet", "SELECT asset, free, locked FROM wallet ORDER BY asset"),
        ("equity", "SELECT time, run_id, equity, cash, CASE WHEN safe_mode THEN 1 ELSE 0 END FROM equity ORDER BY time, run_id"),
        ("paper_orders", "SELECT client_order_id, symbol, side, status, quantity, price, fee, fee_asset, trade_id, time FROM paper_orders ORDER BY client_order_id"),
        ("events", "SELECT run_id, time, kind, symbol, message FROM events ORDER BY id"),
        ("signals", "SELECT run_id, symbol, candle_time, direction, components, indicators, patterns FROM signals ORDER BY id"),
        ("job_state", "SELECT key, value FROM job_state ORDER BY key"),
        ("candles", "SELECT COUNT(*), SUM(open_time) FROM candles"),
    ]

    static func sqliteQuery(_ sql: String) -> String {
        sql.replacingOccurrences(of: "CASE WHEN partial_take_profit_done THEN 1 ELSE 0 END", with: "partial_take_profit_done")
            .replacingOccurrences(of: "CASE WHEN safe_mode THEN 1 ELSE 0 END", with: "safe_mode")
    }

    @Test func theCyclesOnPostgreSQLStoreWhatTheyStoreOnSQLite() throws {
        let account = PostgresServer.freshAccount("same")
        defer { PostgresServer.drop(account: account) }
        let onSQLite = try Harness(config: "{}", onSQLite: true), onPostgres = try Harness(config: PostgresServer.config(account: account))
        defer { onSQLite.remove(); onPostgres.remove() }
        var now = "2024-03-01T00:00:15Z"
        var orders = 0
        for _ in 0..<40 {
            let a = try onSQLite.run(["run", "--now", now]), b = try onPostgres.run(["run", "--now", now], environment: PostgresServer.environment)
            #expect(a.code == 0 && b.code == 0, "\(a.stderr) \(b.stderr)")
            #expect(a.stdout == b.stdout)
            guard a.code == 0, b.code == 0, let next = PostgresServer.nextRun(a.stdout) else { break }
            orders += a.stdout.contains("orders: 0") ? 0 : 1
            now = next
        }
        #expect(orders >= 3, "the runs traded (entries and exits to compare)")
        for (table, sql) in Self.comparedTables {
            let sqlite = try onSQLite.sqlite(Self.sqliteQuery(sql)), postgres = try PostgresServer.psql(sql, account: account)
            #expect(sqlite == postgres, "table \(table) differs")
            #expect(!postgres.isEmpty, "table \(table) has rows")
        }
    }

    @Test func fiftyRunsStartedAtOnceMakeExactlyOneCycle() throws {
        let account = PostgresServer.freshAccount("fifty")
        defer { PostgresServer.drop(account: account) }
        let h = try Harness(config: PostgresServer.config(account: account))
        defer { h.remove() }
        // Each process has its own scratch directory: only the database is shared, as with pods on different nodes.
        let processes = try (0..<50).map { k in
            try h.start(["run", "--if-due", "--now", "2024-03-01T00:00:15Z", "--config", h.configPath, "--state-dir", h.stateDir + "-\(k)"],
                        environment: PostgresServer.environment, addPaths: false)
        }
        let results = processes.map { $0.wait() }
        let cycles = results.filter { $0.code == 0 && $0.stdout.hasPrefix("run 1 ok") }.count
        let locked = results.filter { $0.code == 75 }.count
        let notDue = results.filter { $0.code == 0 && $0.stdout.hasPrefix("not due") }.count
        print("50 concurrent runs on one PostgreSQL state: \(cycles) cycle, \(locked) found the lock held (exit 75), \(notDue) not due")
        #expect(cycles == 1)
        #expect(cycles + locked + notDue == 50, "\(results.filter { $0.code != 0 && $0.code != 75 }.map(\.stderr))")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM runs", account: account) == "1")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM schema_migrations", account: account) == "\(PostgresSchema.count)")
        if locked > 0 {
            let message = results.first(where: { $0.code == 75 }).map(\.stderr) ?? ""
            #expect(message.contains("holds the run lock of account \(account)"), "\(message)")
            #expect(!message.contains(PostgresServer.password), "the password never shows")
        }
    }

    @Test func aCrashAfterAnyCommitIsRecoveredByTheNextRunWithTheLockReleased() throws {
        // A reference: the first cycles without a crash, up to the first one that places an order.
        let reference = PostgresServer.freshAccount("ref")
        defer { PostgresServer.drop(account: reference) }
        let r = try Harness(config: PostgresServer.config(account: reference))
        defer { r.remove() }
        let first = try r.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: PostgresServer.environment)
        #expect(first.code == 0 && first.stdout.contains("orders: 1"), "the first cycle enters a position: \(first.stdout)")
        var figures: [String] = []
        var k = 1
        while k <= 60 {
            let account = PostgresServer.freshAccount("crash\(k)")
            defer { PostgresServer.drop(account: account) }
            let h = try Harness(config: PostgresServer.config(account: account))
            defer { h.remove() }
            var environment = PostgresServer.environment
            environment["TRADEJOB_CRASH_AFTER_COMMIT"] = "\(k)"
            let crashed = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: environment)
            if crashed.code == 0 { break }  // the cycle has fewer than k commits: every one was tried
            #expect(crashed.code == 137, "killed after commit \(k): \(crashed.stderr)")
            // The server released the dead process's advisory lock: the next run takes it and finishes the work.
            let again = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: PostgresServer.environment)
            #expect(again.code == 0, "after a crash at commit \(k): \(again.stderr)")
            #expect(try PostgresServer.psql("SELECT COUNT(*) FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN', 'NEW', 'PARTIALLY_FILLED')", account: account) == "0")
            for sql in ["SELECT asset, free FROM wallet ORDER BY asset", // (The run after the crash is a second cycle: it may have moved the position on from OPEN to MONITORING.)
                        "SELECT symbol, CASE WHEN state IN ('OPEN', 'MONITORING') THEN 'HELD' ELSE state END, quantity, cost FROM positions WHERE state != 'CLOSED' ORDER BY symbol",
                        "SELECT symbol, side, quantity, price, fee FROM fills ORDER BY symbol, side"] {
                let got = try PostgresServer.psql(sql, account: account), expected = try PostgresServer.psql(sql, account: reference)
                #expect(got == expected, "after a crash at commit \(k): \(sql)")
            }
            figures.append("\(k)")
            k += 1
        }
        print("PostgreSQL state: killed after each of commits 1–\(k - 1) of a first cycle with an entry; every next run exited 0 with the lock free, wallet, positions and fills equal to the uncrashed run")
        #expect(k > 5, "the cycle commits several times")
    }

    @Test func exitCodesNameTheProblemWithoutThePassword() throws {
        let account = PostgresServer.freshAccount("codes")
        defer { PostgresServer.drop(account: account) }
        let h = try Harness(config: PostgresServer.config(account: account))
        defer { h.remove() }
        let wrong = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: ["TRADEJOB_STATE_PASSWORD": "not-the-password"])
        #expect(wrong.code == 78, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
        // Nothing listens on port 1.
        let address = try PostgresAddress(url: try #require(PostgresServer.url), account: account)
        let unreachable = try Harness(config: "{\"state\": {\"url\": \"postgres://\(address.user):secret-in-url@127.0.0.1:1/\(address.database)\", \"account\": \"\(account)\"}}")
        defer { unreachable.remove() }
        let down = try unreachable.run(["run", "--now", "2024-03-01T00:00:15Z"])
        #expect(down.code == 69, "\(down.stderr)")
        #expect(down.stderr.contains("postgres://\(address.user):***@127.0.0.1:1/"), "\(down.stderr)")
        #expect(!down.stderr.contains("secret-in-url"))
        // The password from a mounted secret file.
        let file = h.root.appendingPathComponent("password").path
        try (PostgresServer.password + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: ["TRADEJOB_STATE_PASSWORD_FILE": file])
        #expect(fromFile.code == 0, "\(fromFile.stderr)")
        // The lock held by another session: exit 75, the holder named.
        let holder = try PostgresState(address: address, password: PostgresServer.password, now: 0)
        defer { holder.close() }
        #expect(try holder.tryRunLock())
        let held = try h.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: PostgresServer.environment)
        #expect(held.code == 75, "\(held.stderr)")
        #expect(held.stderr.contains("server process"), "\(held.stderr)")
        let status = try h.run(["status", "--json"], environment: PostgresServer.environment)
        #expect(try h.json(status.stdout)["cycle_in_progress"] as? Bool == true, "\(status.stdout) \(status.stderr)")
        holder.close()
        let free = try h.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: PostgresServer.environment)
        #expect(free.code == 0, "\(free.stderr)")
        // The commands read the PostgreSQL state too.
        let history = try h.run(["history", "--format", "json"], environment: PostgresServer.environment)
        #expect(history.code == 0, "\(history.stderr)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM runs", account: account) == "2")
    }

    @Test func migrateStateCopiesEveryValueAndTheCopyTradesOnAsTheOriginal() throws {
        let account = PostgresServer.freshAccount("copy")
        defer { PostgresServer.drop(account: account) }
        let original = try Harness(config: "{}", onSQLite: true)
        defer { original.remove() }
        var now = "2024-03-01T00:00:15Z"
        for _ in 0..<25 {
            let r = try original.run(["run", "--now", now])
            guard r.code == 0, let next = PostgresServer.nextRun(r.stdout) else { Issue.record("\(r.stderr)"); return }
            now = next
        }
        let url = try #require(PostgresServer.url)
        let copy = try original.run(["migrate-state", "--from", "sqlite", original.stateDir, "--to", "postgres", url, "--account", account],
                                    environment: PostgresServer.environment, addPaths: false)
        #expect(copy.code == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("every one equal"), "\(copy.stdout)")
        print(copy.stdout.split(separator: "\n").last.map(String.init) ?? "")
        for (table, sql) in Self.comparedTables {
            #expect(try original.sqlite(Self.sqliteQuery(sql)) == (try PostgresServer.psql(sql, account: account)), "table \(table) differs after the copy")
        }
        // Money columns compared as raw integers, every row.
        for sql in ["SELECT id, quantity, entry_price, cost, realized_pnl, fees FROM positions ORDER BY id", "SELECT client_order_id, quantity, filled_quantity, average_price FROM orders ORDER BY id",
                    "SELECT trade_id, quantity, price, fee FROM fills ORDER BY id", "SELECT asset, free FROM wallet ORDER BY asset", "SELECT time, equity, cash FROM equity ORDER BY time"] {
            #expect(try original.sqlite(sql) == (try PostgresServer.psql(sql, account: account)))
        }
        // Copying again into the same account is refused.
        let again = try original.run(["migrate-state", "--from", "sqlite", original.stateDir, "--to", "postgres", url, "--account", account],
                                     environment: PostgresServer.environment, addPaths: false)
        #expect(again.code == 64 && again.stderr.contains("already holds a state"), "\(again.stderr)")
        // The copy trades on exactly as the original does.
        let onPostgres = try Harness(config: PostgresServer.config(account: account))
        defer { onPostgres.remove() }
        let sameConfig = try Harness(config: "{}", onSQLite: true)
        defer { sameConfig.remove() }
        for _ in 0..<10 {
            let a = try original.run(["run", "--now", now]), b = try onPostgres.run(["run", "--now", now], environment: PostgresServer.environment)
            #expect(a.code == 0 && b.code == 0 && a.stdout == b.stdout, "\(a.stdout)\n---\n\(b.stdout)\n\(b.stderr)")
            guard let next = PostgresServer.nextRun(a.stdout) else { break }
            now = next
        }
    }

    @Test func anUnreadableSafeModeRowHoldsSafeModeUntilCleared() throws {
        let account = PostgresServer.freshAccount("safe")
        defer { PostgresServer.drop(account: account) }
        let h = try Harness(config: PostgresServer.config(account: account))
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: PostgresServer.environment).code == 0)
        _ = try PostgresServer.psql("INSERT INTO state_files (name, content, updated_at) VALUES ('safe_mode.lock', '{not json', 0)", account: account)
        let held = try h.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: PostgresServer.environment)
        #expect(held.code == 0 && held.stdout.contains("SAFE MODE"), "\(held.stdout) \(held.stderr)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM positions WHERE state != 'CLOSED'", account: account) == "0", "safe mode closed every position")
        let status = try h.run(["safe-mode", "status"], environment: PostgresServer.environment)
        #expect(status.stdout.contains("unreadable"), "\(status.stdout)")
        let cleared = try h.run(["safe-mode", "clear"], environment: PostgresServer.environment)
        #expect(cleared.code == 0 && cleared.stdout.contains("safe mode cleared"))
        let free = try h.run(["run", "--now", "2024-03-01T00:30:15Z"], environment: PostgresServer.environment)
        #expect(free.code == 0 && !free.stdout.contains("SAFE MODE"), "\(free.stdout)")
    }

    @Test func statusAllListsEveryAccountAndMigrateRefusesANewerSchema() throws {
        let first = PostgresServer.freshAccount("alla"), second = PostgresServer.freshAccount("allb")
        defer { PostgresServer.drop(account: first); PostgresServer.drop(account: second) }
        let a = try Harness(config: PostgresServer.config(account: first)), b = try Harness(config: PostgresServer.config(account: second))
        defer { a.remove(); b.remove() }
        let migrated = try b.run(["migrate"], environment: PostgresServer.environment)
        #expect(migrated.code == 0 && migrated.stdout.contains("applied v1-state"), "\(migrated.stdout) \(migrated.stderr)")
        #expect(try b.run(["migrate"], environment: PostgresServer.environment).stdout.contains("is current"))
        #expect(try a.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: PostgresServer.environment).code == 0)
        #expect(try a.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: PostgresServer.environment).code == 0)
        #expect(try b.run(["run", "--now", "2024-03-01T00:00:15Z"], environment: PostgresServer.environment).code == 0)
        let listed = try a.run(["status", "--all", "--json"], environment: PostgresServer.environment)
        #expect(listed.code == 0, "\(listed.stderr)")
        let object = try a.json(listed.stdout)
        let accounts = (object["accounts"] as? [[String: Any]]) ?? []
        let byName = Dictionary(accounts.compactMap { entry in (entry["account"] as? String).map { ($0, entry) } }, uniquingKeysWith: { x, _ in x })
        #expect((byName[first]?["last_run"] as? [String: Any])?["id"] as? Int == 2)
        #expect((byName[second]?["last_run"] as? [String: Any])?["id"] as? Int == 1)
        #expect(!listed.stdout.contains(PostgresServer.password))
        // A schema migrated by a newer version is refused, untouched.
        _ = try PostgresServer.psql("INSERT INTO schema_migrations (identifier, applied_at) VALUES ('v99-from-the-future', 0)", account: second)
        let newer = try b.run(["run", "--now", "2024-03-01T00:15:15Z"], environment: PostgresServer.environment)
        #expect(newer.code == 70 && newer.stderr.contains("newer tradejob"), "\(newer.stderr)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM runs", account: second) == "1")
        // `status --all` still lists every account, that one with its error, and ends with its exit code.
        let partly = try a.run(["status", "--all", "--json"], environment: PostgresServer.environment)
        #expect(partly.code == 70, "\(partly.stderr)")
        let entries = ((try a.json(partly.stdout))["accounts"] as? [[String: Any]]) ?? []
        let entry = { (name: String) in entries.first { $0["account"] as? String == name } }
        #expect((entry(first)?["last_run"] as? [String: Any])?["id"] as? Int == 2, "\(partly.stdout)")
        #expect((entry(second)?["error"] as? String)?.contains("newer tradejob") == true, "\(partly.stdout)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM schema_migrations", account: second) == "\(PostgresSchema.count + 1)", "untouched")
    }

    @Test func theModelsAndNotificationsWorkOnPostgreSQLAsOnSQLite() throws {
        let account = PostgresServer.freshAccount("records")
        defer { PostgresServer.drop(account: account) }
        let models = FakeModels()
        let modelsURL = try models.start()
        defer { models.stop() }
        let hooks = try TestHTTPServer { _ in TestHTTPReply() }
        defer { hooks.stop() }
        let extra = #""strategy": {"min_confidence": 0.5}, "llm": {"enabled": true, "consult_band": 1.0, "providers": [{"name": "a", "base_url": "\#(modelsURL.absoluteString)", "model": "buyer"}, {"name": "b", "base_url": "\#(modelsURL.absoluteString)", "model": "seller"}]}, "notifications": {"webhook_url": "\#(hooks.baseURL.absoluteString)/hook", "timeout_seconds": 2}"#
        let onSQLite = try Harness(config: "{" + extra + "}", onSQLite: true), onPostgres = try Harness(config: PostgresServer.config(account: account, extra: extra))
        defer { onSQLite.remove(); onPostgres.remove() }
        var now = "2024-03-01T00:00:15Z"
        for _ in 0..<8 {
            let a = try onSQLite.run(["run", "--now", now]), b = try onPostgres.run(["run", "--now", now], environment: PostgresServer.environment)
            #expect(a.code == 0 && b.code == 0 && a.stdout == b.stdout, "\(a.stdout)\n---\n\(b.stdout)\n\(b.stderr)")
            guard let next = PostgresServer.nextRun(a.stdout) else { break }
            now = next
        }
        // (Calls run concurrently: their ids follow the order the answers came in, so rows are compared by run, symbol and provider.)
        let calls = "SELECT run_id, symbol, provider, model, status, action, CAST(ROUND(confidence * 1000000) AS INTEGER), horizon, rationale, prompt_tokens, completion_tokens, cost, cached_from IS NOT NULL FROM llm_calls ORDER BY run_id, symbol, provider, time"
        let opinions = "SELECT run_id, symbol, outcome, action, CAST(ROUND(confidence * 1000000) AS INTEGER), CAST(ROUND(agreement * 1000000) AS INTEGER) FROM llm_opinions ORDER BY run_id, symbol"
        let outbox = "SELECT key, kind, message, attempts, delivered_at IS NOT NULL FROM notifications ORDER BY key"
        for sql in [calls, opinions, outbox, "SELECT provider, consecutive_failures, open_until FROM llm_breakers ORDER BY provider"] {
            let sqlite = try onSQLite.sqlite(sql.replacingOccurrences(of: "delivered_at IS NOT NULL", with: "CASE WHEN delivered_at IS NOT NULL THEN 't' ELSE 'f' END")
                .replacingOccurrences(of: "cached_from IS NOT NULL", with: "CASE WHEN cached_from IS NOT NULL THEN 't' ELSE 'f' END"))
            let postgres = try PostgresServer.psql(sql, account: account)
            #expect(sqlite == postgres, "\(sql)")
        }
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM llm_calls", account: account) != "0", "the models were asked")
        let delivered = Int(try PostgresServer.psql("SELECT COUNT(*) FROM notifications WHERE delivered_at IS NOT NULL", account: account)) ?? 0
        #expect(delivered > 0 && hooks.requests.filter { $0.path == "/hook" }.count == 2 * delivered, "each backend delivered each notification once")
    }

    @Test func aLiveCycleOnBinanceKeepsItsVenueRecordsInPostgreSQL() throws {
        let account = PostgresServer.freshAccount("live")
        defer { PostgresServer.drop(account: account) }
        let fake = BinanceLiveEndToEndTests.exchange()
        defer { fake.stop() }
        let live = BinanceLiveEndToEndTests.config(baseURL: fake.baseURL, extra: ["state": ["url": PostgresServer.url ?? "", "account": account]])
        let h = try Harness(config: live)
        defer { h.remove() }
        let environment = BinanceLiveEndToEndTests.liveEnvironment.merging(PostgresServer.environment) { $1 }
        let first = try h.run(["run"], environment: environment)
        #expect(first.code == 0, "\(first.stderr)")
        #expect(!fake.orders.isEmpty, "the cycle placed orders: \(first.stdout)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM orders WHERE status = 'FILLED'", account: account) == "\(fake.orders.filter { $0.status == "FILLED" }.count)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM candles WHERE symbol = 'BTCUSDT'", account: account) == "120")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM venue_symbol_filters", account: account) == "2", "the exchange filters are cached")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM venue_state WHERE weight_limit IS NOT NULL", account: account) == "1", "the venue's weight state is kept")
        // The next run reconciles with the exchange and trades on from the stored state.
        let second = try h.run(["run"], environment: environment)
        #expect(second.code == 0, "\(second.stderr)")
        #expect(try PostgresServer.psql("SELECT COUNT(*) FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN')", account: account) == "0")
        let text = try PostgresServer.psql("SELECT string_agg(message || COALESCE(data, ''), ' ') FROM events", account: account)
        #expect(!text.contains(BinanceLiveEndToEndTests.secret) && !first.stderr.contains(BinanceLiveEndToEndTests.secret))
    }
}
