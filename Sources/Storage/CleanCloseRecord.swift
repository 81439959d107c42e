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
/// The checksum is XXH64's round function over four 64-bit lanes with the length mixed in: not cryptographic (it
/// guards against damage, not against someone forging a file), about memory speed (a 16 MB state in a few ms, where
/// `quick_check` takes ten times as long).
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
        var hasher = Checksum()
        guard size > 0 else { return (0, hasher.finish()) }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), map != MAP_FAILED else { return nil }
        defer { munmap(map, size) }
        hasher.add(UnsafeRawBufferPointer(start: map, count: size))
        return (hasher.length, hasher.finish())
    }

    /// The checksum of a run of bytes: whole 32-byte stripes go through the four lanes; only the last call may leave a tail.
    struct Checksum {
        static let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        static let p3: UInt64 = 0x1656_67B1_9E37_79F9, p4: UInt64 = 0x85EB_CA77_C2B2_AE63
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (p1 &+ p2, p2, 0, 0 &- p1)
        var tail: UInt64 = 0
        var length = 0

        @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
            let mixed = acc &+ input &* p2
            return ((mixed << 31) | (mixed >> 33)) &* p1
        }

        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            var (a, b, c, d) = lanes
            let stripes = bytes.count / 32
            for s in 0..<stripes {
                let o = s * 32
                a = Self.round(a, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                b = Self.round(b, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self)))
                c = Self.round(c, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 16, as: UInt64.self)))
                d = Self.round(d, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self)))
            }
            for k in (stripes * 32)..<bytes.count {
                tail = Self.round(tail, UInt64(bytes[k]) &+ UInt64(k))
            }
            lanes = (a, b, c, d)
            length += bytes.count
        }

        func finish() -> UInt64 {
            let (a, b, c, d) = lanes
            var h = ((a << 1) | (a >> 63)) &+ ((b << 7) | (b >> 57)) &+ ((c << 12) | (c >> 52)) &+ ((d << 18) | (d >> 46))
            h = (h ^ Self.round(0, tail)) &* Self.p1 &+ Self.p4
            h ^= UInt64(truncatingIfNeeded: length) &* Self.p3
            h ^= h >> 33
            h = h &* Self.p2
            h ^= h >> 29
            h = h &* Self.p3
            h ^= h >> 32
            return h
        }
    }
}
