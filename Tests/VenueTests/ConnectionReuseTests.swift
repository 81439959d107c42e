import Foundation
import Testing
import HTTPTransport
import TestSupport

/// The transport against a server that keeps connections alive, as real exchanges do. libcurl (under URLSession)
/// silently sends a request again on a new connection when the *reused* connection it went out on dies before any
/// reply byte; for an order that means a second booking. These tests show which requests reuse connections and
/// that an order that lost its connection after the server acted on it reached the server exactly once.
/// (Checked against the transport with orders on reused connections, `reusesConnection` forced true: the server then
/// booked the order twice, the second time on a new connection 1 ms after the first was dropped.)
@Suite struct ConnectionReuseTests {
    /// Counts what the server saw, per method and path.
    final class Book: @unchecked Sendable {
        private let lock = NSLock()
        private var posts = 0
        func bookPost() -> Int { lock.lock(); defer { lock.unlock() }; posts += 1; return posts }
        var postCount: Int { lock.lock(); defer { lock.unlock() }; return posts }
    }

    static func get(_ server: TestHTTPServer, _ path: String) -> HTTPRequest {
        HTTPRequest(method: "GET", url: server.baseURL.appendingPathComponent(path), timeout: 5)
    }

    @Test func getsShareAKeptAliveConnectionAndAnOrderThatLostItsConnectionIsSentOnce() async throws {
        let book = Book()
        let server = try TestHTTPServer(keepAlive: true) { request in
            if request.method == "POST" {
                _ = book.bookPost()
                return .dropConnection // booked, then the connection dies before a single reply byte
            }
            return TestHTTPReply(body: #"{"ok":true}"#)
        }
        defer { server.stop() }
        let client = URLSessionHTTPClient(defaultTimeout: 5)

        for _ in 0..<3 {
            let answer = try await client.send(Self.get(server, "/api/v3/time"))
            #expect(answer.status == 200)
            #expect(answer.header("connection") == nil, "a kept-alive answer does not say close")
        }
        let gets = server.requests
        #expect(gets.count == 3)
        // Whether libcurl puts the next read on the same connection depends on when it gets the connection back after
        // a reply, so the test does not count on it; the order's own connection below does not depend on timing.

        // Sent the way the Binance client sends orders: every parameter in the query string, no body (a request with
        // a body that libcurl cannot rewind is re-sent as a head whose body never comes; one without is re-sent whole).
        var components = URLComponents(url: server.baseURL.appendingPathComponent("/api/v3/order"), resolvingAgainstBaseURL: false)
        components?.percentEncodedQuery = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId=tj-1-e0-a1"
        let url = try #require(components?.url)
        let order = HTTPRequest(method: "POST", url: url, headers: ["X-MBX-APIKEY": "key"], body: nil, timeout: 5)
        var failure: HTTPTransportError?
        do {
            let answer = try await client.send(order)
            Issue.record("a dropped connection produced an answer: \(answer.status)")
        } catch let error as HTTPTransportError {
            failure = error
        }
        #expect(failure?.outcomeUnknown == true, "the client learns the outcome is unknown: \(String(describing: failure))")
        #expect(book.postCount == 1, "the order reached the server exactly once (\(book.postCount))")
        let posts = server.requests.filter { $0.method == "POST" }
        #expect(posts.count == 1)
        if let post = posts.first {
            #expect(!gets.contains { $0.connection == post.connection }, "the order had a connection of its own")
            #expect(post.headers["connection"]?.lowercased() == "close", "the order asked for its connection to be closed")
            #expect(server.requests.filter { $0.connection == post.connection }.count == 1, "nothing else used the order's connection")
        }

        // The kept-alive connection still serves reads.
        let after = try await client.send(Self.get(server, "/api/v3/time"))
        #expect(after.status == 200)
    }

    /// A read whose reused connection dies before a reply byte may be sent again by libcurl: harmless for a GET, and
    /// exactly what must never happen to an order. Documents the behaviour the order path is protected against.
    @Test func aReadOnADroppedReusedConnectionMayBeResent() async throws {
        let book = Book()
        let server = try TestHTTPServer(keepAlive: true) { request in
            if request.path == "/drop-once", book.bookPost() == 1 { return .dropConnection }
            return TestHTTPReply(body: #"{"ok":true}"#)
        }
        defer { server.stop() }
        let client = URLSessionHTTPClient(defaultTimeout: 5)
        let warmUp = try await client.send(Self.get(server, "/warm-up"))
        #expect(warmUp.status == 200)
        let outcome: String
        do {
            let answer = try await client.send(Self.get(server, "/drop-once"))
            outcome = "answered \(answer.status)"
        } catch let error as HTTPTransportError {
            outcome = "failed: \(error)"
        }
        let tries = server.requests.filter { $0.path == "/drop-once" }
        // Either libcurl re-sent the read on a new connection (2 arrivals, answered) or it gave up (1 arrival).
        #expect((1...2).contains(tries.count), "\(outcome); arrivals: \(tries.map(\.connection))")
        if tries.count == 2 {
            #expect(tries[0].connection != tries[1].connection, "the re-send went on a new connection")
            #expect(outcome == "answered 200")
        }
        print("connection reuse: a GET whose reused connection dropped arrived \(tries.count) time(s) on connections "
              + "\(tries.map(\.connection)); client \(outcome)")
    }
}
