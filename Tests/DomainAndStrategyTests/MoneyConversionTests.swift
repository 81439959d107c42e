import Foundation
import Testing
import TestSupport
@testable import TradingDomain

@Suite("Money conversions")
struct MoneyConversionTests {
    /// The slow, general conversion the fast path must agree with.
    static func reference(_ text: String) -> Decimal? { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) }

    @Test func fastDoubleConversionEqualsTheGeneralParser() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, 1, -1, 100.1, 0.1, 1e-8, 12345.678901, 99999999.99, 1e21, 1.5e-300, -0.000123, 0.30000000000000004]
        for _ in 0..<5000 {
            let magnitude = Double.random(in: -9...9, using: &generator)
            values.append((Double.random(in: -1...1, using: &generator) * pow(10, magnitude) * 1e6).rounded() / 1e6)
            values.append(Double.random(in: -1000...1000, using: &generator))
        }
        for value in values {
            let expected = MoneyConversionTests.reference(value.description)
            let got = Money.decimal(value)
            #expect(got == expected, "\(value)")
            if let got, let expected { #expect(Money.text(got) == Money.text(expected), "\(value)") }
        }
    }

    @Test func fastTextParsingEqualsTheGeneralParserAndRefusesGarbage() {
        for text in ["0", "12.5", "-3.25", "10000", "0.00000001", "1e-8", "2.5E+3", "123456789012.123456", "-0.5", "7."] {
            #expect(Money.parse(text) == MoneyConversionTests.reference(text), "\(text)")
            #expect(Money.parse(text).map(Money.text) == MoneyConversionTests.reference(text).map(Money.text), "\(text)")
        }
        for text in ["", "abc", "1.2.3", "--1", "1e", "e5", "1,5", "0x10", "NaN"] {
            #expect(Money.parse(text) == nil, "\(text)")
        }
        #expect(Money.parse(" 42 ") == 42)
    }

    @Test func doublesFromDecimalBitsEqualFoundations() {
        #expect(DecimalBits.layoutChecked, "the decimal layout check failed: Money.double falls back to NSDecimalNumber")
        var g = SeededGenerator(seed: 12)
        var checked = 0
        for _ in 0..<20_000 {
            let a = Decimal(Int64.random(in: -10_000_000_000...10_000_000_000, using: &g)) / Decimal(Int64.random(in: 1...1_000_000, using: &g))
            let b = Decimal(sign: Bool.random(using: &g) ? .plus : .minus, exponent: Int.random(in: -40...30, using: &g),
                            significand: Decimal(UInt64.random(in: 0...UInt64.max, using: &g)))
            let c = Money.decimal(Double.random(in: -1e6...1e6, using: &g)) ?? 0
            for value in [a, b, a * b, a + b, c, c * a, Money.round(c, scale: 8), Decimal.nan, Decimal(0)] {
                let expected = NSDecimalNumber(decimal: value).doubleValue
                let got = Money.double(value)
                #expect(got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN), "\(value): \(got) ≠ \(expected)")
                checked += 1
            }
        }
        #expect(checked == 180_000)
    }
}
