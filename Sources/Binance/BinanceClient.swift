import Foundation
import HTTPTransport
import Storage

/// The Binance Spot REST client: signing, server-time offset, request weight, 429 back-off, IP bans,
/// retries with exponential backoff and full jitter, and a circuit breaker — all but the retry loop
/// persisted in the state database so a later run (or another process on the same database) respects them.
///
/// Everything time-related goes through the injected `clock` (ms since 1970 UTC), `sleep` (seconds) and
/// `random` (a value in [0, 1)), so tests drive it without waiting.
public final class BinanceClient: Sendable {
    public let settings: BinanceSettings
    /// The key of this venue's rows in the database (see `BinanceSettings.venueKey`).
    public let venue: String
    let credentials: BinanceCredentials?
    let http: any HTTPClient
    let database: any RecordStore
    let clock: @Sendable () -> Int64
    let sleep: @Sendable (Double) async -> Void
    let random: @Sendable () -> Double
    let limits: BinanceLimits
    let base: String

    /// - Parameters:
    ///   - credentials: needed for signed endpoints (orders, account); market data works without.
    ///   - database: the state database.
    ///   - clock: local time in ms since 1970 UTC.
    ///   - sleep: waits the given seconds (inject a recorder in tests).
    ///   - random: uniform in [0, 1), for the backoff's jitter.
    public init(settings: BinanceSettings, credentials: BinanceCredentials?, http: any HTTPClient, database: any RecordStore,
                clock: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) },
                sleep: @escaping @Sendable (Double) async -> Void = { seconds in
                    try? await Task.sleep(nanoseconds: UInt64(max(0, min(seconds, 86_400)) * 1_000_000_000))
                },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) throws {
        var base = settings.baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil,
              url.query == nil else {
            throw BinanceError.invalidRequest("binance.base_url \(settings.baseURL) is not an http(s) URL")
        }
        self.settings = settings
        self.venue = settings.venueKey
        self.credentials = credentials
        self.http = http
        self.database = database
        self.clock = clock
        self.sleep = sleep
        self.random = random
        self.limits = BinanceLimits(settings: settings)
        self.base = base
    }

    /// Whether signed endpoints can be used.
    public var hasCredentials: Bool { credentials != nil }

    // MARK: - State

    /// The venue's persisted state: offset, weight, back-off, ban, breaker.
    public func venueState() async throws -> VenueStateRow {
        let venue = venue
        return try await database.readRecords { try $0.venueState(venue: venue) }
    }

    /// How many times this venue's circuit breaker has opened (persisted; for the cycle's error-rate protection).
    public func breakerOpenings() async throws -> Int {
        try await venueState().breakerOpenings
    }

    /// The venue's current time as estimated from the local clock and the stored offset (local time when none is stored).
    public func estimatedServerTime() async throws -> Int64 {
        let offset = try await venueState().timeOffsetMs ?? 0
        return clock() + offset
    }

    // MARK: - Server time

    /// The server-time offset to sign with: the stored one while younger than `timeSyncMaxAgeSeconds`, else measured anew.
    func timeOffset() async throws -> Int64 {
        let state = try await venueState()
        let now = clock()
        if let offset = state.timeOffsetMs, let syncedAt = state.timeSyncedAt, syncedAt <= now,
           now - syncedAt <= Int64(settings.timeSyncMaxAgeSeconds) * 1000 {
            return offset
        }
        return try await synchronizeTime()
    }

    /// Measures the offset between the venue's clock and ours with `GET /api/v3/time` (half the round trip is
    /// assumed each way) and stores it. Returns the offset in ms (server minus local). The round trip measured also
    /// holds any wait for the limits and any retry; when it is long (over a second) the midpoint is uncertain by half of
    /// it, so the time is asked again, at most twice more, and the answer with the shortest round trip is kept.
    @discardableResult
    public func synchronizeTime() async throws -> Int64 {
        func measure() async throws -> (roundTrip: Int64, offset: Int64, at: Int64) {
            let before = clock()
            let data = try await send(BinanceRequest(path: "/api/v3/time", weight: 1))
            let after = clock()
            let time: BinanceServerTime = try decode(data, endpoint: "GET /api/v3/time")
            return (after - before, time.serverTime - (before + (after - before) / 2), after)
        }
        var best = try await measure()
        for _ in 0..<2 where best.roundTrip > 1_000 {
            let again = try await measure()
            if again.roundTrip < best.roundTrip { best = again }
        }
        let offset = best.offset, after = best.at
        let venue = venue
        try await database.writeRecords { ledger in
            try ledger.updateVenueState(venue: venue) { state in
                state.timeOffsetMs = offset
                state.timeSyncedAt = after
                state.updatedAt = after
            }
        }
        return offset
    }

    // MARK: - Sending

    /// Sends `request` under the limits and returns the body of a 2xx answer. Throws `BinanceError`.
    ///
    /// Retries (at most `max_retries`, exponential backoff with full jitter) a `.safe` request after transport
    /// errors, 5xx and "execution status unknown" codes, and any request after a refused connection or a 429
    /// (after Retry-After). A -1021 (timestamp outside recvWindow: not processed) re-measures the server time
    /// once and sends the request once more. A 418 or -1003 records a ban and fails.
    public func send(_ request: BinanceRequest) async throws -> Data {
        if request.signed && credentials == nil { throw BinanceError.missingCredentials(endpoint: request.endpoint) }
        var retriesLeft = max(settings.maxRetries, 0)
        var backoffRound = 0
        var resynchronized = false

        while true {
            try Task.checkCancellation()
            var offset: Int64?
            if request.signed {
                do {
                    offset = try await timeOffset()
                } catch let error as BinanceError where error.outcomeUnknown {
                    throw BinanceError.notProcessed(endpoint: request.endpoint, because: error.description)
                }
            }
            try await admit(request)
            let httpRequest = try build(request, offset: offset)

            let response: HTTPResponse
            do {
                response = try await http.send(httpRequest)
            } catch {
                let transportError = (error as? HTTPTransportError)
                    ?? .connectionLost(url: request.path, message: String(describing: type(of: error)))
                await note { limits, state, now in limits.recordBreaker(&state, success: false, now: now) }
                let failure = BinanceError.transport(transportError, endpoint: request.endpoint)
                let repeatable = request.repeatability == .safe || !transportError.outcomeUnknown
                if case .cancelled = transportError { throw failure }
                if repeatable && retriesLeft > 0 {
                    retriesLeft -= 1
                    await backoff(round: &backoffRound)
                    continue
                }
                throw failure
            }

            let status = response.status
            let body = (try? JSONDecoder().decode(BinanceErrorBody.self, from: response.body))
            let message = body?.msg ?? Self.snippet(response.body)
            let retryAfter = response.header("Retry-After").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            let weightHeader = response.header("X-MBX-USED-WEIGHT-1M")

            if (200..<300).contains(status) {
                await note { limits, state, now in
                    limits.recordUsedWeight(&state, header: weightHeader, now: now)
                    limits.recordBreaker(&state, success: true, now: now)
                }
                return response.body
            }

            if status == 418 || (status != 429 && body?.code == -1003) {
                let until = await note { limits, state, now -> Int64 in
                    limits.recordUsedWeight(&state, header: weightHeader, now: now)
                    limits.recordBreaker(&state, success: true, now: now)
                    return limits.recordBan(&state, retryAfterSeconds: retryAfter, reason: message, now: now)
                } ?? clock() + Int64((retryAfter ?? BinanceLimits.defaultBanSeconds) * 1000)
                throw BinanceError.banned(until: until, reason: message)
            }

            if status == 429 {
                let wait = await note { limits, state, now -> Double in
                    limits.recordUsedWeight(&state, header: weightHeader, now: now)
                    limits.recordBreaker(&state, success: true, now: now)
                    return limits.recordRateLimited(&state, retryAfterSeconds: retryAfter, now: now)
                } ?? .infinity
                // Not processed: any request may be sent again once the wait is over (the limits enforce the wait).
                if retriesLeft > 0 && wait <= settings.maxWaitSeconds {
                    retriesLeft -= 1
                    continue
                }
                throw BinanceError.rateLimited(retryAfterSeconds: wait, endpoint: request.endpoint)
            }

            if status >= 500 {
                await note { limits, state, now in
                    limits.recordUsedWeight(&state, header: weightHeader, now: now)
                    limits.recordBreaker(&state, success: false, now: now)
                }
                if request.repeatability == .safe && retriesLeft > 0 {
                    retriesLeft -= 1
                    await backoff(round: &backoffRound)
                    continue
                }
                throw BinanceError.server(status: status, code: body?.code, message: message, endpoint: request.endpoint)
            }

            let code = body?.code ?? 0
            let unknownExecution = BinanceError.unknownExecutionCodes.contains(code)
            await note { limits, state, now in
                limits.recordUsedWeight(&state, header: weightHeader, now: now)
                limits.recordBreaker(&state, success: !unknownExecution, now: now)
            }
            if code == -1021 && !resynchronized {
                // Timestamp outside recvWindow: the venue did not process it. Measure the clock again, send once more.
                resynchronized = true
                do {
                    try await synchronizeTime()
                } catch let error as BinanceError where error.outcomeUnknown {
                    throw BinanceError.notProcessed(endpoint: request.endpoint, because: error.description)
                }
                continue
            }
            if unknownExecution && request.repeatability == .safe && retriesLeft > 0 {
                retriesLeft -= 1
                await backoff(round: &backoffRound)
                continue
            }
            throw BinanceError.api(status: status, code: code, message: message, endpoint: request.endpoint)
        }
    }

    /// Waits as the limits require, then reserves the request's weight; throws when it must not be sent.
    func admit(_ request: BinanceRequest) async throws {
        let venue = venue
        let limits = limits
        let clock = clock
        var lastError: BinanceError?
        for _ in 0..<6 {
            let decision = try await database.writeRecords { ledger in
                try ledger.updateVenueState(venue: venue) { state in
                    try limits.admit(&state, weight: request.weight, endpoint: request.endpoint, now: clock())
                }
            }
            switch decision {
            case .proceed:
                return
            case let .wait(seconds, orElse):
                lastError = orElse
                await sleep(seconds)
                try Task.checkCancellation()
            }
        }
        throw lastError ?? BinanceError.invalidRequest("the request limits never admitted \(request.endpoint)")
    }

    /// Applies a change to the venue's persisted state in one transaction.
    @discardableResult
    func record<T: Sendable>(_ change: @escaping @Sendable (BinanceLimits, inout VenueStateRow, Int64) throws -> T) async throws -> T {
        let venue = venue
        let limits = limits
        let clock = clock
        return try await database.writeRecords { ledger in
            try ledger.updateVenueState(venue: venue) { state in try change(limits, &state, clock()) }
        }
    }

    /// `record`, best effort: once the venue has answered, a failed bookkeeping write must not hide the answer.
    @discardableResult
    func note<T: Sendable>(_ change: @escaping @Sendable (BinanceLimits, inout VenueStateRow, Int64) throws -> T) async -> T? {
        try? await record(change)
    }

    func backoff(round: inout Int) async {
        let seconds = limits.backoffSeconds(retry: round, random: random())
        round += 1
        if seconds > 0 { await sleep(seconds) }
    }

    /// The HTTP request: parameters in the query string (Binance accepts them there for every method); for a
    /// signed request `recvWindow`, `timestamp` (local clock + offset) and the signature of that query string.
    func build(_ request: BinanceRequest, offset: Int64?) throws -> HTTPRequest {
        var parameters = request.parameters
        var headers: [String: String] = [:]
        if request.signed {
            guard let credentials else { throw BinanceError.missingCredentials(endpoint: request.endpoint) }
            parameters.append(("recvWindow", String(min(max(settings.recvWindowMs, 1), 60_000))))
            parameters.append(("timestamp", String(clock() + (offset ?? 0))))
            headers["X-MBX-APIKEY"] = credentials.apiKey
        }
        var query = BinanceSigner.encode(parameters)
        if request.signed, let credentials {
            query += (query.isEmpty ? "" : "&") + "signature=" + credentials.signature(of: query)
        }
        guard let url = URL(string: base + request.path + (query.isEmpty ? "" : "?" + query)) else {
            throw BinanceError.invalidRequest("cannot build a URL for \(request.endpoint)")
        }
        // A request that must not be repeated never shares a connection (see `HTTPRequest.reusesConnection`).
        return HTTPRequest(method: request.method, url: url, headers: headers, body: nil, timeout: settings.requestTimeoutSeconds,
                           reusesConnection: request.repeatability == .safe)
    }

    func decode<T: Decodable>(_ data: Data, endpoint: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw BinanceError.malformed(endpoint: endpoint, detail: Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(context): return context.debugDescription
        case let DecodingError.keyNotFound(key, _): return "missing \(key.stringValue)"
        case let DecodingError.typeMismatch(_, context): return "unexpected type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.valueNotFound(_, context): return "null at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "not JSON"
        }
    }

    /// The start of a non-JSON answer, printable characters only, for messages.
    static func snippet(_ data: Data) -> String {
        let text = String(decoding: data.prefix(160), as: UTF8.self)
        let printable = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init))
        return printable.isEmpty ? "no message" : printable
    }
}
