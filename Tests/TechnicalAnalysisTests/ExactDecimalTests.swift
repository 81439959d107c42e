import Foundation
import Testing
import TestSupport
@testable import TechnicalAnalysis

/// The CSV readers' number rule (`OHLCVCSV.exactDecimalPrefix`) reads short numbers by a quicker path; these tests hold
/// it to the plain rule read one byte at a time, and the window sums to a plain loop, bit for bit.
@Suite("Exact decimals and window sums")
struct ExactDecimalTests {
    /// The rule one byte at a time: `[-]digits[.digits]` up to `end` or `stop`, the mantissa never above 2^53, at most
    /// 30 digits and 22 decimals.
    static func plainRule(_ bytes: [UInt8], from start: Int, to end: Int, stop: UInt8) -> (value: Double, next: Int)? {
        var i = start
        guard i < end else { return nil }
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0, decimals = 0, digits = 0, seenDot = false
        while i < end {
            let c = bytes[i]
            if c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
                mantissa = mantissa * 10 + UInt64(c - UInt8(ascii: "0"))
                digits += 1
                if seenDot { decimals += 1 }
                guard mantissa <= 1 << 53, digits <= 30 else { return nil }
            } else if c == UInt8(ascii: "."), !seenDot {
                seenDot = true
            } else if c == stop {
                break
            } else {
                return nil
            }
            i += 1
        }
        guard digits > 0, decimals <= 22 else { return nil }
        var power = 1.0
        for _ in 0..<decimals { power *= 10 }
        let value = Double(mantissa) / power
        return (negative ? -value : value, i)
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
            if let expected, expected.next == text.count, let parsed = Double(String(decoding: text, as: UTF8.self)) {
                #expect(parsed.bitPattern == expected.value.bitPattern || (parsed == 0 && expected.value == 0))
            }
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
