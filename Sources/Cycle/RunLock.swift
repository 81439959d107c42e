import Foundation
import TradingDomain
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// The run lock: an exclusive, non-blocking `flock` on `<state>/tradejob.lock`. The holder writes its pid and
/// start time into the file. The kernel releases the lock when the process dies, so it is never stale.
public final class RunLock {
    public let path: String
    private var fd: Int32 = -1

    /// Another process holds the lock.
    public struct Held: Error, CustomStringConvertible {
        public let path: String
        public let holder: String
        public var description: String { "another tradejob cycle holds the run lock \(path) (\(holder)); exiting" }
    }

    public init(path: String) { self.path = path }

    /// Takes the lock or throws `Held` at once.
    public func acquire(startedAt: Date) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: path, message: "cannot open the run lock: \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw Held(path: path, holder: (holder?.isEmpty ?? true) ? "holder unknown" : holder ?? "")
        }
        self.fd = fd
        let text = "pid \(getpid()) started \(Timestamp.rfc3339(Int64(startedAt.timeIntervalSince1970 * 1000)))\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
