import Foundation
import Testing
import TestSupport
import MarketData
@testable import TechnicalAnalysis
import TradingDomain

/// The one-pass reader of plain OHLCV files (`PlainOHLCVFile`) gives the candles `OHLCVCSV` gives, bit for bit, and
/// leaves every other file to it.
@Suite("Backtest: plain OHLCV files")
struct PlainOHLCVFileTests {
    /// The general reader's candles, or its error.
    static func general(_ path: String) -> Result<[Candle], any Error> {
        Result {
            var candles: [Candle] = []
            try OHLCVCSV.read(path: path) { row in
                candles.append(Candle(openTime: row.time, open: row.open, high: row.high, low: row.low, close: row.close, volume: row.volume))
            }
            return candles
        }
    }

    static func bits(_ c: Candle) -> [UInt64] {
        [UInt64(bitPattern: c.openTime), c.open.bitPattern, c.high.bitPattern, c.low.bitPattern, c.close.bitPattern, c.volume.bitPattern]
    }

    /// A decimal as tools write them: a few integer digits, up to 12 decimals, sometimes long, negative or odd.
    static func decimal(_ g: inout SeededGenerator, around value: Double) -> String {
        switch Int.random(in: 0..<40, using: &g) {
        case 0: return "1e-7"                                   // exponent: the general reader's
        case 1: return String(value) + "0000000000000000000000"  // more than 22 decimals (or digits)
        case 2: return "9007199254740993"                       // above 2^53
        case 3: return " " + String(format: "%.4f", value)       // a space
        default: return String(format: "%.\(Int.random(in: 0...12, using: &g))f", value)
        }
    }

    @Test func plainFilesGiveTheGeneralReadersCandles() throws {
        var g = SeededGenerator(seed: 2020)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-plain-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var plain = 0, left = 0
        for round in 0..<160 {
            let odd = round % 2 == 1  // half the files get one unusual line somewhere
            var text = round % 23 == 5 ? "Time,Open,High,Low,Close,Volume\n" : "time,open,high,low,close,volume\n"
            var t: Int64 = 1_577_836_800_000 + Int64.random(in: 0..<1000, using: &g) * 900_000
            let rows = Int.random(in: 1..<400, using: &g)
            let oddRow = Int.random(in: 0..<rows, using: &g)
            var close = Double.random(in: 0.001...50_000, using: &g)
            for row in 0..<rows {
                let open = close
                close = max(0.0001, close * (1 + Double.random(in: -0.02...0.02, using: &g)))
                let high = max(open, close) * (1 + Double.random(in: 0...0.01, using: &g)), low = min(open, close) * (1 - Double.random(in: 0...0.01, using: &g))
                var fields = [Timestamp.rfc3339(t), String(format: "%.6f", open), String(format: "%.6f", high), String(format: "%.6f", low),
                              String(format: "%.6f", close), String(Int.random(in: 0...100_000, using: &g))]
                if odd && row == oddRow {
                    switch Int.random(in: 0..<12, using: &g) {
                    case 0: fields[2] = String(format: "%.6f", low * 0.5)        // high below low: refused
                    case 1: t -= 900_000                                          // time not increasing: refused
                    case 2: fields[0] = String(t)                                 // epoch milliseconds
                    case 3: fields.append("extra")                                // a seventh field
                    case 4: fields[5] = "-1"                                      // negative volume: refused
                    case 5: fields[1] = Self.decimal(&g, around: open)
                    case 6: fields[4] = "-" + fields[4]                           // negative close: low above it, refused
                    case 7: fields[0] = "2020-02-30T00:00:00Z"                    // no such day: refused
                    case 8: fields[3] = Self.decimal(&g, around: low)
                    case 9: fields[0] = String(fields[0].prefix(11)) + ["24:00:00Z", "10:60:00Z", "10:00:6aZ", "10-00:00Z"][row % 4]  // a bad time of a day seen
                    case 10: fields[0] = String(fields[0].prefix(11)) + "23:59:59Z"  // the day's last second (not increasing after it)
                    default: fields[5] = fields[5] + "\r"                         // a CRLF line
                    }
                }
                text += fields.joined(separator: ",") + (row == rows - 1 && round % 7 == 3 ? "" : "\n")
                t += 900_000 * Int64.random(in: 1...3, using: &g)
            }
            let path = dir + "/\(round).csv"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let expected = Self.general(path)
            for blockSize in [256, 300, 1 << 20] {
                let fast = PlainOHLCVFile.candles(path: path, blockSize: blockSize, chunks: 1)
                // Read in chunks on several threads: the one-thread reading, or nil with it.
                for chunks in [2, 3, 4] {
                    let chunked = PlainOHLCVFile.candles(path: path, blockSize: blockSize, chunks: chunks)
                    #expect(chunked?.map(Self.bits) == fast?.map(Self.bits), "file \(round), block \(blockSize), \(chunks) chunks")
                }
                if let fast {
                    // Read here only what the general reader reads, and the same values.
                    let candles = try expected.get()
                    #expect(fast.map(Self.bits) == candles.map(Self.bits), "file \(round), block \(blockSize)")
                } else if !odd, round % 23 != 5 {
                    Issue.record("file \(round) is plain but was left to the general reader")
                }
                if blockSize == 1 << 20 { if fast == nil { left += 1 } else { plain += 1 } }
            }
            // What the backtest loads: the same candles, or the same refusal.
            switch (Result { try CSVMarket.load(path: path, symbol: "SYN") }, expected) {
            case let (.success(loaded), .success(candles)): #expect(loaded.map(Self.bits) == candles.map(Self.bits))
            case (.failure, .failure): break
            default: Issue.record("file \(round): the loader and the general reader disagree")
            }
        }
        #expect(plain > 60 && left > 30)
    }

