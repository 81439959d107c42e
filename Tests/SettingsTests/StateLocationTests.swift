import Testing
import Settings

/// `state.url` and `state.account`: what parses, what is refused, and that no message or redacted form shows a password.
struct StateLocationTests {
    @Test func aFullURLParses() throws {
        let a = try PostgresAddress(url: "postgresql://job%40ops:p%3Ass@db.example.org:6432/trading%2Dstate?sslmode=verify-full", account: "main_1")
        #expect(a.user == "job@ops")
        #expect(a.password == "p:ss")
        #expect(a.host == "db.example.org")
        #expect(a.port == 6432)
        #expect(a.database == "trading-state")
        #expect(a.tls == .verifyFull)
        #expect(a.schema == "tradejob_main_1")
        #expect(a.redacted == "postgres://job@ops:***@db.example.org:6432/trading-state?sslmode=verify-full")
        let plain = try PostgresAddress(url: "postgres://tradejob@[::1]/tradejob", account: "default")
        #expect(plain.host == "::1" && plain.port == 5432 && plain.password == nil && plain.tls == .disable)
        #expect(plain.redacted == "postgres://tradejob@::1:5432/tradejob")
    }

    @Test(arguments: [
        ("mysql://u@h/d", "expected a postgres:// URL"),
        ("postgres://u@h", "no database"),
        ("postgres://h/d", "no user"),
        ("postgres://u:secret@h:99999/d", "a port from 1 to 65535"),
        ("postgres://u:secret@/d", "no host"),
        ("postgres://u:secret@h/d?sslmode=prefer", "sslmode disable, require or verify-full"),
        ("postgres://u:secret@h/d?application_name=x", "no query parameter but sslmode"),
    ])
    func aBadURLIsNamedWithoutItsPassword(url: String, expected: String) {
        do {
            _ = try PostgresAddress(url: url, account: "main")
            Issue.record("accepted \(url)")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix("state.url: got "), "\(text)")
            #expect(text.contains(expected), "\(text)")
            #expect(!text.contains("secret"), "\(text)")
        }
    }

    @Test(arguments: ["", "Main", "1abc", "a-b", "a b", String(repeating: "a", count: 41), "ä"])
    func aBadAccountIsRefused(account: String) {
        #expect(!PostgresAddress.isValidAccount(account))
        #expect(throws: StateURLProblem.self) { try PostgresAddress(url: "postgres://u@h/d", account: account) }
    }

    /// A URL that does not parse is quoted in the message without what may be its password, whatever is wrong with it.
    @Test(arguments: ["tradejob:hunter2@db/tradejob", "postgres:/u:hunter2@db/x", "postgres//u:hunter2@db/x",
                      "postgres://u:hunter2@db:notaport/x", "mysql://u:hunter2@db/x", "u:pa/hunter2@db"])
    func aURLThatDoesNotParseNeverShowsItsPassword(url: String) {
        do {
            _ = try PostgresAddress(url: url, account: "main")
            Issue.record("\(url) parsed")
        } catch {
            #expect("\(error)".contains("state.url"))
            #expect(!"\(error)".contains("hunter2"), "\(error)")
        }
    }

    @Test func theLoaderChecksStateKeysAndRedactsTheURL() throws {
        let bad = #"{"state": {"url": "postgres://u:hunter2@h/d?sslmode=maybe", "account": "x"}}"#
        #expect(throws: ConfigError.self) { try ConfigLoader.resolve(data: Data(bad.utf8), file: "c.json", environment: [:]) }
        do {
            _ = try ConfigLoader.resolve(data: Data(bad.utf8), file: "c.json", environment: [:])
        } catch {
            #expect("\(error)".contains("state.url"))
            #expect(!"\(error)".contains("hunter2"))
        }
        let badAccount = #"{"state": {"account": "No"}}"#
        #expect(throws: ConfigError.self) { try ConfigLoader.resolve(data: Data(badAccount.utf8), file: "c.json", environment: [:]) }
        let good = #"{"state": {"url": "postgres://u:hunter2@h/d", "account": "main"}}"#
        let config = try ConfigLoader.resolve(data: Data(good.utf8), file: "c.json", environment: [:])
        #expect(!ConfigDocument.effective(config).contains("hunter2"))
    }
}

import Foundation
