import Foundation
import Testing
@testable import PostgresStorage
import Settings

/// What every session starts with, what a read sees, and whose run lock `status` finds — against the test server.
@Suite(.enabled(if: PostgresTestServer.available, PostgresTestServer.skipNote), .serialized)
struct PostgresSessionTests {
    static func show(_ state: PostgresState, _ setting: String, readOnly: Bool = true) throws -> String {
        try state.transaction(readOnly: readOnly) { ledger in
            try ledger.session.query("SHOW \(setting)").first?.text(setting, table: "SHOW") ?? ""
        }
    }

    /// Keepalives end the session of a client whose machine is gone (and so free its run lock) within about a minute;
    /// no statement or open transaction waits for ever.
    @Test func everySessionStartsWithItsTimeoutsAndKeepalives() throws {
        let account = PostgresTestServer.freshAccount("settings")
        defer { PostgresTestServer.drop(account: account) }
        let state = try PostgresTestServer.open(account: account)
        defer { state.close() }
        #expect(try Self.show(state, "statement_timeout") == "1min")
        #expect(try Self.show(state, "idle_in_transaction_session_timeout") == "2min")
        // Over loopback TCP the server applies them to the socket (on a Unix socket it would show 0).
        #expect(try Self.show(state, "tcp_keepalives_idle") == "30")
        #expect(try Self.show(state, "tcp_keepalives_interval") == "10")
        #expect(try Self.show(state, "tcp_keepalives_count") == "3")
        #expect(try Self.show(state, "application_name") == "tradejob:" + account)
    }

    /// A read is one snapshot (as SQLite's reads are); a write is the default isolation.
    @Test func aReadIsOneSnapshot() throws {
        let account = PostgresTestServer.freshAccount("snapshot")
        defer { PostgresTestServer.drop(account: account) }
        let state = try PostgresTestServer.open(account: account)
        defer { state.close() }
        let other = try PostgresTestServer.open(account: account)
        defer { other.close() }
        #expect(try Self.show(state, "transaction_isolation") == "repeatable read")
        #expect(try Self.show(state, "transaction_isolation", readOnly: false) == "read committed")
        // A commit by another session between two statements of one read is not seen by the second.
        let (before, after) = try state.transaction(readOnly: true) { ledger -> (String?, String?) in
            let before = try ledger.jobState("seen")
            try other.writeNow { try $0.setJobState("seen", "1") }
            return (before, try ledger.jobState("seen"))
        }
        #expect(before == nil && after == nil)
        #expect(try state.transaction(readOnly: true) { try $0.jobState("seen") } == "1")
    }

    /// `status` and the exit-75 message look for the run lock in this database only: the same account in another
    /// database on the same server (staging beside production) holds a lock of its own.
    @Test func theRunLockOfTheSameAccountInAnotherDatabaseIsNotThisOne() throws {
        guard let url = PostgresTestServer.url else { return }
        let account = PostgresTestServer.freshAccount("otherdb")
        let otherDatabase = "tradejob_other_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let here = try PostgresTestServer.open(account: account)
        defer { here.close(); PostgresTestServer.drop(account: account) }
        try here.transaction(readOnly: false) { _ in }  // the schema exists
        // CREATE DATABASE cannot run in a transaction block: on the session directly.
        try here.session.execute("CREATE DATABASE \(otherDatabase)")
        defer { try? here.session.execute("DROP DATABASE IF EXISTS \(otherDatabase) WITH (FORCE)") }
        // The same URL with the other database (the path after the last `/`, before any `?`).
        guard let slash = url.lastIndex(of: "/") else { Issue.record("no database in \(url)"); return }
        let query = url[slash...].firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let otherURL = String(url[...slash]) + otherDatabase + query
        let there = try PostgresState(address: try PostgresAddress(url: otherURL, account: account), password: PostgresTestServer.password,
                                      now: 1_700_000_000_000)
        defer { there.close() }
        #expect(there.address.database == otherDatabase)
        #expect(try there.tryRunLock())
        #expect(try there.runLockHeld())
        #expect(try !here.runLockHeld())
        #expect(here.runLockHolder() == "holder unknown")
        // And this database's own lock is still free to take.
        #expect(try here.tryRunLock())
        #expect(try here.runLockHeld())
    }

    /// A connection the settings cannot make — no password where the server asks for one, a certificate that fails
    /// verification — is the configuration's problem (exit 78), not an unreachable server (exit 69, tried again).
    @Test func aConnectionTheSettingsCannotMakeIsAConfigurationProblem() throws {
        guard let url = PostgresTestServer.url else { return }
        let account = PostgresTestServer.freshAccount("refused")
        let address = try PostgresAddress(url: url, account: account)
        #expect(address.password == nil, "the test URL carries no password (it comes from TRADEJOB_TEST_POSTGRES_PASSWORD)")
        do {
            _ = try PostgresState(address: address, password: nil, now: 0)
            Issue.record("connected without a password")
        } catch let error as PostgresStateError {
            #expect(error.kind == .refused, "\(error)")
        }
        // The server's certificate (Debian's self-signed one, or none at all) does not pass verify-full.
        let strict = try PostgresAddress(url: url + (url.contains("?") ? "&" : "?") + "sslmode=verify-full", account: account)
        do {
            _ = try PostgresState(address: strict, password: PostgresTestServer.password, now: 0)
            Issue.record("verify-full passed against the test server")
        } catch let error as PostgresStateError {
            #expect(error.kind == .refused, "\(error)")
        }
    }

    /// Only `run`, `migrate`, `migrate-state` and `safe-mode enter` upgrade an older schema; the commands that read
    /// refuse it untouched (a new account's schema is still created: there is nothing to upgrade).
    @Test func aCommandThatReadsNeverUpgradesASchema() throws {
        #expect(PostgresSchema.refusedUpgrade(applied: ["v1"], known: ["v1", "v2", "v3"], upgrades: false) == ["v2", "v3"])
        #expect(PostgresSchema.refusedUpgrade(applied: ["v1"], known: ["v1", "v2"], upgrades: true) == nil)
        #expect(PostgresSchema.refusedUpgrade(applied: [], known: ["v1", "v2"], upgrades: false) == nil)
        #expect(PostgresSchema.refusedUpgrade(applied: ["v1", "v2"], known: ["v1", "v2"], upgrades: false) == nil)
        // Against the server: a reading open of a new account creates its schema at this version, as `run` would.
        let account = PostgresTestServer.freshAccount("reader")
        defer { PostgresTestServer.drop(account: account) }
        let reader = try PostgresState(address: try PostgresTestServer.address(account: account), password: PostgresTestServer.password,
                                       now: 0, upgrades: false)
        defer { reader.close() }
        #expect(reader.appliedMigrations == PostgresSchema.migrations.map(\.0))
        #expect(try reader.transaction(readOnly: true) { try $0.lastConfigHash() } == nil)
    }
}
