import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Read-only inspection of the state database's files before any SQLite connection touches them (a connection would
/// apply a `-wal`, and the last one to close would checkpoint it into the main file and delete it).
///
/// Refused, naming the file: a database that is empty, not an SQLite file, or shorter than its header says (damaged,
/// exit 70); a database, `-wal`, `-shm` or directory that cannot be written (exit 73, checked before anything is
/// created); a `-wal` without its database, with a bad header or page size, or whose first valid page-1 frame does not
/// carry this database's identity (`application_id`) and next generation (`user_version` + 1): another database's or
/// an older copy's `-wal`.
public enum StateFileCheck {
    static let untouched = "it was left untouched (with its -wal and -shm) — move the files aside to start with a fresh state, or restore a backup"

    /// What was found on disk.
    public struct Found: Sendable {
        public var exists = false
        public var applicationID: UInt32 = 0
        public var generation: UInt32 = 0
        public var pageSize = 0
    }

    /// `inspectOnce`, repeated (at most three times) when the files changed while they were read — a process closing
    /// the database was checkpointing its `-wal` into the main file — so a live database is not taken for a damaged one.
    public static func inspect(path: String) throws -> Found {
        var attempt = 0
        while true {
            let before = fingerprint(path)
            do {
                return try inspectOnce(path: path)
            } catch let error as StateDatabaseError where error.kind == .damaged && attempt < 2 && fingerprint(path) != before {
                attempt += 1
            }
        }
    }

