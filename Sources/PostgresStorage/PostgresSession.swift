import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Settings

/// A value bound to a statement's `$n` parameter.
public enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)
    case null

    static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.int) ?? .null }
    static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    static func optional(_ value: Double?) -> SQLValue { value.map(SQLValue.double) ?? .null }
}

/// What went wrong talking to PostgreSQL: the server's SQLSTATE and message when it answered, else the connection
/// problem. Never holds the password.
public struct PostgresStateError: Error, CustomStringConvertible, Sendable {
    /// What kind of problem: the server could not be reached or the connection broke, the client cannot connect as
    /// configured (no password where the server asks for one, an authentication method or TLS it cannot do, a
    /// certificate that fails verification), the server refused a statement (`sqlState` says why), or the state is not
    /// what the command needs (a newer schema, an account already in use).
    public enum Kind: Sendable { case unreachable, refused, server, state }
    public let kind: Kind
    /// The server's SQLSTATE (e.g. `40001`), nil for a connection problem.
    public let sqlState: String?
    public let message: String
    public var description: String { "PostgreSQL state: " + message + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }

    init(_ error: any Error, target: String, sql: String? = nil) {
        if let psql = error as? PSQLError {
            sqlState = psql.serverInfo?[.sqlState]
            kind = sqlState != nil ? .server : Self.isConfigurationProblem(psql) ? .refused : .unreachable
            if let info = psql.serverInfo, let text = info[.message] {
                message = text + (info[.detail].map { "; \($0)" } ?? "") + (sql.map { " — in: \(StatementText.statement($0))" } ?? "")
            } else {
                let cause = psql.underlying.map { String(describing: $0) } ?? String(describing: psql.code)
                message = "\(target): \(cause)"
            }
        } else if error is NIOSSLError {
            kind = .refused
            sqlState = nil
            message = "\(target): TLS: \(error)"
        } else if let own = error as? PostgresStateError {
            kind = own.kind
            sqlState = own.sqlState
            message = own.message
        } else {
            kind = .unreachable
            sqlState = nil
            message = "\(target): \(error)"
        }
    }

    /// A connection that failed for the client's settings, not for the network: trying again will not help.
    static func isConfigurationProblem(_ error: PSQLError) -> Bool {
        switch error.code {
        case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError, .sslUnsupported, .failedToAddSSLHandler:
            return true
        default:
            // A TLS handshake the server's certificate failed (verify-full); a connection that broke during it (an
            // unclean shutdown, a reset) is the network's.
            if case .handshakeFailed = error.underlying as? NIOSSLError { return true }
            return error.underlying is BoringSSLError
        }
    }

    public init(message: String) {
        kind = .state
        sqlState = nil
        self.message = message
    }
}

enum StatementText {
    /// The first line of a statement, shortened (for messages).
    static func statement(_ sql: String) -> String {
        let line = sql.split(separator: "\n").first.map(String.init) ?? sql
        return line.count > 80 ? String(line.prefix(80)) + "…" : line
    }
}

