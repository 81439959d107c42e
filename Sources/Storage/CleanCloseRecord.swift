import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `<db>-checksum`: the size and a 64-bit checksum of the state database's main file as the job left it after a clean
/// close (every change checkpointed into the main file, no `-wal` left). A later open that finds no `-wal` and the
/// main file byte for byte as recorded skips `PRAGMA quick_check`: the file is then the one the job checked when it
/// opened it, changed since only by SQLite's own committed transactions. Any other change to the file (a damaged or
/// truncated page, a foreign file, a restore) changes the checksum, and the full check runs as before. The record is
/// only ever a shortcut: a missing, unreadable or stale one means the full check.
///
/// The checksum is `ByteChecksum`: not cryptographic (it guards against damage, not against someone forging a file),
/// about memory speed (a 16 MB state in a few ms, where `quick_check` takes ten times as long).
enum CleanCloseRecord {
    static func path(for database: String) -> String { database + "-checksum" }

    /// Whether the main file at `database` (with no `-wal` holding frames) is the one the record describes.
    static func matches(database: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path(for: database)),
              let recorded = parse(String(decoding: data, as: UTF8.self)) else { return false }
        guard let actual = checksum(ofFileAt: database) else { return false }
        return actual == recorded
    }

    /// Records the main file as it is now (after a clean close). Best effort: a record that cannot be written means
    /// the next open runs the full check.
    static func write(database: String) {
        guard let actual = checksum(ofFileAt: database) else { remove(database: database); return }
        do {
            try AtomicFile.write(text(actual), to: path(for: database), sync: false)
        } catch {
            remove(database: database)
        }
    }

    static func remove(database: String) {
        unlink(path(for: database))
    }

    /// The record's one line: `v1 <size> <checksum in hex>`.
    static func text(_ value: (size: Int, sum: UInt64)) -> String {
        "v1 \(value.size) \(String(value.sum, radix: 16))\n"
    }

    static func parse(_ text: String) -> (size: Int, sum: UInt64)? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 3, fields[0] == "v1", let size = Int(fields[1]), size >= 0, let sum = UInt64(fields[2], radix: 16) else { return nil }
        return (size, sum)
    }

    /// The size and checksum of the file's bytes (nil when it cannot be read whole). The file is mapped, not read:
    /// its pages are the page cache's, with no copy.
    static func checksum(ofFileAt file: String) -> (size: Int, sum: UInt64)? {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int(st.st_size)
        var hasher = ByteChecksum()
        guard size > 0 else { return (0, hasher.finish()) }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), map != MAP_FAILED else { return nil }
        defer { munmap(map, size) }
        hasher.add(UnsafeRawBufferPointer(start: map, count: size))
        return (hasher.length, hasher.finish())
    }
}
