import Foundation
import GRDB
import Testing
@testable import Storage

@Suite("State file checks")
struct StateFileCheckTests {
    func temporaryPath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("tradejob.sqlite").path
    }

    @Test func aNewDatabaseGetsAnIdentityAndEveryOpenRaisesItsGeneration() throws {
        let path = try temporaryPath()
        do { _ = try StateDatabase(path: path) }
        let first = try StateFileCheck.inspect(path: path)
        #expect(first.applicationID != 0)
        do { _ = try StateDatabase(path: path) }
        let second = try StateFileCheck.inspect(path: path)
        #expect(second.applicationID == first.applicationID)
        #expect(second.generation == first.generation + 1)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the last close checkpoints and removes the -wal")
    }

    @Test func aLiveWALOfThisDatabaseIsAcceptedWhileAnotherConnectionIsOpen() throws {
        let path = try temporaryPath()
        let open = try StateDatabase(path: path)
        try open.writer.write { try $0.execute(sql: "INSERT INTO job_state (key, value) VALUES ('k', 'v')") }
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        let second = try StateDatabase(path: path)
        #expect(try second.writer.read { try String.fetchOne($0, sql: "SELECT value FROM job_state WHERE key = 'k'") } == "v")
    }

    @Test func theWALChecksumMatchesSQLites() throws {
        let path = try temporaryPath()
        let open = try StateDatabase(path: path)
        try open.writer.write { try $0.execute(sql: "INSERT INTO job_state (key, value) VALUES ('k', 'v')") }
        let wal = try #require(FileManager.default.contents(atPath: path + "-wal"))
        let bigEndian = StateFileCheck.bigEndian32(wal, 0) == 0x377f0683
        let sums = StateFileCheck.checksum(wal, 0, 24, bigEndian: bigEndian, seed: (0, 0))
        #expect(sums.0 == StateFileCheck.bigEndian32(wal, 24))
        #expect(sums.1 == StateFileCheck.bigEndian32(wal, 28))
    }

    @Test func emptyTruncatedAndReadOnlyDatabasesAreRefusedWithTheirKind() throws {
        let path = try temporaryPath()
        do { _ = try StateDatabase(path: path) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

        try Data().write(to: URL(fileURLWithPath: path))
        #expect { try StateFileCheck.inspect(path: path) } throws: { ($0 as? StateDatabaseError)?.kind == .damaged && "\($0)".contains("zero length") }

        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
        #expect { try StateFileCheck.inspect(path: path) } throws: { "\($0)".contains("truncated") }

        try bytes.write(to: URL(fileURLWithPath: path))
        chmod(path, 0o444)
        #expect { try StateDatabase(path: path) } throws: { ($0 as? StateDatabaseError)?.kind == .notWritable && "\($0)".contains("read-only") }
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func aWALWithoutItsDatabaseIsRefused() throws {
        let path = try temporaryPath()
        try Data(repeating: 1, count: 64).write(to: URL(fileURLWithPath: path + "-wal"))
        #expect(throws: StateDatabaseError.self) { _ = try StateDatabase(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func atomicFilesAreCreatedWithTheirMode() throws {
        let path = try temporaryPath()
        try AtomicFile.write("x", to: path + ".private")
        try AtomicFile.write("y", to: path + "-dir/shared.prom", mode: 0o640, directoryMode: 0o750)
        func mode(_ p: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? Int) ?? -1 }
        #expect(mode(path + ".private") == 0o600)
        #expect(mode(path + "-dir/shared.prom") == 0o640)
        #expect(mode(path + "-dir") == 0o750)
    }
}
