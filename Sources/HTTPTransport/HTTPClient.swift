import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An HTTP request as tradejob sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: [String: String]
    public var body: Data?
    /// Overall deadline for this request, in seconds (connection, sending and the whole reply).
    public var timeout: TimeInterval
    /// Whether the request may travel on a kept-alive connection that earlier requests used. libcurl (under
    /// URLSession) silently sends a request again on a new connection when a reused one dies before any reply
    /// byte, so a request that must never be repeated (an order) gets a connection of its own, closed after it.
    /// Default: only GET and HEAD reuse connections.
    public var reusesConnection: Bool

    public init(method: String = "GET", url: URL, headers: [String: String] = [:], body: Data? = nil, timeout: TimeInterval = 10,
                reusesConnection: Bool? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.reusesConnection = reusesConnection ?? (method == "GET" || method == "HEAD")
    }
}

/// An HTTP reply. Header names are lower-cased.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Why a request has no reply. `timedOut` and `connectionLost` leave the outcome of a non-idempotent
/// request unknown: the server may have acted on it.
public enum HTTPTransportError: Error, Sendable, CustomStringConvertible, Equatable {
    case timedOut(url: String, seconds: Double)
    case cannotConnect(url: String, message: String)
    case connectionLost(url: String, message: String)
    case cancelled(url: String)

    public var description: String {
        switch self {
        case let .timedOut(url, seconds): return "no reply from \(url) within \(seconds) s"
        case let .cannotConnect(url, message): return "cannot connect to \(url): \(message)"
        case let .connectionLost(url, message): return "connection to \(url) lost: \(message)"
        case let .cancelled(url): return "request to \(url) cancelled"
        }
    }

    /// True when the server may have received and acted on the request.
    public var outcomeUnknown: Bool {
        switch self {
        case .cannotConnect: return false
        default: return true
        }
    }
}

/// The one way tradejob talks HTTP. Tests substitute nothing here: they start real servers on 127.0.0.1.
public protocol HTTPClient: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// `HTTPClient` over URLSession (FoundationNetworking/libcurl on Linux). The deadline is our own timer with
/// fractional seconds, which cancels the task; FoundationNetworking's timer truncates to whole seconds (0.5 s would
/// fire at once), so the session's and the request's timeouts are only a backstop set a whole second beyond it.
/// Redirects are never followed: a 3xx is returned as it is (credentials never travel to another origin), and
/// callers treat it as the failure it is.
///
/// Requests that reuse connections share one session (its libcurl handle keeps connections alive). Every other
/// request (`HTTPRequest.reusesConnection == false`: POST, DELETE, orders) runs in a session of its own, created for
/// it and invalidated after it, with `Connection: close`: its connection is new, so libcurl never re-sends it (it
/// only repeats a request whose *reused* connection died), and nothing else ever travels on it.
public final class URLSessionHTTPClient: HTTPClient, @unchecked Sendable {
    private let defaultTimeout: TimeInterval
    private let sessionLock = NSLock()
    private var sharedSession: URLSession?
    private var madeConfiguration: URLSessionConfiguration?

    /// `defaultTimeout` bounds any single request whose own timeout is larger. Nothing is set up, loaded or connected
    /// until the first request: a cycle that sends none never builds a session configuration nor loads libcurl (see `Libcurl`).
    public init(defaultTimeout: TimeInterval = 30) {
        self.defaultTimeout = defaultTimeout
    }

    /// The sessions' configuration, made on first use.
    private var configuration: URLSessionConfiguration {
        sessionLock.lock()
        defer { sessionLock.unlock() }
        return configurationLocked()
    }

    private func configurationLocked() -> URLSessionConfiguration {
        if let madeConfiguration { return madeConfiguration }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Self.backstop(defaultTimeout)
        configuration.timeoutIntervalForResource = Self.backstop(defaultTimeout)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        madeConfiguration = configuration
        return configuration
    }

    /// The session whose connections are kept alive, created with the first request that may reuse one.
    private func session() -> URLSession {
        sessionLock.lock()
        defer { sessionLock.unlock() }
        if let sharedSession { return sharedSession }
        let created = URLSession(configuration: configurationLocked(), delegate: RedirectRefusal(), delegateQueue: nil)
        sharedSession = created
        return created
    }

