import Foundation

/// Settings of the Binance Spot REST layer. The first eight fields are the `binance.*` configuration keys;
/// the rest have sensible defaults and exist mainly for tests.
public struct BinanceSettings: Sendable, Equatable {
    /// `binance.base_url`: the REST base URL (`https://api.binance.com`; the Spot testnet is `https://testnet.binance.vision`).
    public var baseURL: String
    /// `binance.recv_window_ms`: the `recvWindow` of signed requests (at most 60000).
    public var recvWindowMs: Int
    /// `binance.request_timeout_seconds`: the deadline of one HTTP request.
    public var requestTimeoutSeconds: Double
    /// `binance.max_weight_share`: keep the request weight used per minute below this share of the limit.
    public var maxWeightShare: Double
    /// `binance.exchange_info_ttl_seconds`: how long cached exchange filters are trusted.
    public var exchangeInfoTTLSeconds: Int
    /// `binance.breaker_failures`: consecutive failures (transport errors, 5xx) that open the circuit breaker.
    public var breakerFailures: Int
    /// `binance.breaker_cooldown_seconds`: how long the breaker stays open before one trial request.
    public var breakerCooldownSeconds: Int
    /// `binance.max_retries`: retries of a request that is safe to repeat.
    public var maxRetries: Int

    /// The longest the client waits, in one go, for the weight window to roll over or for a 429's Retry-After;
    /// a longer wait fails the request at once instead.
    public var maxWaitSeconds: Double
    /// The measured server-time offset is re-measured when older than this.
    public var timeSyncMaxAgeSeconds: Int
    /// First retry delay bound of the exponential backoff (full jitter: the delay is uniform in [0, bound]).
    public var backoffBaseSeconds: Double
    /// Upper bound of any backoff delay.
    public var backoffMaxSeconds: Double

    public init(baseURL: String = "https://api.binance.com", recvWindowMs: Int = 5000, requestTimeoutSeconds: Double = 10,
                maxWeightShare: Double = 0.8, exchangeInfoTTLSeconds: Int = 86_400, breakerFailures: Int = 5,
                breakerCooldownSeconds: Int = 300, maxRetries: Int = 3, maxWaitSeconds: Double = 30,
                timeSyncMaxAgeSeconds: Int = 3600, backoffBaseSeconds: Double = 0.5, backoffMaxSeconds: Double = 8) {
        self.baseURL = baseURL
        self.recvWindowMs = recvWindowMs
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.maxWeightShare = maxWeightShare
        self.exchangeInfoTTLSeconds = exchangeInfoTTLSeconds
        self.breakerFailures = breakerFailures
        self.breakerCooldownSeconds = breakerCooldownSeconds
        self.maxRetries = maxRetries
        self.maxWaitSeconds = maxWaitSeconds
        self.timeSyncMaxAgeSeconds = timeSyncMaxAgeSeconds
        self.backoffBaseSeconds = backoffBaseSeconds
        self.backoffMaxSeconds = backoffMaxSeconds
    }

    /// The key under which this venue's limits, ban, breaker, clock offset and filters are stored: `binance` for
    /// Binance's production hosts, `binance@host[:port]` for anything else (the testnet, a test server), so that
    /// state measured on one never applies to the other.
    public var venueKey: String {
        guard let url = URL(string: baseURL), let host = url.host?.lowercased() else { return "binance@\(baseURL)" }
        if host == "binance.com" || (host.hasSuffix(".binance.com") && !host.contains("testnet")) { return "binance" }
        return url.port.map { "binance@\(host):\($0)" } ?? "binance@\(host)"
    }
}