/// One connection to PostgreSQL used synchronously: the ledger's calls are synchronous, so every statement waits for
/// its answer (never on the event loop's own thread). Not for concurrent use: `PostgresState` runs one transaction at a
/// time on it.
public final class PostgresSession: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    /// The address without its password (for messages).
    public let target: String
    private var closed = false

    /// One event-loop thread for every connection of the process.
    static let group = MultiThreadedEventLoopGroup.singleton

    /// Connects (and authenticates) within `timeoutSeconds`.
    /// Settings every session starts with (before its first statement, so the schema's migration has them too): no
    /// statement waits forever, a transaction left open by a client that stopped sending ends, and the server notices
    /// within about a minute that a client's machine is gone (TCP keepalives), which ends its session and so releases
    /// the run lock it held (without them the operating system's default takes two hours).
    public static let sessionSettings: [(String, String)] = [
        ("statement_timeout", "60s"), ("idle_in_transaction_session_timeout", "120s"),
        ("tcp_keepalives_idle", "30"), ("tcp_keepalives_interval", "10"), ("tcp_keepalives_count", "3"),
    ]

    public static func connect(_ address: PostgresAddress, password: String?, timeoutSeconds: Int64 = 10, applicationName: String = "tradejob") throws -> PostgresSession {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch address.tls {
            case .disable:
                tls = .disable
            case .require:
                var config = TLSConfiguration.makeClientConfiguration()
                config.certificateVerification = .none
                tls = .require(try NIOSSLContext(configuration: config))
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw PostgresStateError(error, target: "cannot set up TLS for \(address.redacted)")
        }
        var configuration = PostgresConnection.Configuration(host: address.host, port: address.port, username: address.user,
                                                             password: password, database: address.database, tls: tls)
        configuration.options.connectTimeout = .seconds(timeoutSeconds)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)] + sessionSettings
        let logger = Logger(label: "tradejob.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        do {
            let connection = try PostgresConnection.connect(on: group.any(), configuration: configuration, id: 1, logger: logger).wait()
            return PostgresSession(connection: connection, logger: logger, target: address.redacted)
        } catch {
            throw PostgresStateError(error, target: "cannot connect to \(address.redacted)")
        }
    }

    init(connection: PostgresConnection, logger: Logger, target: String) {
        self.connection = connection
        self.logger = logger
        self.target = target
    }

    deinit { if !closed { let _: EventLoopFuture<Void> = connection.close() } }

    /// Runs `sql` with `binds` as `$1`, `$2`, … and returns every row.
    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue] = []) throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case let .int(v): bindings.append(v)
            case let .double(v): bindings.append(v)
            case let .text(v): bindings.append(v)
            case let .bool(v): bindings.append(v)
            case .null: bindings.appendNull()
            }
        }
        do {
            let result = try connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger).wait()
            return result.rows.map { SQLRow($0) }
        } catch {
            throw PostgresStateError(error, target: target, sql: sql)
        }
    }

    /// Runs statements without parameters, several separated by a `;` at the end of a line (the schema's DDL), one
    /// after the other.
    public func execute(_ sql: String) throws {
        for statement in sql.components(separatedBy: ";\n") {
            let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
            let text = trimmed.hasSuffix(";") ? String(trimmed.dropLast()) : trimmed
            if !text.isEmpty { try query(text) }
        }
    }

    /// Closes the connection (the server releases its session locks and rolls back an open transaction).
    public func close() {
        guard !closed else { return }
        closed = true
        let done: EventLoopFuture<Void> = connection.close()
        try? done.wait()
    }
}

/// A row of a result, read by column name. A value of the wrong kind is a `CorruptRow`-like error naming the column.
public struct SQLRow: Sendable {
    let row: PostgresRandomAccessRow
    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func decode<T: PostgresDecodable>(_ column: String, as type: T.Type, table: String, key: String?) throws -> T {
        guard row.contains(column) else {
            throw PostgresStateError(message: "table \(table): no column \(column)")
        }
        do {
            return try row[column].decode(T.self)
        } catch {
            throw RowValueProblem(table: table, column: column, key: key)
        }
    }

    /// The `index`-th column (hot paths that read many rows of a known select list).
    func int64(at index: Int, table: String) throws -> Int64 {
        do { return try row[index].decode(Int64.self) } catch { throw RowValueProblem(table: table, column: "#\(index)", key: nil) }
    }
    func double(at index: Int, table: String) throws -> Double {
        do { return try row[index].decode(Double.self) } catch { throw RowValueProblem(table: table, column: "#\(index)", key: nil) }
    }

    public func int64(_ column: String, table: String, key: String? = nil) throws -> Int64 { try decode(column, as: Int64.self, table: table, key: key) }
    public func optionalInt64(_ column: String, table: String, key: String? = nil) throws -> Int64? { try decode(column, as: Int64?.self, table: table, key: key) }
    public func int(_ column: String, table: String, key: String? = nil) throws -> Int { Int(try int64(column, table: table, key: key)) }
    public func double(_ column: String, table: String, key: String? = nil) throws -> Double { try decode(column, as: Double.self, table: table, key: key) }
    public func optionalDouble(_ column: String, table: String, key: String? = nil) throws -> Double? { try decode(column, as: Double?.self, table: table, key: key) }
    public func text(_ column: String, table: String, key: String? = nil) throws -> String { try decode(column, as: String.self, table: table, key: key) }
    public func optionalText(_ column: String, table: String, key: String? = nil) throws -> String? { try decode(column, as: String?.self, table: table, key: key) }
    public func bool(_ column: String, table: String, key: String? = nil) throws -> Bool { try decode(column, as: Bool.self, table: table, key: key) }
}

/// A column whose value does not decode as its kind (NULL where a value must be, another type).
struct RowValueProblem: Error, CustomStringConvertible {
    let table: String, column: String, key: String?
    var description: String {
        "PostgreSQL state: table \(table)\(key.map { " row \($0)" } ?? ""), column \(column): a value of the wrong kind or NULL; nothing was changed"
    }
}
