import Foundation
import TradingDomain

/// A PostgreSQL state (`state.url`, `state.account`): where to connect and which account's schema to use.
///
/// The URL is `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full]` (`postgresql://`
/// too; user, password and database percent-decoded). The password is best kept out of the file: the job reads it from
/// `TRADEJOB_STATE_PASSWORD_FILE` or `TRADEJOB_STATE_PASSWORD` (see `PostgresTarget`). Every text shown of it —
/// messages, logs, `status` — is `redacted`, which never holds the password.
public struct PostgresAddress: Sendable, Equatable {
    /// How the connection is encrypted (libpq's `sslmode` names; `prefer`/`allow` are not offered: they fall back to
    /// plain text without saying so).
    public enum TLSMode: String, Sendable, Equatable { case disable, require, verifyFull = "verify-full" }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// The job's account: its schema is `tradejob_<account>`.
    public var account: String

    /// The schema holding this account's state.
    public var schema: String { "tradejob_" + account }

    /// The address without its password, for messages and `status`.
    public var redacted: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)" + (tls == .disable ? "" : "?sslmode=\(tls.rawValue)")
    }

    /// An account name: 1 to 40 of `a-z`, `0-9`, `_`, starting with a letter (it becomes part of a schema name).
    public static func isValidAccount(_ account: String) -> Bool {
        guard let first = account.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), account.utf8.count <= 40 else { return false }
        return account.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    static func accountProblem(_ account: String) -> String {
        "state.account: got \(ConfigValue.quote(MessageText.shortened(account))), expected 1 to 40 lower-case letters, digits or \"_\", starting with a letter"
    }

    /// Parses `state.url`; a problem names the key and shows the URL without its password.
    public init(url: String, account: String) throws {
        func problem(_ expected: String) -> StateURLProblem {
            StateURLProblem(description: "state.url: got \(ConfigValue.quote(MessageText.shortened(Self.withoutPassword(url)))), expected \(expected)")
        }
        guard Self.isValidAccount(account) else { throw StateURLProblem(description: Self.accountProblem(account)) }
        self.account = account
        var rest = Substring(url)
        if rest.hasPrefix("postgres://") { rest = rest.dropFirst("postgres://".count) }
        else if rest.hasPrefix("postgresql://") { rest = rest.dropFirst("postgresql://".count) }
        else { throw problem("a postgres:// URL (or empty for the SQLite state)") }
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        guard let slash = rest.firstIndex(of: "/") else { throw problem("postgres://USER@HOST[:PORT]/DATABASE: no database") }
        let authority = rest[..<slash]
        guard let name = Self.percentDecoded(rest[rest.index(after: slash)...]), !name.isEmpty else { throw problem("postgres://USER@HOST[:PORT]/DATABASE: no database") }
        database = name
        guard let at = authority.lastIndex(of: "@") else { throw problem("postgres://USER@HOST[:PORT]/DATABASE: no user") }
        let credentials = authority[..<at], hostPort = authority[authority.index(after: at)...]
        let userPart = credentials.firstIndex(of: ":").map { credentials[..<$0] } ?? credentials
        guard let decodedUser = Self.percentDecoded(userPart), !decodedUser.isEmpty else { throw problem("postgres://USER@HOST[:PORT]/DATABASE: no user") }
        user = decodedUser
        if let colon = credentials.firstIndex(of: ":") {
            guard let secret = Self.percentDecoded(credentials[credentials.index(after: colon)...]) else { throw problem("a password in valid percent-encoding") }
            password = secret
        } else {
            password = nil
        }
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else { throw problem("a port from 1 to 65535") }
            host = String(hostPort[..<colon])
            port = p
        } else {
            host = String(hostPort)
            port = 5432
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw problem("postgres://USER@HOST[:PORT]/DATABASE: no host") }
        tls = .disable
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "sslmode" else { throw problem("no query parameter but sslmode=disable|require|verify-full") }
            guard let mode = TLSMode(rawValue: String(parts[1])) else { throw problem("sslmode disable, require or verify-full") }
            tls = mode
        }
    }

    /// `url` with everything between the first `:` and the last `@` replaced by `***` (for a message about a URL that
    /// did not parse), counted after `://` when there is one: `postgres://user:***@host`, and for a URL written wrong
    /// (`user:pw@host`, `postgres:/user:pw@host`) no less, so that no form shows what may be a password.
    static func withoutPassword(_ url: String) -> String {
        let after = url.range(of: "://").map { url[$0.upperBound...] } ?? url[...]
        guard let at = after.lastIndex(of: "@"), let colon = after[..<at].firstIndex(of: ":") else { return url }
        return String(url[..<url.index(after: colon)]) + "***" + String(after[at...])
    }

    static func percentDecoded(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        return String(text).removingPercentEncoding
    }
}

/// A `state.url` or `state.account` that cannot be used, named with its key (the password never shown).
public struct StateURLProblem: Error, CustomStringConvertible, Sendable {
    public let description: String
}
