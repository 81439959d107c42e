import Foundation
import GRDB
import Testing
@testable import Storage
import TestSupport

/// `<db>-checksum`: a clean close records the main file, the next open trusts only that exact file (anything else
/// gets the full `quick_check`), and a refusal before writing leaves the files as they were.
@Suite("Clean-close record")
struct CleanCloseRecordTests {
    func temporaryPath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-clean-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("tradejob.sqlite").path
    }

    /// A database with some rows over several pages, closed cleanly.
    func closedDatabase() throws -> String {
        let path = try temporaryPath()
        let database = try StateDatabase(path: path)
        try database.write { ledger in
            for k in 0..<200 { try ledger.setJobState("key.\(k)", String(repeating: "v", count: 200)) }
        }
        // No free pages (the migrations drop tables): every page is part of a b-tree, which quick_check reads.
        try database.writer.writeWithoutTransaction { try $0.execute(sql: "VACUUM") }
        try database.close()
        return path
    }

    func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func aCleanCloseRecordsTheMainFileAndTheNextOpenUsesIt() throws {
        let path = try closedDatabase()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the close checkpointed and removed the -wal")
        #expect(CleanCloseRecord.matches(database: path))
        let reopened = try StateDatabase(path: path)
        #expect(!FileManager.default.fileExists(atPath: CleanCloseRecord.path(for: path)), "the record goes with the first write")
        #expect(try reopened.read { try $0.jobState("key.7") } == String(repeating: "v", count: 200))
        try reopened.close()
        #expect(CleanCloseRecord.matches(database: path), "recorded again at the close")
    }

    @Test func aChangedFileIsCheckedInFullAndADamagedOneRefusedUntouched() throws {
        let path = try closedDatabase()
        let original = try #require(contents(path))
        let pageSize = 4096
        try #require(original.count >= 4 * pageSize)
        var random = SeededGenerator(seed: 20)
        for _ in 0..<8 {
            // Garbage over a seeded page past the header, with the record left in place.
            var bytes = original
            let page = Int.random(in: 1..<(original.count / pageSize), using: &random)
            for i in (page * pageSize)..<((page + 1) * pageSize) { bytes[i] = UInt8.random(in: 0...255, using: &random) }
            try bytes.write(to: URL(fileURLWithPath: path))
            #expect(!CleanCloseRecord.matches(database: path))
            #expect(throws: StateDatabaseError.self, "garbage over page \(page)") { _ = try StateDatabase(path: path) }
            #expect(contents(path) == bytes, "the damaged file was left as it was")
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        }
    }

    @Test func aRefusalBeforeWritingOnARecordedFileLeavesEverythingAsItWas() throws {
        let path = try closedDatabase()
        let before = try #require(contents(path))
        let record = try #require(contents(CleanCloseRecord.path(for: path)))
        struct Refused: Error {}
        var asked = false
        #expect(throws: Refused.self) {
            _ = try StateDatabase(path: path) { ledger in
                asked = try ledger.jobState("key.1") != nil
                throw Refused()
            }
        }
        #expect(asked, "the check saw the stored state")
        #expect(contents(path) == before)
        #expect(contents(CleanCloseRecord.path(for: path)) == record)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
    }

    @Test func theChecksumChangesWithAnyByteAndTheLength() throws {
        var random = SeededGenerator(seed: 7)
        let base = Data((0..<10_000).map { _ in UInt8.random(in: 0...255, using: &random) })
        func sum(_ data: Data) -> UInt64 {
            var checksum = ByteChecksum()
            data.withUnsafeBytes { checksum.add($0) }
            return checksum.finish()
        }
        let reference = sum(base)
        for _ in 0..<200 {
            var changed = base
            let at = Int.random(in: 0..<base.count, using: &random)
            changed[at] ^= UInt8.random(in: 1...255, using: &random)
            #expect(sum(changed) != reference, "byte \(at) changed")
        }
        #expect(sum(base.prefix(9_984)) != reference)
        #expect(sum(base + Data(count: 32)) != reference, "zeros appended")
        #expect(CleanCloseRecord.parse(CleanCloseRecord.text((12_288, 0xdead_beef))).map { [$0.size, Int($0.sum)] } == [12_288, 0xdead_beef])
        #expect(CleanCloseRecord.parse("v1 12 zz\n") == nil)
        #expect(CleanCloseRecord.parse("") == nil)
    }
}
