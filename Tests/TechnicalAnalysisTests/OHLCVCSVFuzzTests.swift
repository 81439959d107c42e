import Foundation
import Testing
import TestSupport
import TradingDomain
@testable import TechnicalAnalysis

/// Strict OHLCV CSV input and seeded fuzzing of the parser: extreme epochs, impossible dates, hexadecimal, signs,
/// NaN and infinities, empty fields, CR/LF mixes, huge lines, bytes that are not UTF-8. Every case parses or fails
/// with an `OHLCVParseError` naming the line (and the column and value where there is one) — never a crash.
@Suite("OHLCV CSV strict input and fuzzing")
struct OHLCVCSVFuzzTests {
    static let header = "time,open,high,low,close,volume\n"

    func error(_ row: String) -> OHLCVParseError? {
        do {
            _ = try OHLCVCSV.parse(Self.header + row + "\n")
            return nil
        } catch let e as OHLCVParseError {
            return e
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func extremeAndMalformedTimesAreRefusedNamingTheValue() {
        for time in ["9223372036854775807", "-9223372036854775807", "-9223372036854775808", "18446744073709551616", "253402300800000",
                     "-1", "+1704067200000", "0x10", "1e12", "2001-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-02-30T00:00:00.5Z",
                     "1969-12-31T23:59:59Z", ""] {
            let e = error("\(time),1,2,0.5,1.5,10")
            #expect(e?.line == 2 && e?.column == "time" && e?.value == time, "\(time): \(String(describing: e))")
            #expect(e.map { "\($0)" }?.contains("1970-01-01T00:00:00Z (0) to 9999-12-31T23:59:59.999Z (253402300799999)") == true)
        }
        #expect(error("253402300799999,1,2,0.5,1.5,10") == nil)
        #expect(error("0,1,2,0.5,1.5,10") == nil)
    }

    @Test func numbersAreStrict() {
        for (value, column) in [("0x10", "open"), ("+1", "open"), ("--1", "high"), ("-", "low"), ("", "close"), ("NaN", "open"), ("nan", "open"),
                                ("inf", "high"), ("-inf", "low"), ("Infinity", "high"), ("1e400", "high"), ("1.2.3", "close"), ("1 0", "volume"),
                                ("1e", "volume"), ("1_0", "volume"), ("١", "volume")] {
            var fields = ["1704067200000", "1", "2", "0.5", "1.5", "10"]
            fields[OHLCVCSV.columns.firstIndex(of: column) ?? 0] = value
            let e = error(fields.joined(separator: ","))
            #expect(e?.line == 2 && e?.column == column && e?.value == value, "\(value): \(String(describing: e))")
        }
        // Exponents and a trailing or leading dot stay numbers.
        #expect(error("1704067200000,1e0,2.,.5,1.5E0,1e1") == nil)
    }

    @Test func hugeValuesAreShortenedInTheMessage() {
        let huge = String(repeating: "9", count: 300_000) + "x"
        let e = error("1704067200000,\(huge),2,0.5,1.5,10")
        #expect(e?.value == huge)
        #expect((e.map { "\($0)" }?.count ?? .max) < 400)
    }

    @Test func mutatedFilesParseOrFailNamingTheLine() {
        var rng = SeededGenerator(seed: 0x16C5_F022)
        let cases = 300
        var refused = 0, accepted = 0
        var vague: [String] = []
        for index in 0..<cases {
            let base = InputMutations.baseCSV(rows: 40, rfc3339: index % 3 == 0, &rng)
            let bytes = InputMutations.mutateCSV(base, &rng)
            let lineCount = bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            do {
                let series = try bytes.withUnsafeBufferPointer { try OHLCVCSV.parse(bytes: $0) }
                accepted += 1
                #expect(series.time.allSatisfy { Timestamp.validRange.contains($0) })
                #expect(zip(series.time, series.time.dropFirst()).allSatisfy { $0 < $1 })
                #expect(series.close.allSatisfy(\.isFinite) && series.volume.allSatisfy { $0 >= 0 })
            } catch let e as OHLCVParseError {
                refused += 1
                if e.line < 1 || e.line > lineCount || "\(e)".count > 600 { vague.append("case \(index): \(e)") }
            } catch {
                vague.append("case \(index): not an OHLCVParseError: \(error)")
            }
        }
        print("csv fuzz: \(cases) cases, 0 crashes, \(refused) refused naming line and column, \(accepted) accepted")
        #expect(vague.isEmpty, "\(vague.prefix(5))")
        #expect(refused > cases / 2 && accepted > 10)
    }
}
