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

    public init(method: String = "GET", url: URL, headers: [String: String] = [:], body: Data? = nil, timeout: TimeInterval = 10) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
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

/// `HTTPClient` over URLSession (FoundationNetworking/libcurl on Linux). The timeout is set on the
/// session configuration and on the request property (the initializer argument is ignored on Linux),
/// and an overall deadline cancels the task.
public final class URLSessionHTTPClient: HTTPClient, @unchecked Sendable {
    private let session: URLSession

    /// `defaultTimeout` bounds any single request whose own timeout is larger.
    public init(defaultTimeout: TimeInterval = 30) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = defaultTimeout
        configuration.timeoutIntervalForResource = defaultTimeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = request.timeout
        for (name, value) in request.headers { urlRequest.setValue(value, forHTTPHeaderField: name) }
        urlRequest.httpBody = request.body
        let urlText = Self.redacted(request.url)
        let timeout = request.timeout
        let prepared = urlRequest

        return try await withThrowingTaskGroup(of: HTTPResponse?.self) { group in
            group.addTask {
                do {
                    let (data, response) = try await self.session.data(for: prepared)
                    guard let http = response as? HTTPURLResponse else {
                        throw HTTPTransportError.connectionLost(url: urlText, message: "not an HTTP response")
                    }
                    var headers: [String: String] = [:]
                    for (key, value) in http.allHeaderFields {
                        if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
                    }
                    return HTTPResponse(status: http.statusCode, headers: headers, body: data)
                } catch let error as HTTPTransportError {
                    throw error
                } catch let error as URLError {
                    throw Self.map(error, url: urlText, timeout: timeout)
                } catch is CancellationError {
                    throw HTTPTransportError.cancelled(url: urlText)
                } catch {
                    throw HTTPTransportError.connectionLost(url: urlText, message: "\(error)")
                }
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(max(timeout, 0.001) * 1_000_000_000))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw HTTPTransportError.timedOut(url: urlText, seconds: timeout) }
            guard let response = first else { throw HTTPTransportError.timedOut(url: urlText, seconds: timeout) }
            return response
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

    /// The URL without its query string (queries may carry signatures), for messages and logs.
    public static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return url.path }
        components.query = nil
        return components.string ?? url.path
    }
}
