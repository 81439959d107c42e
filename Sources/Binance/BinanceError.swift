import Foundation
import HTTPTransport

/// Why a Binance request failed. Messages name the endpoint (method and path), never the query string,
/// the signature or any credential.
public enum BinanceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The venue banned this IP (418 / -1003) until `until` (local ms); nothing is sent before then.
    case banned(until: Int64, reason: String)
    /// The circuit breaker is open (or its one trial request is in flight); nothing is sent. `until` is when it half-opens.
    case breakerOpen(until: Int64)
    /// Sending would exceed the allowed share of the request-weight limit and the window rolls over too late.
    case weightBudgetExhausted(used: Int, weight: Int, budget: Int, waitSeconds: Double)
    /// A 429 (or a recent one's Retry-After) asks to wait longer than allowed, or retries are used up.
    case rateLimited(retryAfterSeconds: Double, endpoint: String)
    /// The venue answered with an error (`code`/`msg`) other than a 5xx.
    case api(status: Int, code: Int, message: String, endpoint: String)
    /// The venue answered 5xx: its outcome is unknown (Binance: "could have been a success").
    case server(status: Int, code: Int?, message: String, endpoint: String)
    /// No answer: timeout, lost connection, refused connection.
    case transport(HTTPTransportError, endpoint: String)
    /// An answer that cannot be understood.
    case malformed(endpoint: String, detail: String)
    /// A signed endpoint was called without credentials.
    case missingCredentials(endpoint: String)
    /// A request this client refuses to build (bad argument, bad base URL).
    case invalidRequest(String)
    /// The request was not sent, or was refused unprocessed (-1021), and measuring the server time then failed.
    case notProcessed(endpoint: String, because: String)

    public var description: String {
        switch self {
        case let .banned(until, reason):
            return "Binance has banned this IP until \(Self.time(until)) (\(reason)); no request is sent before then"
        case let .breakerOpen(until):
            return "the Binance circuit breaker is open after repeated failures; no request is sent before \(Self.time(until))"
        case let .weightBudgetExhausted(used, weight, budget, wait):
            return "Binance request weight budget exhausted: \(used) used this minute + \(weight) > \(budget) allowed; "
                + "the window rolls over in \(String(format: "%.1f", wait)) s, longer than the allowed wait"
        case let .rateLimited(retryAfter, endpoint):
            return "Binance rate limit (429) on \(endpoint): asked to wait \(String(format: "%.0f", retryAfter)) s"
        case let .api(status, code, message, endpoint):
            return "Binance error \(code) on \(endpoint) (HTTP \(status)): \(message)"
        case let .server(status, code, message, endpoint):
            return "Binance server error HTTP \(status)\(code.map { " (\($0))" } ?? "") on \(endpoint): \(message); outcome unknown"
        case let .transport(error, endpoint):
            return "Binance \(endpoint): \(error)"
        case let .malformed(endpoint, detail):
            return "Binance \(endpoint): malformed answer (\(detail))"
        case let .missingCredentials(endpoint):
            return "Binance \(endpoint) needs API credentials (TRADEJOB_BINANCE_API_KEY / TRADEJOB_BINANCE_API_SECRET)"
        case let .invalidRequest(message):
            return "Binance request refused locally: \(message)"
        case let .notProcessed(endpoint, because):
            return "Binance \(endpoint) was not processed: measuring the server time failed: \(because)"
        }
    }

    /// The venue's error code, when it sent one.
    public var code: Int? {
        switch self {
        case let .api(_, code, _, _): return code
        case let .server(_, code, _, _): return code
        default: return nil
        }
    }

    /// True when the request certainly was not processed by the venue: it was never sent, the connection was
    /// refused, or the venue answered that it did not process it (429, 418, -1021, and other 4xx errors).
    public var certainlyNotProcessed: Bool {
        switch self {
        case .banned, .breakerOpen, .weightBudgetExhausted, .rateLimited, .missingCredentials, .invalidRequest, .notProcessed: return true
        case let .transport(error, _): return !error.outcomeUnknown
        case let .api(_, code, _, _): return !Self.unknownExecutionCodes.contains(code)
        case .server, .malformed: return false
        }
    }

    /// True when the venue may have acted on the request without telling us (timeout, lost connection, 5xx,
    /// -1007/-1006/-1001, an answer that cannot be read).
    public var outcomeUnknown: Bool { !certainlyNotProcessed }

    /// Codes with which Binance says the execution status is unknown.
    static let unknownExecutionCodes: Set<Int> = [-1001, -1006, -1007]

    static func time(_ ms: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
