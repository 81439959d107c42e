import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A request received by `TestHTTPServer`.
public struct TestHTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [String: String]
    public var body: Data
    /// Which accepted connection carried it (1 for the first connection the server accepted, 2 for the next, ...).
    public var connection: Int = 0
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the server answers.
public struct TestHTTPReply: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    /// Close the connection without writing a single byte of a reply (the handler's work is done: to the client the
    /// connection died with the outcome unknown).
    public var dropsConnection = false
    public init(status: Int = 200, headers: [String: String] = ["Content-Type": "application/json"], body: String = "{}") {
        self.status = status
        self.headers = headers
        self.body = Data(body.utf8)
    }

    /// No reply at all: the connection is closed once the handler has run.
    public static var dropConnection: TestHTTPReply {
        var reply = TestHTTPReply(status: 0, headers: [:], body: "")
        reply.dropsConnection = true
        return reply
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 (a free port) for tests: one thread per connection, requests recorded in
/// order. `waitForRequests(_:)` blocks until that many have arrived (no sleeps).
///
/// By default every answer carries `Connection: close` and the connection ends after one request. With
/// `keepAlive: true` connections are persistent, as HTTP/1.1 servers' are: requests are served one after the other on
/// the same connection until the client closes it; a request carrying `Connection: close` gets `Connection: close`
/// back and its connection is then closed. Accepted connections are numbered from 1 (`acceptedConnections`) and each
/// request records the number of the connection that carried it (`TestHTTPRequest.connection`), so a test can see
/// whether a client reused a connection. A handler answering `TestHTTPReply.dropConnection` makes the server close
/// the connection without writing a byte.
public final class TestHTTPServer: @unchecked Sendable {
    public let port: UInt16
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }
    /// Whether connections are kept alive between requests.
    public let keepAlive: Bool
    private let listener: Int32
    private let handler: @Sendable (TestHTTPRequest) -> TestHTTPReply
    private let lock = NSCondition()
    private var received: [TestHTTPRequest] = []
    private var stopped = false
    private var connectionCount = 0
    private var openClients: Set<Int32> = []

    public convenience init(handler: @escaping @Sendable (TestHTTPRequest) -> TestHTTPReply) throws {
        try self.init(keepAlive: false, handler: handler)
    }

    public init(keepAlive: Bool, handler: @escaping @Sendable (TestHTTPRequest) -> TestHTTPReply) throws {
        self.handler = handler
        self.keepAlive = keepAlive
        // A reply written to a client that has gone (a timeout test) must fail with EPIPE, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        let thread = Thread { [weak self] in self?.acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    public var requests: [TestHTTPRequest] { lock.lock(); defer { lock.unlock() }; return received }

    /// How many connections the server has accepted so far.
    public var acceptedConnections: Int { lock.lock(); defer { lock.unlock() }; return connectionCount }

    /// Blocks until `count` requests have arrived (or the server stopped).
    public func waitForRequests(_ count: Int) {
        lock.lock()
        while received.count < count && !stopped { lock.wait() }
        lock.unlock()
    }

    public func stop() {
        lock.lock()
        let wasStopped = stopped
        stopped = true
        lock.broadcast()
        let clients = openClients
        lock.unlock()
        if !wasStopped {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
            // Idle kept-alive connections would otherwise keep their threads waiting for a next request.
            for client in clients { shutdown(client, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            lock.lock()
            connectionCount += 1
            let number = connectionCount
            openClients.insert(client)
            lock.unlock()
            let thread = Thread { [weak self] in
                self?.serveConnection(client, number: number)
                self?.forget(client)
                close(client)
            }
            thread.start()
        }
    }

    private func forget(_ client: Int32) {
        lock.lock()
        openClients.remove(client)
        lock.unlock()
    }

    /// Serves requests on one connection: one (closing mode) or until either side closes it (keep-alive mode).
    private func serveConnection(_ fd: Int32, number: Int) {
        var buffer = Data()
        while serve(fd, buffer: &buffer, connection: number) {}
    }

    /// Reads one request from `buffer` + the socket, answers it; true when the connection stays open for another.
    private func serve(_ fd: Int32, buffer: inout Data, connection: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        while headerEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        }
        guard let end = headerEnd else { return false }
        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return false }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var rest = Data(buffer[end.upperBound...])
        while rest.count < length {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            rest.append(contentsOf: chunk[0..<n])
        }
        let body = Data(rest.prefix(length))
        buffer = Data(rest.dropFirst(length))
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1)
        var request = TestHTTPRequest(method: String(requestLine[0]), path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                                      headers: headers, body: body)
        request.connection = connection
        let reply = handler(request)
        lock.lock()
        received.append(request)
        lock.broadcast()
        lock.unlock()
        if reply.dropsConnection { return false }
        let clientCloses = headers["connection"]?.lowercased().contains("close") ?? false
        let staysOpen = keepAlive && !clientCloses
        var text = "HTTP/1.1 \(reply.status) Status\r\nContent-Length: \(reply.body.count)\r\n"
        if !staysOpen { text += "Connection: close\r\n" }
        for (k, v) in reply.headers { text += "\(k): \(v)\r\n" }
        text += "\r\n"
        var out = Data(text.utf8)
        out.append(reply.body)
        let written: Bool = out.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = write(fd, base + offset, raw.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        return written && staysOpen
    }
}