    /// A plain file of `rows` lines 15 minutes apart, each line's fields changed by `edit` (given the row), and where
    /// each line starts.
    static func plainFile(rows: Int, seed: UInt64, newlineAtEnd: Bool = true, edit: (Int, inout [String]) -> Void = { _, _ in }) -> (text: String, lineStarts: [Int]) {
        var g = SeededGenerator(seed: seed)
        var text = "time,open,high,low,close,volume\n"
        var starts: [Int] = []
        var close = 100.0
        for row in 0..<rows {
            let open = close
            close *= 1 + Double.random(in: -0.02...0.02, using: &g)
            let high = max(open, close) * 1.001, low = min(open, close) * 0.999
            let scale = pow(10, Double(row % 7))  // the high with 0 to 6 decimals, rounded up
            var fields = [Timestamp.rfc3339(1_577_836_800_000 + Int64(row) * 900_000), String(format: "%.6f", open), String(format: "%.\(row % 7)f", (high * scale).rounded(.up) / scale),
                          String(format: "%.6f", low), String(format: "%.6f", close), String(Int.random(in: 0...100_000, using: &g))]
            edit(row, &fields)
            starts.append(text.utf8.count)
            text += fields.joined(separator: ",") + (row < rows - 1 || newlineAtEnd ? "\n" : "")
        }
        return (text, starts)
    }

