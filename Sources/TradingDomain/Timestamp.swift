import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 UTC formatting and parsing of epoch milliseconds.
public enum Timestamp {
    /// `2024-05-01T12:00:00Z` (milliseconds shown only when not zero).
    public static func rfc3339(_ ms: Int64) -> String {
        let seconds = Int(floor(Double(ms) / 1000))
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        let base = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                          Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        let millis = Int(ms - Int64(seconds) * 1000)
        return millis == 0 ? base + "Z" : base + String(format: ".%03dZ", millis)
    }

    /// Parses RFC 3339 (`Z` or an offset, optional fraction); nil when malformed.
    public static func parse(_ text: String) -> Int64? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = iso.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        iso.formatOptions = [.withInternetDateTime]
        if let date = iso.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }
}
