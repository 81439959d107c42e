import Foundation
import Testing
import HTTPTransport
import TestSupport

/// The shared HTTP client (Binance, LLM providers, notifications): redirects are never followed, and deadlines keep
/// their fractions of a second.
@Suite("HTTP client: redirects and fractional deadlines")
struct HTTPClientRedirectAndTimeoutTests {
    @Test func aRedirectIsReturnedAsItIsAndCredentialsStayHome() async throws {
        let elsewhere = try TestHTTPServer { _ in TestHTTPReply(body: #"{"from": "elsewhere"}"#) }
        defer { elsewhere.stop() }
        let target = elsewhere.baseURL.appendingPathComponent("steal").absoluteString
        for status in [301, 302, 303, 307, 308] {
            let origin = try TestHTTPServer { _ in TestHTTPReply(status: status, headers: ["Location": target], body: "") }
            defer { origin.stop() }
            let reply = try await URLSessionHTTPClient().send(HTTPRequest(method: "POST", url: origin.baseURL.appendingPathComponent("v1/x"),
                                                                          headers: ["Authorization": "Bearer secret"], body: Data("{}".utf8), timeout: 5))
            #expect(reply.status == status)
            #expect(origin.requests.count == 1)
        }
        #expect(elsewhere.requests.isEmpty, "no request, with or without the Authorization header, reached the other origin")
    }

    @Test func aDeadlineBelowOneSecondIsKept() async throws {
        // Answers after 0.1 s: a 0.5 s deadline must not be truncated to 0 (which failed it in milliseconds).
        let gate = DispatchSemaphore(value: 0)
        let server = try TestHTTPServer { _ in
            _ = gate.wait(timeout: .now() + 0.1)
            return TestHTTPReply(body: "{}")
        }
        defer { server.stop() }
        let reply = try await URLSessionHTTPClient(defaultTimeout: 0.5).send(HTTPRequest(url: server.baseURL, timeout: 0.5))
        #expect(reply.status == 200)
    }

    @Test func aFractionalDeadlineIsNotRoundedDown() async throws {
        // Answers after 1.2 s: a 1.9 s deadline must not act as 1 s.
        let gate = DispatchSemaphore(value: 0)
        let server = try TestHTTPServer { _ in
            _ = gate.wait(timeout: .now() + 1.2)
            return TestHTTPReply(body: "{}")
        }
        defer { server.stop() }
        let reply = try await URLSessionHTTPClient().send(HTTPRequest(url: server.baseURL, timeout: 1.9))
        #expect(reply.status == 200)
    }

    @Test func aServerThatNeverAnswersFailsAtTheDeadline() async throws {
        let gate = DispatchSemaphore(value: 0)
        let server = try TestHTTPServer { _ in
            _ = gate.wait(timeout: .now() + 30)
            return TestHTTPReply(body: "{}")
        }
        defer { gate.signal(); server.stop() }
        do {
            _ = try await URLSessionHTTPClient().send(HTTPRequest(url: server.baseURL, timeout: 0.3))
            Issue.record("answered")
        } catch let error as HTTPTransportError {
            #expect(error == .timedOut(url: server.baseURL.absoluteString, seconds: 0.3))
        }
    }
}
