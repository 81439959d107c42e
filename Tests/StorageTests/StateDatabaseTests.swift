import Foundation
import GRDB
import Testing
@testable import Storage
import TradingDomain

@Suite("State database")
struct StateDatabaseTests {
    func temporaryPath() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("tradejob.sqlite").path
    }

    @Test func createsMigratesAndUsesWAL() throws {
        let path = try temporaryPath()
        let db = try StateDatabase(path: path)
        let mode = try db.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let tables = try db.writer.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        for table in ["runs", "candles", "signals", "orders", "fills", "positions", "wallet", "events", "equity", "job_state"] {
            #expect(tables.contains(table), "\(table)")
        }
        // Reopening applies no migration twice.
        _ = try StateDatabase(path: path)
    }

    @Test func candlesAreUpsertedOnTheirKey() throws {
        let db = try StateDatabase(path: try temporaryPath())
        let tf = Timeframe("15m")!
        try db.writer.write { d in
            try Candles.upsert(d, symbol: "X", timeframe: tf, candles: [Candle(openTime: 0, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10),
                                                                        Candle(openTime: 900_000, open: 1.5, high: 2, low: 1, close: 1.8, volume: 10)])
            try Candles.upsert(d, symbol: "X", timeframe: tf, candles: [Candle(openTime: 900_000, open: 1.5, high: 2.5, low: 1, close: 2, volume: 11)])
        }
        let window = try db.writer.read { try Candles.window($0, symbol: "X", timeframe: tf, limit: 10) }
        #expect(window.count == 2)
        #expect(window.last?.close == 2)
        #expect(try db.writer.read { try Candles.newestOpenTime($0, symbol: "X", timeframe: tf) } == 900_000)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftUntouched() throws {
        let path = try temporaryPath()
        let garbage = Data("this is not an sqlite database, just some text that must survive".utf8)
        try garbage.write(to: URL(fileURLWithPath: path))
        #expect(throws: StateDatabaseError.self) { _ = try StateDatabase(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
    }

    @Test func aCorruptDatabaseIsRefusedAndLeftUntouched() throws {
        let path = try temporaryPath()
        do { _ = try StateDatabase(path: path) }
        // Keep the SQLite header, destroy the rest of the first page.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in 100..<min(bytes.count, 4096) { bytes[i] = 0xA5 }
        try bytes.write(to: URL(fileURLWithPath: path))
        try? FileManager.default.removeItem(atPath: path + "-wal")
        try? FileManager.default.removeItem(atPath: path + "-shm")
        #expect(throws: StateDatabaseError.self) { _ = try StateDatabase(path: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func fillsAreRecordedOnce() throws {
        let db = try StateDatabase(path: try temporaryPath())
        let fill = Fill(clientOrderID: "c1", tradeID: "t1", symbol: "X", side: .buy, quantity: 1, price: 2, fee: 0, feeAsset: "USDT", time: 0)
        let (first, second) = try db.writer.write { d in (try Fills.insert(d, fill, runID: 1), try Fills.insert(d, fill, runID: 1)) }
        #expect(first)
        #expect(!second)
    }

    @Test func atomicFileReplacesWholeContent() throws {
        let path = try temporaryPath() + ".txt"
        try AtomicFile.write("first\n", to: path)
        try AtomicFile.write("second\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    /// A file written in pieces appears only when committed; an abandoned one leaves the old content and no temporary file.
    @Test func atomicFileWriterPutsTheFileInPlaceOnlyOnCommit() throws {
        let path = try temporaryPath() + ".csv"
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try AtomicFile.write("old\n", to: path)
        let abandoned = try AtomicFileWriter(path: path)
        for i in 0..<20_000 { try abandoned.append("line \(i)\n") }  // more than one buffer
        abandoned.abandon()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        let writer = try AtomicFileWriter(path: path)
        var expected = ""
        for i in 0..<20_000 {
            try writer.append("row \(i)\n")
            expected += "row \(i)\n"
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        try writer.commit()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }.isEmpty)
    }

    /// A path that names no file (empty, ending in `/`, `.`, `..`, or an existing directory) is refused when the writer
    /// is made, with a message that says so, and no temporary file is left anywhere (one used to be made in the working
    /// directory for an empty path, and the error came only at the rename).
    @Test func aPathThatNamesNoFileIsRefusedBeforeAnythingIsWritten() throws {
        let directory = URL(fileURLWithPath: try temporaryPath()).deletingLastPathComponent().path
        let cases: [(path: String, says: String)] = [
            ("", "an empty path: a file name was expected"), (directory + "/", "the path names a directory, not a file"),
            (directory + "/.", "the path names a directory, not a file"), (directory + "/..", "the path names a directory, not a file"),
            (directory, "it is a directory, not a file"),
        ]
        for (path, says) in cases {
            var refusal = ""
            do {
                _ = try AtomicFileWriter(path: path)
                Issue.record("\(path) was accepted")
            } catch let error as AtomicFileError {
                refusal = error.description
            }
            #expect(refusal.hasSuffix(says), "\(path): \(refusal)")
            #expect(throws: AtomicFileError.self) { try AtomicFile.write("x", to: path) }
        }
        let cwd = FileManager.default.currentDirectoryPath
        for place in [directory, cwd] {
            #expect(try FileManager.default.contentsOfDirectory(atPath: place).filter { $0.contains(".tmp-\(getpid())") }.isEmpty, "\(place)")
        }
    }

    /// The file helpers that replaced Foundation's on the cycle's start: the same answers as `URL` and `FileManager`.
    @Test func fileHelpersAnswerAsFoundationDoes() throws {
        for path in ["a/b/c", "c", "/c", "/x/y/tradejob.prom", "state/metrics/tradejob.prom"] {
            let (directory, name) = AtomicFileWriter.split(path)
            let url = URL(fileURLWithPath: path)
            #expect(URL(fileURLWithPath: directory).standardizedFileURL.path == url.deletingLastPathComponent().standardizedFileURL.path, "\(path)")
            #expect(name == url.lastPathComponent, "\(path)")
        }
        let directory = URL(fileURLWithPath: try temporaryPath()).deletingLastPathComponent().path
        for name in ["plain", ".hidden", "with space", "é.txt", ".next_run.tmp-1"] { try "x".write(toFile: directory + "/" + name, atomically: false, encoding: .utf8) }
        try FileManager.default.createDirectory(atPath: directory + "/metrics", withIntermediateDirectories: false)
        #expect(Set(StaleTemporaryFiles.names(in: directory)) == Set(try FileManager.default.contentsOfDirectory(atPath: directory)))
        #expect(StaleTemporaryFiles.names(in: directory + "/missing").isEmpty)
        // A temporary file of a process that no longer exists goes, in the directory and one level down; others stay.
        let dead = Int32.max - 7
        try "x".write(toFile: directory + "/metrics/.tradejob.prom.tmp-\(dead)", atomically: false, encoding: .utf8)
        try "x".write(toFile: directory + "/.next_run.tmp-\(getpid())", atomically: false, encoding: .utf8)
        let removed = StaleTemporaryFiles.remove(in: directory)
        #expect(removed == [directory + "/metrics/.tradejob.prom.tmp-\(dead)"])
        #expect(FileManager.default.fileExists(atPath: directory + "/.next_run.tmp-\(getpid())"))
    }
}
