import Foundation

/// One request to the Binance Spot REST API.
public struct BinanceRequest: Sendable {
    /// Whether a request may be sent again after a failure.
    public enum Repeatability: Sendable {
        /// Reading, or otherwise harmless to repeat (GETs): retried after any failure.
        case safe
        /// Changes state (an order): sent again only when it certainly did not reach the venue
        /// (connection refused, 429, -1021); never after a timeout, a lost connection or a 5xx.
        case onlyIfNotReceived
    }

    public var method: String
    public var path: String
    /// Parameters in the order they are sent.
    public var parameters: [(String, String)]
    /// SIGNED (TRADE / USER_DATA): `recvWindow`, `timestamp`, `signature` and the API key header are added.
    public var signed: Bool
    /// Binance's request weight of the endpoint.
    public var weight: Int
    public var repeatability: Repeatability

    public init(method: String = "GET", path: String, parameters: [(String, String)] = [], signed: Bool = false, weight: Int = 1,
                repeatability: Repeatability? = nil) {
        self.method = method
        self.path = path
        self.parameters = parameters
        self.signed = signed
        self.weight = weight
        self.repeatability = repeatability ?? (method == "GET" ? .safe : .onlyIfNotReceived)
    }

    /// `METHOD /path`, for messages (never the query).
    public var endpoint: String { "\(method) \(path)" }
}
