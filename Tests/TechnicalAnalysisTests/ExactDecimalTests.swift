import Foundation
import Testing
import TestSupport
@testable import TechnicalAnalysis

/// The CSV readers' number rule (`OHLCVCSV.exactDecimalPrefix`) reads short numbers by a quicker path; these tests hold
/// it to the rule put another way (with `strtod` for the value), and the window sums to a plain loop, bit for bit.
@Suite("Exact decimals and window sums")
struct ExactDecimalTests {
    /// The rule, put another way: the bytes up to `end` or the first `stop` byte are `[-]digits[.digits]` with at
    /// least one digit, at most 30 digits and 22 decimals, and a value of at most 2^53 units of the last decimal (the
    /// mantissa only grows digit by digit, so its last value decides); the value is then what the C library's correctly
    /// rounded `strtod` (`Double(String)`) gives, which one division of exact doubles also gives.
    static func plainRule(_ bytes: [UInt8], from start: Int, to end: Int, stop: UInt8) -> (value: Double, next: Int)? {
        let stopAt = bytes[start..<end].firstIndex(of: stop) ?? end
        var text = Array(bytes[start..<stopAt])
        if text.first == UInt8(ascii: "-") { text.removeFirst() }
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        let dot = text.firstIndex(of: UInt8(ascii: "."))
        guard text.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }), text.filter({ $0 == UInt8(ascii: ".") }).count <= 1 else { return nil }
        let digits = text.filter(isDigit)
        let decimals = dot.map { text.count - 1 - $0 } ?? 0
        guard !digits.isEmpty, digits.count <= 30, decimals <= 22 else { return nil }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        guard significant.count <= 16, let mantissa = UInt64(String(decoding: significant.isEmpty ? [UInt8(ascii: "0")] : Array(significant), as: UTF8.self)),
              mantissa <= 1 << 53 else { return nil }
        // strtod wants a digit on both sides of the dot.
        var spelled = Array(bytes[start..<stopAt])
        if let last = spelled.last, last == UInt8(ascii: ".") { spelled.append(UInt8(ascii: "0")) }
        if let k = spelled.firstIndex(of: UInt8(ascii: ".")), k == 0 || spelled[k - 1] == UInt8(ascii: "-") { spelled.insert(UInt8(ascii: "0"), at: k) }
        guard let value = Double(String(decoding: spelled, as: UTF8.self)) else { return nil }
        return (value, stopAt)
    }

    static func randomNumberText(_ g: inout SeededGenerator) -> [UInt8] {
        let alphabet = Array("0123456789".utf8)
        var text: [UInt8] = []
        if Int.random(in: 0..<8, using: &g) == 0 { text.append(UInt8(ascii: "-")) }
        let integerDigits = Int.random(in: 0...18, using: &g)
        for _ in 0..<integerDigits { text.append(alphabet.randomElement(using: &g) ?? 0) }
        if Bool.random(using: &g) {
            text.append(UInt8(ascii: "."))
            for _ in 0..<Int.random(in: 0...24, using: &g) { text.append(alphabet.randomElement(using: &g) ?? 0) }
        }
        // Now and then a byte that breaks the rule: a second dot, a letter, a space, a high byte, NUL, "/" or ":".
        if Int.random(in: 0..<6, using: &g) == 0, !text.isEmpty {
            let odd: [UInt8] = [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: " "), 0xC3, 0xFF, 0, UInt8(ascii: "/"), UInt8(ascii: ":")]
            text.insert(odd.randomElement(using: &g) ?? 0, at: Int.random(in: 0...text.count, using: &g))
        }
        return text
    }

    @Test func theShortPathGivesThePlainRulesValueAndEnd() {
        var g = SeededGenerator(seed: 20_261_207)
        var accepted = 0, refused = 0
        for round in 0..<40_000 {
            let text = Self.randomNumberText(&g)
            let stop: UInt8 = round % 2 == 0 ? UInt8(ascii: ",") : 0
            // The number, then its stop byte and more bytes (read ahead of `end`), or nothing at all (the buffer's end).
            var bytes = text
            let tail = Int.random(in: 0..<3, using: &g)
            if tail > 0 { bytes += [UInt8(ascii: ","), UInt8(ascii: "7"), UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"), UInt8(ascii: "\n")] }
            // `end` at the number's end or past the stop byte (then the stop ends it).
            let end = tail == 2 ? bytes.count : text.count
            let expected = Self.plainRule(bytes, from: 0, to: end, stop: stop)
            let got = bytes.withUnsafeBufferPointer { OHLCVCSV.exactDecimalPrefix($0, from: 0, to: end, stop: stop) }
            #expect(got?.value.bitPattern == expected?.value.bitPattern && got?.next == expected?.next,
                    "\(String(decoding: text, as: UTF8.self)) (stop \(stop), end \(end)): \(String(describing: got)) ≠ \(String(describing: expected))")
            if expected == nil { refused += 1 } else { accepted += 1 }
        }
        // Both outcomes were exercised.
        #expect(accepted > 10_000 && refused > 5_000, "accepted \(accepted), refused \(refused)")
    }

    @Test(arguments: [1, 2, 7, 8, 9, 10, 30])
    func windowSumsAreThePlainLoopsBitForBit(period: Int) {
        var g = SeededGenerator(seed: UInt64(period))
        let x = (0..<(203 + period)).map { _ in Double.random(in: -1...1, using: &g) * pow(10, Double.random(in: -8...8, using: &g)) }
        let count = x.count - period + 1
        var sums = [Double](repeating: .nan, count: count), squares = [Double](repeating: .nan, count: count)
        x.withUnsafeBufferPointer { xs in
            sums.withUnsafeMutableBufferPointer { WindowSums.sums(xs.baseAddress!, count: count, period: period, into: $0.baseAddress!) }
            let means = sums.map { $0 / Double(period) }
            means.withUnsafeBufferPointer { m in
                squares.withUnsafeMutableBufferPointer {
                    WindowSums.squaredDeviations(xs.baseAddress!, means: m.baseAddress!, count: count, period: period, into: $0.baseAddress!)
                }
            }
        }
        for t in 0..<count {
            var sum = 0.0
            for k in 0..<period { sum += x[t + k] }
            let mean = sum / Double(period)
            var square = 0.0
            for k in 0..<period { square += (x[t + k] - mean) * (x[t + k] - mean) }
            #expect(sums[t].bitPattern == sum.bitPattern && squares[t].bitPattern == square.bitPattern, "bar \(t)")
        }
    }
}
