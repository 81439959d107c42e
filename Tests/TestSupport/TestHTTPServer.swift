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
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What the server answers.
public struct TestHTTPReply: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data
    public init(status: Int = 200, headers: [String: String] = ["Content-Type": "application/json"], body: String = "{}") {
        self.status = status
        self.headers = headers
        self.body = Data(body.utf8)
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 (a free port) for tests: one thread per connection, `Connection: close`,
/// requests recorded in order. `waitForRequests(_:)` blocks until that many have arrived (no sleeps).
public final class TestHTTPServer: @unchecked Sendable {
    public let port: UInt16
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }
    private let listener: Int32
    private let handler: @Sendable (TestHTTPRequest) -> TestHTTPReply
    private let lock = NSCondition()
    private var received: [TestHTTPRequest] = []
    private var stopped = false

    public init(handler: @escaping @Sendable (TestHTTPRequest) -> TestHTTPReply) throws {
        self.handler = handler
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
        lock.unlock()
        if !wasStopped {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            let thread = Thread { [weak self] in
                self?.serve(client)
                close(client)
            }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = buffer.range(of: Data("\r\n\r\n".utf8))
        }
        guard let end = headerEnd else { return }
        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Data(buffer[end.upperBound...])
        while body.count < length {
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { break }
            body.append(contentsOf: chunk[0..<n])
        }
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1)
        let request = TestHTTPRequest(method: String(requestLine[0]), path: String(parts[0]), query: parts.count > 1 ? String(parts[1]) : "",
                                      headers: headers, body: body)
        let reply = handler(request)
        lock.lock()
        received.append(request)
        lock.broadcast()
        lock.unlock()
        var text = "HTTP/1.1 \(reply.status) Status\r\nContent-Length: \(reply.body.count)\r\nConnection: close\r\n"
        for (k, v) in reply.headers { text += "\(k): \(v)\r\n" }
        text += "\r\n"
        var out = Data(text.utf8)
        out.append(reply.body)
        out.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = write(fd, base + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
