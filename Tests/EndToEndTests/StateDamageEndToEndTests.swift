import Foundation
import GRDB
import Testing
import TestSupport

/// Damaged, foreign and read-only state through the real binary: `run` and `status` refuse with the documented exit
/// code naming the database, and the database, its `-wal` and `-shm` are byte-identical (and equally present) afterwards.
@Suite("state damage checks", .enabled(if: !Harness.onPostgres, Harness.sqliteOnlyNote), .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct StateDamageEndToEndTests {
    static let first = "2024-03-01T00:00:15Z"

    /// The bytes of the database files (nil for a missing one).
    struct Evidence: Equatable {
        var files: [String: Data?]
        init(_ h: Harness) {
            var files: [String: Data?] = [:]
            for suffix in ["", "-wal", "-shm"] {
                let path = h.databasePath + suffix
                files[suffix] = FileManager.default.fileExists(atPath: path) ? FileManager.default.contents(atPath: path) : nil
            }
            self.files = files
        }
    }

    /// A harness with one finished cycle.
    func baseline() throws -> Harness {
        let h = try Harness()
        let r = try h.run(["run", "--now", Self.first])
        try #require(r.code == 0, "baseline run: \(r.stderr)")
        return h
    }

    /// A copy of `h`'s state in a fresh harness.
    func copy(_ h: Harness) throws -> Harness {
        let c = try Harness()
        try FileManager.default.copyItem(atPath: h.stateDir, toPath: c.stateDir)
        return c
    }

    /// The `-wal` a crashed job would leave on `database`: the identity write (generation + 1) and a change, captured
    /// while the connection is still open (the copy it was written on is then closed and thrown away).
    func crashWAL(of h: Harness) throws -> Data {
        let c = try copy(h)
        defer { c.remove() }
        var configuration = Configuration()
        configuration.prepareDatabase { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        let queue = try DatabaseQueue(path: c.databasePath, configuration: configuration)
        try queue.write { db in
            let generation = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            try db.execute(sql: "PRAGMA user_version = \(generation + 1)")
            try db.execute(sql: "UPDATE runs SET summary = 'changed by the captured wal'")
        }
        let wal = try #require(FileManager.default.contents(atPath: c.databasePath + "-wal"))
        try queue.close()
        return wal
    }

    /// Runs `run` and `status` on a damaged state: both refused with `code`, naming the database, evidence unchanged.
    func expectRefused(_ h: Harness, code: Int32, mentioning: String, _ label: String) throws {
        let before = Evidence(h)
        for arguments in [["run", "--now", "2024-03-01T01:00:15Z"], ["status"]] {
            let r = try h.run(arguments)
            #expect(r.code == code, "\(label) \(arguments[0]): exit \(r.code), stderr: \(r.stderr)")
            #expect(r.stderr.contains(h.databasePath), "\(label) \(arguments[0]): the message does not name the file: \(r.stderr)")
            #expect(r.stderr.contains(mentioning), "\(label) \(arguments[0]): expected \"\(mentioning)\" in: \(r.stderr)")
            #expect(Evidence(h) == before, "\(label) \(arguments[0]): the database files changed")
        }
    }

    @Test func seededCorruptionsAreRefusedWithTheFilesUntouched() throws {
        let base = try baseline()
        defer { base.remove() }
        let original = try #require(FileManager.default.contents(atPath: base.databasePath))
        #expect(!FileManager.default.fileExists(atPath: base.databasePath + "-wal"), "a clean run leaves no -wal")
        let pageSize = 4096
        try #require(original.count >= 4 * pageSize)
        var random = SeededGenerator(seed: 16)
        for n in 0..<40 {
            let h = try copy(base)
            defer { h.remove() }
            var bytes = original
            let label: String
            switch n % 5 {
            case 0:  // 4 KiB of garbage at a seeded offset (the page after it loses its header)
                let offset = Int.random(in: 0...(original.count - 2 * pageSize), using: &random)
                for i in offset..<(offset + 4096) { bytes[i] = UInt8.random(in: 0...255, using: &random) }
                label = "garbage at \(offset)"
            case 1:  // truncated
                let length = Int.random(in: 1..<(original.count - 1), using: &random)
                bytes = bytes.prefix(length)
                label = "truncated to \(length)"
            case 2:  // random bytes of a seeded length
                bytes = Data((0..<Int.random(in: 1...20_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
                label = "random bytes"
            case 3:  // zero length
                bytes = Data()
                label = "zero length"
            default:  // an intact database beside a -wal of random bytes (sometimes with a valid WAL magic)
                var wal = Data((0..<Int.random(in: 1...20_000, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
                if Bool.random(using: &random), wal.count >= 4 { wal.replaceSubrange(0..<4, with: [0x37, 0x7f, 0x06, 0x82]) }
                try wal.write(to: URL(fileURLWithPath: h.databasePath + "-wal"))
                label = "random -wal of \(wal.count) bytes"
            }
            try bytes.write(to: URL(fileURLWithPath: h.databasePath))
            try expectRefused(h, code: 70, mentioning: "tradejob.sqlite", "case \(n) (\(label))")
        }
    }

    @Test func aStaleOrForeignWALIsRefusedAndTheJobsOwnCrashWALIsRecovered() throws {
        let base = try baseline()
        defer { base.remove() }
        let stale = try crashWAL(of: base)          // written at the baseline's generation + 1
        let other = try baseline()
        defer { other.remove() }
        let foreign = try crashWAL(of: other)       // another database's identity

        // The job's own -wal after a crash is applied (a copy of the baseline is still at that generation).
        let recovered = try copy(base)
        defer { recovered.remove() }
        try stale.write(to: URL(fileURLWithPath: recovered.databasePath + "-wal"))
        let ok = try recovered.run(["run", "--now", "2024-03-01T01:00:15Z"])
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(try recovered.sqlite("SELECT COUNT(*) FROM runs WHERE summary = 'changed by the captured wal'") == "1")

        // Killed while closing: the checkpoint had copied the -wal into the main file (which is now at its generation)
        // but the -wal was not removed yet. Every page of it is already in the main file, so it is accepted.
        let closing = try copy(base)
        defer { closing.remove() }
        try stale.write(to: URL(fileURLWithPath: closing.databasePath + "-wal"))
        _ = try closing.sqlite("PRAGMA wal_checkpoint(TRUNCATE)")  // sqlite3 applies it and removes it on close
        #expect(!FileManager.default.fileExists(atPath: closing.databasePath + "-wal"))
        try stale.write(to: URL(fileURLWithPath: closing.databasePath + "-wal"))
        let afterClose = try closing.run(["run", "--now", "2024-03-01T01:00:15Z"])
        #expect(afterClose.code == 0, "a -wal already checkpointed: \(afterClose.stderr)")

        // Killed in the middle of that checkpoint: only page 1 (copied first) is in the main file yet. SQLite finishes it.
        let midway = try copy(base)
        defer { midway.remove() }
        try stale.write(to: URL(fileURLWithPath: midway.databasePath + "-wal"))
        func word(_ data: Data, _ at: Int) -> Int { data[data.startIndex + at ..< data.startIndex + at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let pageSize = word(stale, 8)
        var pageOne: Data?
        var offset = 32
        while offset + 24 + pageSize <= stale.count {
            if word(stale, offset) == 1 { pageOne = stale.subdata(in: (stale.startIndex + offset + 24)..<(stale.startIndex + offset + 24 + pageSize)) }
            offset += 24 + pageSize
        }
        let handle = try #require(FileHandle(forWritingAtPath: midway.databasePath))
        try handle.write(contentsOf: try #require(pageOne))
        try handle.close()
        let afterMidway = try midway.run(["run", "--now", "2024-03-01T01:00:15Z"])
        #expect(afterMidway.code == 0, "a checkpoint cut off after page 1: \(afterMidway.stderr)")
        #expect(try midway.sqlite("PRAGMA integrity_check") == "ok")
        #expect(try midway.sqlite("SELECT COUNT(*) FROM runs WHERE summary = 'changed by the captured wal'") == "1", "the -wal's change was kept")

        // The baseline moves on; the -wal captured earlier is now an older copy's.
        #expect(try base.run(["run", "--now", "2024-03-01T04:00:15Z"]).code == 0)
        let staleCase = try copy(base)
        defer { staleCase.remove() }
        try stale.write(to: URL(fileURLWithPath: staleCase.databasePath + "-wal"))
        try expectRefused(staleCase, code: 70, mentioning: "is stale", "stale -wal")

        let foreignCase = try copy(base)
        defer { foreignCase.remove() }
        try foreign.write(to: URL(fileURLWithPath: foreignCase.databasePath + "-wal"))
        try expectRefused(foreignCase, code: 70, mentioning: "belongs to another database", "foreign -wal")
    }

    @Test func aReadOnlyDatabaseExits73NamingItAndLeavesNoShm() throws {
        let h = try baseline()
        defer { h.remove() }
        chmod(h.databasePath, 0o444)
        try expectRefused(h, code: 73, mentioning: "read-only", "read-only database")
        #expect(!FileManager.default.fileExists(atPath: h.databasePath + "-shm"))
        chmod(h.databasePath, 0o600)
        let r = try h.run(["run", "--now", "2024-03-01T04:00:15Z"])
        #expect(r.code == 0, "after the permission is fixed: \(r.stderr)")
    }

    @Test func stateFilesArePrivateAndMetricsGroupReadable() throws {
        let h = try baseline()
        defer { h.remove() }
        func mode(_ path: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
        }
        #expect(mode(h.stateDir) == 0o700)
        for file in ["tradejob.sqlite", "next_run", "tradejob.lock"] {
            #expect(mode(h.stateDir + "/" + file) == 0o600, "\(file): \(String(mode(h.stateDir + "/" + file), radix: 8))")
        }
        #expect(mode(h.stateDir + "/metrics") == 0o750)
        #expect(mode(h.stateDir + "/metrics/tradejob.prom") == 0o640)

        // Looser modes left by an older version are tightened on the next run.
        chmod(h.stateDir, 0o755)
        chmod(h.databasePath, 0o644)
        #expect(try h.run(["run", "--now", "2024-03-01T04:00:15Z"]).code == 0)
        #expect(mode(h.stateDir) == 0o700)
        #expect(mode(h.databasePath) == 0o600)
    }
}