    /// The main header and the `-wal`'s size and change time: what a checkpoint changes.
    static func fingerprint(_ path: String) -> [Int] {
        var values = [Int]((read(path, count: 100) ?? Data()).map { Int($0) })
        var st = stat()
        if stat(path + "-wal", &st) == 0 { values += [Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec), Int(st.st_ino)] } else { values.append(-1) }
        return values
    }

    static func inspectOnce(path: String) throws -> Found {
        var found = Found()
        let wal = path + "-wal", shm = path + "-shm"
        let directory = (path as NSString).deletingLastPathComponent
        var st = stat()
        guard stat(path, &st) == 0 else {
            if size(of: wal) ?? 0 > 0 {
                throw StateDatabaseError(path: path, message: "is missing but its -wal \(wal) is there; \(untouched)")
            }
            try requireWritable(directory.isEmpty ? "." : directory, what: "its directory", database: path)
            return found
        }
        found.exists = true
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw StateDatabaseError(path: path, message: "is not a regular file")
        }
        let fileSize = Int(st.st_size)
        if fileSize == 0 {
            throw StateDatabaseError(path: path, message: "is empty (zero length) where a state database was expected; \(untouched)")
        }
        try requireWritable(path, what: "the database", database: path)
        for file in [wal, shm] where FileManager.default.fileExists(atPath: file) {
            try requireWritable(file, what: "its \(file.hasSuffix("wal") ? "-wal" : "-shm")", database: path)
        }
        try requireWritable(directory.isEmpty ? "." : directory, what: "its directory", database: path)

        guard let header = read(path, count: 100) else {
            throw StateDatabaseError(path: path, message: "cannot be read (check its permissions)", kind: .notWritable)
        }
        guard header.count == 100, header.prefix(16).elementsEqual("SQLite format 3\u{0}".utf8) else {  // no `Data(…)`: its init casts
            throw StateDatabaseError(path: path, message: "is not an SQLite database (no SQLite header; corrupt or foreign file); \(untouched)")
        }
        let rawPageSize = Int(bigEndian16(header, 16))
        let pageSize = rawPageSize == 1 ? 65536 : rawPageSize
        guard pageSize >= 512, pageSize & (pageSize - 1) == 0 else {
            throw StateDatabaseError(path: path, message: "has a damaged header (page size \(rawPageSize)); \(untouched)")
        }
        found.pageSize = pageSize
        let headerPages = Int(bigEndian32(header, 28))
        let changeCounter = bigEndian32(header, 24), validFor = bigEndian32(header, 92)
        let truncated = fileSize % pageSize != 0 || (changeCounter == validFor && headerPages > 0 && fileSize < headerPages * pageSize)
        found.generation = bigEndian32(header, 60)
        found.applicationID = bigEndian32(header, 68)
        var walHasFrames = false
        if let walSize = size(of: wal), walSize > 0 {
            walHasFrames = try checkWAL(path: path, found: found)
        }
        // A checkpoint cut off by a kill writes page 1 (with the new size) before the pages that extend the file; the
        // database's own -wal still holds them, so the size is only a fault without one (quick_check reads through it).
        if truncated && !walHasFrames {
            throw StateDatabaseError(path: path, message: "is truncated (\(fileSize) bytes, its header says \(headerPages) pages of \(pageSize)); \(untouched)")
        }
        return found
    }

    /// Refuses a `-wal` that this database did not write (or not since its last checkpoint). Returns whether it holds
    /// valid frames (SQLite will apply them).
    @discardableResult
    static func checkWAL(path: String, found: Found) throws -> Bool {
        let walPath = path + "-wal"
        guard let wal = FileManager.default.contents(atPath: walPath) else {
            throw StateDatabaseError(path: path, message: "its -wal \(walPath) cannot be read", kind: .notWritable)
        }
        func refuse(_ why: String) -> StateDatabaseError {
            StateDatabaseError(path: path, message: "has a -wal \(walPath) that \(why); \(untouched)")
        }
        guard wal.count >= 32 else { throw refuse("is shorter than a WAL header (\(wal.count) bytes)") }
        let magic = bigEndian32(wal, 0)
        guard magic == 0x377f0682 || magic == 0x377f0683 else { throw refuse("is not an SQLite WAL (bad magic)") }
        let bigEndianSums = magic == 0x377f0683
        guard bigEndian32(wal, 4) == 3007000 else { throw refuse("has an unknown WAL version") }
        let pageSize = Int(bigEndian32(wal, 8))
        guard pageSize == found.pageSize else { throw refuse("has page size \(pageSize), the database \(found.pageSize): it belongs to another database") }
        let salt1 = bigEndian32(wal, 16), salt2 = bigEndian32(wal, 20)
        var sums = checksum(wal, 0, 24, bigEndian: bigEndianSums, seed: (0, 0))
        guard sums.0 == bigEndian32(wal, 24), sums.1 == bigEndian32(wal, 28) else { throw refuse("has a damaged header (checksum)") }
        if found.applicationID == 0 {
            throw refuse("cannot be verified: the database has no identity yet (written by an older tradejob)")
        }
        // Walk the frames SQLite would accept (salts and running checksum), remembering the first page-1 image.
        let frameSize = 24 + pageSize
        var offset = 32
        var firstPageOne: Data?
        var committedPageOnes: [Int] = []  // offsets of page-1 frames up to the last commit (SQLite applies no others)
        var pendingPageOnes: [Int] = []
        while offset + frameSize <= wal.count {
            guard bigEndian32(wal, offset + 8) == salt1, bigEndian32(wal, offset + 12) == salt2 else { break }
            sums = checksum(wal, offset, 8, bigEndian: bigEndianSums, seed: sums)
            sums = checksum(wal, offset + 24, pageSize, bigEndian: bigEndianSums, seed: sums)
            guard sums.0 == bigEndian32(wal, offset + 16), sums.1 == bigEndian32(wal, offset + 20) else { break }
            if bigEndian32(wal, offset) == 1 { pendingPageOnes.append(offset) }
            if bigEndian32(wal, offset + 4) != 0 {  // a commit frame: the transaction's frames count from here on
                committedPageOnes += pendingPageOnes
                pendingPageOnes.removeAll()
            }
            if firstPageOne == nil, bigEndian32(wal, offset) == 1 {
                firstPageOne = wal.subdata(in: (wal.startIndex + offset + 24)..<(wal.startIndex + offset + 24 + 100))
            }
            offset += frameSize
        }
        guard let page = firstPageOne else {
            if offset == 32 { return false }  // no valid frame: SQLite ignores it, nothing of it is applied
            throw refuse("does not start with this database's identity frame (another database's or an older copy's -wal)")
        }
        let id = bigEndian32(page, 68), generation = bigEndian32(page, 60)
        guard id == found.applicationID else {
            throw refuse("belongs to another database (application id \(id), this database's is \(found.applicationID))")
        }
        if generation != found.generation &+ 1,
           checkpointed(wal: wal, pageOnes: committedPageOnes, pageSize: pageSize, databasePath: path) {
            // The main file was checkpointed from this very -wal: its page 1 (which carries the identity and the
            // generation) is one of this -wal's committed page-1 images. That happens when a process is killed during
            // its closing checkpoint (SQLite copies page 1 first), and again when the next process then appended to the
            // same -wal before it, too, was killed. Applying the -wal is SQLite's own recovery of a cut-off checkpoint.
            return true
        }
        guard generation == found.generation &+ 1 else {
            throw refuse("is stale: it was written at generation \(generation), the database is at generation \(found.generation) (an older copy's -wal)")
        }
        return true
    }

    /// Whether the main file's page 1 is, byte for byte, one of the `-wal`'s committed page-1 images: a checkpoint of
    /// this `-wal` wrote it.
    static func checkpointed(wal: Data, pageOnes: [Int], pageSize: Int, databasePath: String) -> Bool {
        guard !pageOnes.isEmpty, let page = read(databasePath, count: pageSize), page.count == pageSize else { return false }
        return pageOnes.contains { wal.subdata(in: (wal.startIndex + $0 + 24)..<(wal.startIndex + $0 + 24 + pageSize)) == page }
    }

    /// SQLite's WAL checksum over `count` bytes (a multiple of 8) starting at `start`.
    static func checksum(_ data: Data, _ start: Int, _ count: Int, bigEndian: Bool, seed: (UInt32, UInt32)) -> (UInt32, UInt32) {
        var (s0, s1) = seed
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var i = start
            while i + 8 <= start + count {
                var x0 = raw.loadUnaligned(fromByteOffset: i, as: UInt32.self)
                var x1 = raw.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self)
                if bigEndian { x0 = UInt32(bigEndian: x0); x1 = UInt32(bigEndian: x1) } else { x0 = UInt32(littleEndian: x0); x1 = UInt32(littleEndian: x1) }
                s0 = s0 &+ x0 &+ s1
                s1 = s1 &+ x1 &+ s0
                i += 8
            }
        }
        return (s0, s1)
    }

    /// Refuses (exit 73) a file or directory this process cannot write, or one without its owner's write bit (root
    /// could write it anyway, but SQLite would leave a read-only `-shm` behind).
    static func requireWritable(_ file: String, what: String, database: String) throws {
        var st = stat()
        guard stat(file, &st) == 0 else { return }
        if access(file, W_OK) != 0 || st.st_mode & S_IWUSR == 0 {
            let mode = String(st.st_mode & 0o7777, radix: 8)
            throw StateDatabaseError(path: database, message: "\(what) \(file) is read-only (mode 0\(mode)); nothing was changed — make it writable (chmod u+w) and run again", kind: .notWritable)
        }
    }

    static func size(of file: String) -> Int? {
        var st = stat()
        return stat(file, &st) == 0 ? Int(st.st_size) : nil
    }

    static func read(_ file: String, count: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: count)) ?? Data()
    }

    static func bigEndian16(_ data: Data, _ offset: Int) -> UInt16 {
        let i = data.startIndex + offset
        return UInt16(data[i]) << 8 | UInt16(data[i + 1])
    }

    static func bigEndian32(_ data: Data, _ offset: Int) -> UInt32 {
        let i = data.startIndex + offset
        return UInt32(data[i]) << 24 | UInt32(data[i + 1]) << 16 | UInt32(data[i + 2]) << 8 | UInt32(data[i + 3])
    }
}
