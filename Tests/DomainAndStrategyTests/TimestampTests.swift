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
