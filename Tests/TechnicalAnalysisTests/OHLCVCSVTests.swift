import Foundation
import Testing
@testable import TechnicalAnalysis

@Suite("OHLCV CSV input")
struct OHLCVCSVTests {
    @Test func parsesRFC3339AndEpochMillisecondsAndCRLF() throws {
        let s = try OHLCVCSV.parse("time,open,high,low,close,volume\r\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\r\n1704067260000,1.5,2,1,1.2,5\r\n")
        #expect(s.time == [1_704_067_200_000, 1_704_067_260_000])
        #expect(s.close == [1.5, 1.2])
    }

    static let malformed: [(String, String)] = [
        ("time,open,high,low,close\n", "volume"),
        ("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,x,0.5,1.5,10\n", "line 2, column high"),
        ("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,0.4,0.5,0.45,10\n", "high ≥ low"),
        ("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n", "strictly increasing"),
        ("time,open,high,low,close,volume\nyesterday,1,2,0.5,1.5,10\n", "RFC 3339"),
        ("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5\n", "line 2, column close, expected 6 comma-separated fields"),
        ("time,open,high,low,close,volume\n\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n \n2024-01-01T00:01:00Z,1,2,0.5,1.5,-1", "line 5, column volume"),
        ("", "empty"),
    ]

    @Test(arguments: malformed)
    func malformedInputNamesTheLine(text: String, fragment: String) {
        do {
            _ = try OHLCVCSV.parse(text)
            Issue.record("accepted malformed input")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
    }

    /// A row may lack trailing columns the parser does not read.
    @Test func ignoresMissingColumnsItDoesNotRead() throws {
        let s = try OHLCVCSV.parse("time,open,high,low,close,volume,note\n1000,1,2,0.5,1.5,10\n2000,1,2,0.5,1.5,10,x\n")
        #expect(s.time == [1000, 2000])
    }

    /// Files are read a block at a time: every block size, down to one byte (every line split across blocks, lines
    /// longer than the block), gives the same bars as parsing the whole text — and the same error.
    @Test(arguments: [1, 2, 7, 64, 1000, 1 << 20])
    func readingInBlocksGivesTheWholeTextsResult(blockSize: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ohlcv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var texts = try ["synthetic", "awkward", "short"].map {
            try String(contentsOf: TestData.fixtures.appendingPathComponent("\($0).csv"), encoding: .utf8)
        }
        texts.append("time,open,high,low,close,volume\r\n\r\n1000,1,2,0.5,1.5,10\r\n  2000 , 1.5,2,1,1.2,5")  // CRLF, blank line, no final newline
        texts.append(contentsOf: Self.malformed.map(\.0))
        for (n, text) in texts.enumerated() {
            let path = dir.appendingPathComponent("\(n).csv").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let whole = Result { try OHLCVCSV.parse(text) }
            var blocks = OHLCVSeries()
            let streamed = Result {
                try OHLCVCSV.read(path: path, blockSize: blockSize) { blocks.append($0) }
                return blocks
            }
            switch (whole, streamed) {
            case let (.success(a), .success(b)):
                #expect(a == b, "file \(n), block size \(blockSize)")
                #expect(a.count > 0 || text.hasPrefix("time"), "file \(n)")
            case let (.failure(a), .failure(b)):
                #expect("\(a)" == "\(b)", "file \(n), block size \(blockSize)")
            default:
                Issue.record("file \(n), block size \(blockSize): whole \(whole), streamed \(streamed)")
            }
        }
    }

    @Test func aMissingFileIsNamed() {
        do {
            try OHLCVCSV.read(path: "/nonexistent/bars.csv") { _ in }
            Issue.record("read a missing file")
        } catch {
            #expect(error is OHLCVFileUnreadable)
            #expect("\(error)".contains("/nonexistent/bars.csv does not exist or cannot be read"), "\(error)")
        }
    }
}