    /// Split at every byte of the file (a seam right at a line start, at its newline, just after it, inside a line),
    /// and at every pair of bytes some lines apart: the one-thread reading each time — its candles, or nil where it
    /// gives nil (a time repeated or going back exactly at a seam, a bad line in a later chunk).
    @Test func everySeamGivesTheOneThreadReading() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-seams-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rows = 14
        let files: [(name: String, file: (text: String, lineStarts: [Int]), plain: Bool)] = [
            ("plain", Self.plainFile(rows: rows, seed: 1), true),
            ("no newline at the end", Self.plainFile(rows: rows, seed: 2, newlineAtEnd: false), true),
            ("one line", Self.plainFile(rows: 1, seed: 3), true),
            ("one line, no newline", Self.plainFile(rows: 1, seed: 4, newlineAtEnd: false), true),
            ("time repeated", Self.plainFile(rows: rows, seed: 5) { row, fields in if row == 8 { fields[0] = Timestamp.rfc3339(1_577_836_800_000 + 7 * 900_000) } }, false),
            ("time going back", Self.plainFile(rows: rows, seed: 6) { row, fields in if row == 8 { fields[0] = Timestamp.rfc3339(1_577_836_800_000 + 6 * 900_000) } }, false),
            ("time going back a day", Self.plainFile(rows: rows, seed: 7) { row, fields in if row >= 8 { fields[0] = Timestamp.rfc3339(1_577_750_400_000 + Int64(row) * 900_000) } }, false),
            ("high below low late", Self.plainFile(rows: rows, seed: 8) { row, fields in if row == 11 { fields.swapAt(2, 3) } }, false),
            ("a field too many in the last line", Self.plainFile(rows: rows, seed: 9, newlineAtEnd: false) { row, fields in if row == rows - 1 { fields.append("1") } }, false),
            ("an empty line", Self.plainFile(rows: rows, seed: 10) { row, fields in if row == 9 { fields[5] += "\n" } }, false),
            ("a CRLF line late", Self.plainFile(rows: rows, seed: 11) { row, fields in if row == 12 { fields[5] += "\r" } }, false),
        ]
        for (name, file, plain) in files {
            let path = dir + "/\(name).csv"
            try file.text.write(toFile: path, atomically: true, encoding: .utf8)
            let one = PlainOHLCVFile.candles(path: path, blockSize: 256, chunks: 1)
            #expect((one != nil) == plain, "\(name)")
            if plain {
                let candles = try Self.general(path).get()
                #expect(one?.map(Self.bits) == candles.map(Self.bits), "\(name)")
            }
            let size = file.text.utf8.count
            for split in 0...size + 1 {
                let chunked = PlainOHLCVFile.candles(path: path, blockSize: 256) { _ in [split] }
                #expect(chunked?.map(Self.bits) == one?.map(Self.bits), "\(name), split at \(split)")
            }
            for split in stride(from: 0, through: size, by: 7) {
                for gap in [1, 64, 150, 400] {
                    let chunked = PlainOHLCVFile.candles(path: path, blockSize: 256) { _ in [split, split + gap] }
                    #expect(chunked?.map(Self.bits) == one?.map(Self.bits), "\(name), split at \(split) and \(split + gap)")
                }
            }
        }
    }

    /// A split lands on the first line start at or after it: right at a line start, at the newline before it, one
    /// byte into a line (the next line); splits before the data, past the end or on the same line give no seam.
    @Test func seamsAreTheLineStartsAtOrAfterTheSplits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-seams-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = Self.plainFile(rows: 6, seed: 12, newlineAtEnd: false)
        let path = dir + "/seams.csv"
        try file.text.write(toFile: path, atomically: true, encoding: .utf8)
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let from = file.lineStarts[0], size = file.text.utf8.count, starts = file.lineStarts
        func seams(_ splits: [Int]) -> [Int] { PlainOHLCVFile.seams(fd, from: from, size: size, splits: splits) }
        #expect(seams([]) == [from, size])
        #expect(seams([starts[2]]) == [from, starts[2], size])
        #expect(seams([starts[2] - 1]) == [from, starts[2], size])
        #expect(seams([starts[2] + 1]) == [from, starts[3], size])
        #expect(seams([starts[1], starts[1] + 2, starts[4]]) == [from, starts[1], starts[2], starts[4], size])
        #expect(seams([0, from, starts[5] + 1, size, size + 10]) == [from, size])
        #expect(seams([starts[3], starts[2]]) == [from, starts[3], size])
        // The default splits: in order, inside the data, shrinking one after another.
        let splits = PlainOHLCVFile.splits(from: 32, size: 100_032, chunks: 4)
        #expect(splits.count == 3 && splits == splits.sorted() && splits.allSatisfy { $0 > 32 && $0 < 100_032 })
        #expect(splits[0] - 32 > splits[1] - splits[0] && splits[1] - splits[0] > splits[2] - splits[1])
        #expect(PlainOHLCVFile.splits(from: 32, size: 100_032, chunks: 1).isEmpty)
        #expect(PlainOHLCVFile.defaultChunks(size: 1 << 20) == 1)
    }

    /// Newlines counted 16 bytes at a time are the newlines, for any length and alignment.
    @Test func newlineCountIsThePlainCount() {
        var g = SeededGenerator(seed: 13)
        for _ in 0..<300 {
            let count = Int.random(in: 0...9_000, using: &g), skip = Int.random(in: 1...16, using: &g)  // at least one byte: a base address
            let newlineShare = [0.0, 0.02, 0.5, 1.0][Int.random(in: 0..<4, using: &g)]
            let bytes = (0..<(count + skip)).map { _ in Double.random(in: 0..<1, using: &g) < newlineShare ? UInt8(ascii: "\n") : UInt8.random(in: 0...255, using: &g) }
            let expected = bytes[skip...].filter { $0 == UInt8(ascii: "\n") }.count
            bytes.withUnsafeBytes { raw in
                #expect(PlainOHLCVFile.newlineCount(raw.baseAddress! + skip, count) == expected, "\(count) bytes")
            }
        }
    }

    /// A file large enough to be split by default (two chunks and more) gives the general reader's candles.
    @Test func aLargeFileReadInChunksGivesTheGeneralReadersCandles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-large-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // About 2.5 × minimumChunkBytes of plain lines, written without formatting each number.
        var g = SeededGenerator(seed: 14)
        var text = "time,open,high,low,close,volume\n"
        var t: Int64 = 1_577_836_800_000, row = 0
        while text.utf8.count < PlainOHLCVFile.minimumChunkBytes * 5 / 2 {
            func price(_ tenThousandths: Int) -> String { "\(tenThousandths / 10_000)." + String(tenThousandths % 10_000 + 10_000).dropFirst() }
            let base = Int.random(in: 1_000_000...9_000_000, using: &g)
            text += "\(Timestamp.rfc3339(t)),\(price(base)),\(price(base + 900)),\(price(base - 900)),\(price(base + row % 900)),\(row % 1000)\n"
            t += 60_000
            row += 1
        }
        let path = dir + "/large.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let candles = try Self.general(path).get()
        #expect(candles.count == row)
        for chunks in [nil, 2, 4] {
            let read = PlainOHLCVFile.candles(path: path, chunks: chunks)
            #expect(read?.map(Self.bits) == candles.map(Self.bits), "\(chunks.map(String.init) ?? "default") chunks")
        }
    }
}

