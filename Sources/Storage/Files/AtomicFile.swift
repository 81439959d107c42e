import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes state files atomically: a temporary file in the same directory, flushed to disk, then renamed
/// over the target, so a reader sees the old or the new content, never a half-written file. Files are created with
/// `mode` (default 0600: state holds balances and trades) and missing directories with 0700, whatever the umask.
public enum AtomicFile {
    /// `sync: false` skips flushing the file to disk before the rename, for a file whose loss or emptiness after a
    /// power cut is harmless (it is only a shortcut, see `CleanCloseRecord`).
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600, directoryMode: mode_t = 0o700, sync: Bool = true) throws {
        let writer = try AtomicFileWriter(path: path, mode: mode, directoryMode: directoryMode)
        try writer.append(bytes: data)
        try writer.commit(sync: sync)
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o600, directoryMode: mode_t = 0o700, sync: Bool = true) throws {
        // The text's bytes straight, not through `Data(text.utf8)` (whose initializer casts its argument at run time).
        let writer = try AtomicFileWriter(path: path, mode: mode, directoryMode: directoryMode)
        try writer.append(text)
        try writer.commit(sync: sync)
    }
}

/// A state file could not be written.
public struct AtomicFileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { path.isEmpty ? "an empty path: \(message)" : "\(path): \(message)" }
}

/// A file written in pieces and then put in place atomically (the same temporary-file-then-rename as `AtomicFile`),
/// for outputs too long to hold in memory. Until `commit` the target is untouched; `abandon` (or an error) removes the
/// temporary file.
public final class AtomicFileWriter {
    public let path: String
    private let temporary: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let flushSize = 1 << 16

    public init(path: String, mode: mode_t = 0o600, directoryMode: mode_t = 0o700) throws {
        self.path = path
        let (directory, name) = try Self.preflight(path, directoryMode: directoryMode)
        temporary = directory + "/." + name + ".tmp-" + String(getpid())
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw AtomicFileError(path: path, message: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, mode)
        buffer.reserveCapacity(Self.flushSize + 256)
    }

    deinit { abandon() }

    /// Checks that `path` can be written as `AtomicFileWriter` writes it, creating its missing directories (mode
    /// `directoryMode`) as the writer would, and returns its directory and name. A command calls it for the files it
    /// writes at the end, so that a path that names no file (empty, ending in `/`, `.` or `..`, an existing
    /// directory) or lies in a directory that cannot be made or written is refused before its work, not after it.
    @discardableResult
    public static func preflight(_ path: String, directoryMode: mode_t = 0o700) throws -> (directory: String, name: String) {
        // The directory and the name split by hand (a `URL` costs a noticeable share of a cycle's start).
        let (directory, name) = split(path)
        if name.isEmpty || name == "." || name == ".." {
            throw AtomicFileError(path: path, message: path.isEmpty ? "a file name was expected" : "the path names a directory, not a file")
        }
        var existing = stat()
        if stat(path, &existing) == 0, existing.st_mode & S_IFMT == S_IFDIR {
            throw AtomicFileError(path: path, message: "it is a directory, not a file")
        }
        do {
            var st = stat()
            if stat(directory, &st) != 0 {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: Int(directoryMode)])
            } else if st.st_mode & S_IFMT != S_IFDIR {
                throw AtomicFileError(path: path, message: "\(directory) is not a directory")
            }
        } catch let error as AtomicFileError {
            throw error
        } catch {
            throw AtomicFileError(path: path, message: "cannot create its directory \(directory)")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw AtomicFileError(path: path, message: "its directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
        return (directory, name)
    }

    /// The directory a file path is in and the file's name: `a/b/c` → (`a/b`, `c`), `c` → (`.`, `c`), `/c` → (`/`, `c`).
    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let name = String(path[path.index(after: slash)...])
        return (slash == path.startIndex ? "/" : String(path[..<slash]), name)
    }

    public func append(_ text: String) throws { try append(bytes: text.utf8) }

    public func append<Bytes: Sequence>(bytes: Bytes) throws where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.flushSize { try flush() }
    }

    private func flush() throws {
        guard fd >= 0 else { throw AtomicFileError(path: path, message: "already closed") }
        var failure: String?
        buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count, let base = bytes.baseAddress {
                let n = Glibc.write(fd, base + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? String(cString: strerror(errno)) : "nothing written"; break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure {
            abandon()
            throw AtomicFileError(path: path, message: "cannot write \(temporary): \(failure)")
        }
    }

    /// Flushes, syncs (unless `sync` is false) and renames the file into place.
    public func commit(sync: Bool = true) throws {
        try flush()
        let synced = !sync || fsync(fd) == 0
        let syncError = errno
        close(fd)
        fd = -1
        if !synced {
            unlink(temporary)
            throw AtomicFileError(path: path, message: "cannot write \(temporary): \(String(cString: strerror(syncError)))")
        }
        guard rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFileError(path: path, message: "cannot put the file in place: \(message)")
        }
    }

    /// Drops the temporary file (nothing happens to the target).
    public func abandon() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
    }
}
