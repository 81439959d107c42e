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
                let fast = PlainOHLCVFile.candles(path: path, blockSize: blockSize)
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
}
