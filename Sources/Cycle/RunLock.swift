import Foundation
import TradingDomain
import Storage
#if canImport(Glibc)
import Glibc
#endif

/// The run lock: an exclusive, non-blocking `flock` on `<state>/tradejob.lock` (mode 0600). The holder writes its pid
/// and start time into the file in place (`pwrite`, then cut to length; never emptied first). The kernel releases the
/// lock when the process dies, so it is never stale. A process that finds the lock held names the holder from
/// `/proc/locks` (the pid the kernel records), with the start time when the file already carries that pid.
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
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFileError(path: path, message: "cannot open the run lock: \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.describeHolder(path: path, fd: fd)
            close(fd)
            throw Held(path: path, holder: holder)
        }
        self.fd = fd
        _ = fchmod(fd, 0o600)
        let text = "pid \(getpid()) started \(Timestamp.rfc3339(Int64(startedAt.timeIntervalSince1970 * 1000)))\n"
        let written = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        if written > 0 { _ = ftruncate(fd, off_t(written)) }
    }

    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)  // empty while nobody holds it, so a refused run leaves every state file as it was
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }

    /// "pid N started T" when the file already names the pid holding the lock; "pid N" from `/proc/locks` otherwise.
    static func describeHolder(path: String, fd: Int32) -> String {
        let text = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let filePID = text.split(separator: " ").dropFirst().first.flatMap { Int32($0) }
        var st = stat()
        guard fstat(fd, &st) == 0, let kernelPID = flockHolder(inode: UInt64(st.st_ino)) else {
            return text.isEmpty ? "holder unknown" : text
        }
        return filePID == kernelPID ? text : "pid \(kernelPID), start time not written yet"
    }

    /// Whether a process holds the lock at `path`, read from `/proc/locks` without touching the lock (so that asking
    /// never turns away a run that starts at that instant); nil when the kernel's table cannot be read.
    public static func isHeld(path: String) -> Bool? {
        guard let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return flockHolder(inode: UInt64(st.st_ino), table: table) != nil
    }

    /// The pid holding a `flock` on the file with this inode, from `/proc/locks` (nil when not readable).
    static func flockHolder(inode: UInt64, table: String? = nil) -> Int32? {
        guard let table = table ?? (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) else { return nil }
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (a waiting entry has "->" after the number)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE",
                  let device = fields.dropFirst(5).first, device.split(separator: ":").last.flatMap({ UInt64($0) }) == inode,
                  let pid = Int32(fields[4]) else { continue }
            return pid
        }
        return nil
    }
}