/// `PlainOHLCVFile.QuickLine`, the eight-bytes-at-a-time reading of the usual line, against the general rule.
@Suite("Backtest: plain OHLCV lines read eight bytes at a time")
struct QuickLineTests {
    /// Random fields — digits with or without a dot, a sign, an exponent, a space, a stray byte, too many digits —
    /// ended by a comma or a newline and followed by more bytes: where the quick reading gives a number, the general
    /// rule (`OHLCVCSV.exactDecimalPrefix`) gives the same bits and the same end; and every number of the form it
    /// covers (1 to 8 digits, then optionally a dot and 0 to 8 digits, 15 in all) is read by it.
    @Test func quickNumbersAreTheGeneralRulesNumbers() {
        var g = SeededGenerator(seed: 71)
        let digits = Array("0123456789".utf8), stray = Array("-+.e ,\r\n:/0".utf8)
        var read = 0, covered = 0
        for _ in 0..<200_000 {
            var field: [UInt8] = []
            let integerDigits = Int.random(in: 0...9, using: &g), fractionDigits = Int.random(in: 0...9, using: &g)
            for _ in 0..<integerDigits { field.append(digits.randomElement(using: &g)!) }
            let dot = Bool.random(using: &g)
            if dot { field.append(UInt8(ascii: ".")) }
            for _ in 0..<fractionDigits where dot { field.append(digits.randomElement(using: &g)!) }
            var plain = integerDigits >= 1 && integerDigits <= 8 && (!dot || (fractionDigits <= 8 && integerDigits + fractionDigits <= 15))
            if Int.random(in: 0..<4, using: &g) == 0 {
                let byte = Bool.random(using: &g) ? stray.randomElement(using: &g)! : UInt8.random(in: 0...255, using: &g)
                field.insert(byte, at: Int.random(in: 0...field.count, using: &g))
                plain = false
            }
            let stop = Bool.random(using: &g) ? UInt8(ascii: ",") : UInt8(ascii: "\n")
            var bytes = field + [stop]
            while bytes.count < 40 { bytes.append(Bool.random(using: &g) ? digits.randomElement(using: &g)! : UInt8.random(in: 0...255, using: &g)) }
            bytes.withUnsafeBufferPointer { b in
                let quick = PlainOHLCVFile.QuickLine.number(b.baseAddress!, stop: stop, OHLCVCSV.exactPowersOfTen, PlainOHLCVFile.LineRule().tens)
                if plain {
                    covered += 1
                    #expect(quick != nil, "\(String(decoding: field, as: UTF8.self)) is of the quick form")
                }
                guard let (value, length) = quick else { return }
                read += 1
                let general = OHLCVCSV.exactDecimalPrefix(b, from: 0, to: b.count, stop: stop)
                #expect(general?.value.bitPattern == value.bitPattern && general?.next == length, "\(String(decoding: field, as: UTF8.self))")
            }
        }
        #expect(covered > 50_000 && read >= covered)
    }

    /// The digits of a word counted and summed (0 to 8 of them), a sample of every digit in every place.
    @Test func wordsOfDigitsAreTheirNumbers() {
        var g = SeededGenerator(seed: 72)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...8, using: &g)
            var text = (0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &g))) }
            let after = UInt8.random(in: 0...255, using: &g)
            var bytes = Array(String(text).utf8)
            if count < 8 { bytes.append(after) }
            while bytes.count < 8 { bytes.append(UInt8.random(in: 0...255, using: &g)) }
            let word = bytes.withUnsafeBufferPointer { PlainOHLCVFile.QuickLine.word($0.baseAddress!) }
            let isDigit = after >= UInt8(ascii: "0") && after <= UInt8(ascii: "9")
            let expectedCount = count < 8 && isDigit ? nil : count  // a digit after them: the count runs on
            if let expectedCount { #expect(PlainOHLCVFile.QuickLine.leadingDigits(word) == expectedCount, "\(bytes)") }
            #expect(PlainOHLCVFile.QuickLine.value(word, digits: count) == UInt64(String(text)) ?? 0, "\(String(text))")
            text.removeAll()
        }
    }
}