    /// FoundationNetworking's own timeout, kept out of the way of the precise deadline: whole seconds, above it.
    static func backstop(_ seconds: TimeInterval) -> TimeInterval { (seconds.isFinite ? max(0, seconds).rounded(.up) : 3600) + 1 }

    deinit { sharedSession?.finishTasksAndInvalidate() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let missing = Libcurl.loadError {
            throw HTTPTransportError.cannotConnect(url: Self.redacted(request.url), message: missing)
        }
        guard !request.reusesConnection else { return try await send(request, in: session()) }
        let oneOff = URLSession(configuration: configuration, delegate: RedirectRefusal(), delegateQueue: nil)
        defer { oneOff.finishTasksAndInvalidate() }
        var closing = request
        closing.headers["Connection"] = "close"
        return try await send(closing, in: oneOff)
    }

    private func send(_ request: HTTPRequest, in session: URLSession) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = Self.backstop(request.timeout)
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let urlText = Self.redacted(request.url)
        let timeout = request.timeout
        let prepared = urlRequest

        // The completion-handler API with our own deadline. Swift-task cancellation of `URLSession.data(for:)` can
        // deadlock in FoundationNetworking when it races the session's own timeout (the task's status lock is held
        // while URLSessionTask.cancel() waits for the session queue, which waits for that lock), so the task is only
        // ever cancelled from a plain dispatch queue, and the caller is resumed exactly once.
        let call = PendingCall()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                let task = session.dataTask(with: prepared) { data, response, error in
                    if let error {
                        let mapped: HTTPTransportError = (error as? URLError).map { Self.map($0, url: urlText, timeout: timeout) }
                            ?? .connectionLost(url: urlText, message: "\(error)")
                        call.finish(continuation, .failure(mapped))
                        return
                    }
                    guard let http = response as? HTTPURLResponse else {
                        call.finish(continuation, .failure(HTTPTransportError.connectionLost(url: urlText, message: "not an HTTP response")))
                        return
                    }
                    var headers: [String: String] = [:]
                    for (key, value) in http.allHeaderFields {
                        if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
                    }
                    call.finish(continuation, .success(HTTPResponse(status: http.statusCode, headers: headers, body: data ?? Data())))
                }
                call.start(task) {
                    call.finish(continuation, .failure(HTTPTransportError.cancelled(url: urlText)))
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + max(timeout, 0.001)) {
                    if call.finish(continuation, .failure(HTTPTransportError.timedOut(url: urlText, seconds: timeout))) { task.cancel() }
                }
                task.resume()
            }
        } onCancel: {
            call.cancel()
        }
    }

    static func map(_ error: URLError, url: String, timeout: TimeInterval) -> HTTPTransportError {
        switch error.code {
        case .timedOut: return .timedOut(url: url, seconds: timeout)
        case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet:
            return .cannotConnect(url: url, message: error.localizedDescription)
        case .cancelled: return .cancelled(url: url)
        default: return .connectionLost(url: url, message: error.localizedDescription)
        }
    }

    /// The URL without its query string (queries may carry signatures) and with any password as `***`, for messages
    /// and logs.
    public static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.path }
        components.query = nil
        if components.password != nil { components.password = "***" }
        return components.string ?? url.path
    }
}

/// Refuses every redirect: the 3xx reply itself completes the task.
private final class RedirectRefusal: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
                    completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// One request in flight: resumes its caller exactly once (answer, deadline or cancellation, whichever comes first)
/// and cancels the URLSession task from a dispatch queue, never from inside Swift's cancellation machinery.
private final class PendingCall: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var cancelled = false
    private var task: URLSessionTask?
    private var onCancel: (@Sendable () -> Void)?

    func start(_ task: URLSessionTask, onCancel: @escaping @Sendable () -> Void) {
        lock.lock()
        self.task = task
        self.onCancel = onCancel
        let alreadyCancelled = cancelled
        lock.unlock()
        if alreadyCancelled { cancel() }
    }

    /// Resumes the caller unless it was already resumed; true when this call did it.
    @discardableResult
    func finish(_ continuation: CheckedContinuation<HTTPResponse, Error>, _ result: Result<HTTPResponse, Error>) -> Bool {
        lock.lock()
        guard !done else { lock.unlock(); return false }
        done = true
        lock.unlock()
        continuation.resume(with: result)
        return true
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let task = self.task, onCancel = self.onCancel
        lock.unlock()
        guard let task else { return }
        DispatchQueue.global().async {
            onCancel?()
            task.cancel()
        }
    }
}
