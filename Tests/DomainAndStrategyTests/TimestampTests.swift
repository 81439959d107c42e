import Foundation
import Testing
import TradingDomain
#if canImport(Glibc)
import Glibc
#endif

@Suite("RFC 3339 times")
struct TimestampTests {
    /// The formatting through `String(format:)` that the direct digits replace.
    static func reference(_ ms: Int64) -> String {
        let seconds = Int(floor(Double(ms) / 1000))
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                          Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        let millis = Int(ms - Int64(seconds) * 1000)
        return millis == 0 ? base + "Z" : base + String(format: ".%03dZ", millis)
    }

    @Test func formattingMatchesTheReferenceAndParsesBack() {
        var generator = SystemRandomNumberGenerator()
        var values: [Int64] = [0, 1, 999, 1000, 86_399_999, 951_782_400_000, 4_102_444_800_000, 253_402_300_799_999]
        for _ in 0..<3000 {
            values.append(Int64.random(in: 0...4_102_444_800_000, using: &generator))
            values.append(Int64.random(in: 0...4_102_444_800, using: &generator) * 1000)
        }
        for ms in values {
            let text = Timestamp.rfc3339(ms)
            #expect(text == Self.reference(ms), "\(ms)")
            #expect(Timestamp.parse(text) == ms, "\(text)")
        }
    }
}

@Suite("Strict RFC 3339 and number parsing")
struct StrictTimestampTests {
    @Test func impossibleAndOutOfRangeTimesAreRefused() {
        for text in ["2001-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
                     "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z",
                     "2001-02-29T00:00:00.500Z", "2001-02-28T23:00:00-25:00", "2024-01-01T00:00:00+01:60", "2024-01-01T00:00:00",
                     "2024-01-01 00:00:00Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.1234567890Z", "2024-01-01T00:00:00ZZ",
                     "1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "+2024-01-01T00:00:00Z", "", "2024",
                     "2024-01-01T00:00:00z", "2024-01-01T00:00:00+0100"] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
    }

    @Test func validTimesParseExactly() {
        #expect(Timestamp.parse("2000-02-29T00:00:00Z") == 951_782_400_000)
        #expect(Timestamp.parse("2024-02-29T12:00:00Z") == 1_709_208_000_000)
        #expect(Timestamp.parse("2024-01-01T00:00:00.5Z") == 1_704_067_200_500)
        #expect(Timestamp.parse("2024-01-01T00:00:00.123456789Z") == 1_704_067_200_123)
        #expect(Timestamp.parse("2024-01-01T00:00:00.9996Z") == 1_704_067_201_000)
        #expect(Timestamp.parse("2024-01-01T01:00:00+01:00") == 1_704_067_200_000)
        #expect(Timestamp.parse("2023-12-31T19:00:00-05:00") == 1_704_067_200_000)
        #expect(Timestamp.parse("1970-01-01T00:00:00Z") == 0)
        #expect(Timestamp.parse("9999-12-31T23:59:59.999Z") == Timestamp.latestMilliseconds)
        #expect(Timestamp.parse("9999-12-31T23:59:59.999-00:01") == nil)
    }

    @Test func theNumberSyntaxIsPlain() {
        for good in ["0", "-0", "12.5", "-3.25", ".5", "5.", "1e-8", "2.5E+3", "1e9999"] { #expect(Money.hasPlainNumberSyntax(good), "\(good)") }
        for bad in ["", "-", "+1", "--0.05", "100-5", "+-1", "-+1", "0x10", "1.2.3", "1e", "1e+", "1e+-5", "1e5.5", "e5", ".", "-.",
                    "1 0", " 1", "1 ", "inf", "nan", "NaN", "١", "1e99999", "1_000", "1,5"] {
            #expect(!Money.hasPlainNumberSyntax(bad), "\(bad)")
            #expect(Money(bad) == nil, "\(bad)")
        }
    }
}
