import Foundation
import PostgresStorage
import Settings

/// The PostgreSQL server the tests use: `TRADEJOB_TEST_POSTGRES_URL` (`.ci/run` starts Debian's server on loopback and
/// sets it, with the password in `TRADEJOB_TEST_POSTGRES_PASSWORD`). Without it these tests are skipped, saying so.
enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["TRADEJOB_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let password = ProcessInfo.processInfo.environment["TRADEJOB_TEST_POSTGRES_PASSWORD"]
    static let available = url != nil
    static let skipNote: Comment = "TRADEJOB_TEST_POSTGRES_URL is not set: no PostgreSQL server for these tests (.ci/run starts one)"

    /// A fresh account name, unique to this test process.
    static func freshAccount(_ stem: String) -> String {
        "t_\(stem)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
    }

    static func address(account: String) throws -> PostgresAddress {
        guard let url else { throw PostgresStateError(message: "no test server") }
        return try PostgresAddress(url: url, account: account)
    }

    static func open(account: String, now: Int64 = 1_700_000_000_000) throws -> PostgresState {
        try PostgresState(address: try address(account: account), password: password, now: now)
    }

    /// Drops the account's schema and registration.
    static func drop(account: String) {
        guard let state = try? open(account: "cleanup") else { return }
        defer { state.close() }
        _ = try? state.dropAccount(account)
    }
}

import Testing
