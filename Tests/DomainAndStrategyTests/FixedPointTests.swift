import Foundation
import Testing
import TestSupport
@testable import TradingDomain

/// Foundation's `Decimal`, the reference the integer arithmetic is checked against (tests only).
enum DecimalReference {
    static func parse(_ text: String) -> Decimal? { Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) }
    static func text(_ value: Decimal) -> String { NSDecimalNumber(decimal: value).stringValue }
    static func round(_ value: Decimal, scale: Int, _ mode: NSDecimalNumber.RoundingMode) -> Decimal {
        var input = value, result = Decimal()
        NSDecimalRound(&result, &input, scale, mode)
        return result
    }
}

@Suite("Fixed-point money")
struct FixedPointTests {
    static func fixed(_ text: String) throws -> Fixed { try Fixed(parsing: text) }

    @Test func everyRoundingModeOnPositiveAndNegativeValues() throws {
        // value → [towardZero, down, up, halfEven, halfAwayFromZero], rounded to a whole number
        let table: [(String, [String])] = [
            ("1.5", ["1", "1", "2", "2", "2"]), ("-1.5", ["-1", "-2", "-1", "-2", "-2"]),
            ("2.5", ["2", "2", "3", "2", "3"]), ("-2.5", ["-2", "-3", "-2", "-2", "-3"]),
            ("1.2", ["1", "1", "2", "1", "1"]), ("-1.2", ["-1", "-2", "-1", "-1", "-1"]),
            ("1.7", ["1", "1", "2", "2", "2"]), ("-1.7", ["-1", "-2", "-1", "-2", "-2"]),
            ("3", ["3", "3", "3", "3", "3"]), ("-3", ["-3", "-3", "-3", "-3", "-3"]),
            ("0.00000001", ["0", "0", "1", "0", "0"]), ("-0.00000001", ["0", "-1", "0", "0", "0"]),
        ]
        let modes: [FixedRounding] = [.towardZero, .down, .up, .halfEven, .halfAwayFromZero]
        for (value, expected) in table {
            for (mode, want) in zip(modes, expected) {
                let got = try Self.fixed(value).rounded(toMultipleOf: .one, mode)
                #expect(got.description == want, "\(value) \(mode)")
                // the same as rounding to 0 decimals
                #expect(try Self.fixed(value).rounded(decimals: 0, mode) == got, "\(value) \(mode)")
            }
        }
        // parsing a ninth decimal with each mode
        let parsed: [(String, [Int64])] = [
            ("0.000000015", [1, 1, 2, 2, 2]), ("-0.000000015", [-1, -2, -1, -2, -2]),
            ("0.000000025", [2, 2, 3, 2, 3]), ("0.0000000251", [2, 2, 3, 3, 3]),
            ("0.000000000001", [0, 0, 1, 0, 0]), ("-1e-20", [0, -1, 0, 0, 0]),
        ]
        for (text, raws) in parsed {
            for (mode, raw) in zip(modes, raws) { #expect(try Money(parsing: text, rounding: mode).raw == raw, "\(text) \(mode)") }
            #expect(throws: FixedPointError.tooManyDecimals(text)) { try Money(parsing: text) }
        }
        // steps: a lot step down, a tick to nearest
        let lot = try Quantity(parsing: "0.001")
        #expect(try Quantity(parsing: "1.23456").rounded(toMultipleOf: lot, .towardZero).description == "1.234")
        #expect(try Quantity(parsing: "-1.23456").rounded(toMultipleOf: lot, .down).description == "-1.235")
        #expect(try Price(parsing: "100.125").rounded(toMultipleOf: Price(parsing: "0.05"), .halfEven).description == "100.1")
        #expect(try Price(parsing: "100.175").rounded(toMultipleOf: Price(parsing: "0.05"), .halfEven).description == "100.2")
        #expect(try Price(parsing: "7").rounded(toMultipleOf: .zero, .up).description == "7")
    }

    @Test func typedProductsAndQuotients() throws {
        let price = try Price(parsing: "27123.45"), quantity = try Quantity(parsing: "0.00123")
        #expect(try price.times(quantity, .halfEven).description == "33.3618435")
        #expect(try quantity.times(price, .halfEven) == price.times(quantity, .halfEven))
        let cost = try Money(parsing: "100")
        #expect(try cost.divided(by: Price(parsing: "3"), .towardZero).description == "33.33333333")
        #expect(try cost.divided(by: Price(parsing: "3"), .up).description == "33.33333334")
        #expect(try cost.divided(by: Quantity(parsing: "8"), .halfEven).description == "12.5")
        #expect(try cost.multiplied(by: Fixed(parsing: "0.001"), .halfEven).description == "0.1")
        #expect(try Money(parsing: "1").ratio(to: Money(parsing: "3"), .halfEven).description == "0.33333333")
        #expect(try Money(parsing: "2").ratio(to: Money(parsing: "3"), .halfEven).description == "0.66666667")
        #expect(try Money(parsing: "-5").divided(by: Fixed(parsing: "4"), .halfEven).description == "-1.25")
        #expect(try (Money(parsing: "0.1") + Money(parsing: "0.2")).description == "0.3")
        #expect(try (Money(parsing: "0.1") - Money(parsing: "0.2")).description == "-0.1")
        #expect(try Money(parsing: "-2.5").magnitude().description == "2.5")
        #expect(try Money(parsing: "2.5").times(-3).description == "-7.5")
    }

    @Test func overflowAndDivisionByZeroAreThrownNotTrapped() throws {
        let max = Money(raw: .max), min = Money(raw: .min), unit = Money(raw: 1)
        #expect(throws: FixedPointError.overflow) { try max + unit }
        #expect(throws: FixedPointError.overflow) { try min - unit }
        #expect(throws: FixedPointError.overflow) { try -min }
        #expect(throws: FixedPointError.overflow) { try min.magnitude() }
        #expect(throws: FixedPointError.overflow) { try max.times(2) }
        #expect(throws: FixedPointError.overflow) { try Price(raw: .max).times(Quantity(parsing: "2"), .halfEven) }
        #expect(throws: FixedPointError.overflow) { try Price(raw: .max).times(Quantity(raw: .max), .towardZero) }
        #expect(throws: FixedPointError.overflow) { try Money(raw: .max).divided(by: Price(parsing: "0.5"), .down) }
        #expect(throws: FixedPointError.overflow) { try Money(raw: .max).rounded(toMultipleOf: Money(parsing: "1"), .up) }
        #expect(throws: FixedPointError.divisionByZero) { try unit.divided(by: Price.zero, .halfEven) }
        #expect(throws: FixedPointError.divisionByZero) { try unit.divided(by: Quantity.zero, .halfEven) }
        #expect(throws: FixedPointError.divisionByZero) { try unit.ratio(to: .zero, .halfEven) }
        #expect(throws: FixedPointError.divisionByZero) { try unit.divided(by: Fixed.zero, .halfEven) }
        #expect(throws: FixedPointError.overflow) { try Money(parsing: "92233720368.54775808") }
        #expect(throws: FixedPointError.overflow) { try Money(parsing: "1e12") }
        #expect(throws: FixedPointError.overflow) { try Money(parsing: "1e9999") }
        #expect(try Money(parsing: "92233720368.54775807") == max)
        #expect(try Money(parsing: "-92233720368.54775808") == min)
        #expect(min.description == "-92233720368.54775808")
        // the largest product that fits, exactly
        #expect(try Price(raw: .max).times(Quantity(parsing: "1"), .towardZero) == max)
        #expect(try Price(raw: .min).times(Quantity(parsing: "1"), .towardZero) == min)
        #expect(Money(exactly: 92_233_720_369) == nil)
        #expect(Money(exactly: -5)?.description == "-5")
    }

    @Test func textParsesAndPrintsExactly() throws {
        let cases: [(String, String)] = [
            ("0.00100000", "0.001"), ("1e-5", "0.00001"), ("1E+3", "1000"), ("2.5e2", "250"), ("-0", "0"), ("-0.0", "0"),
            ("5.", "5"), (".5", "0.5"), ("000123.4500", "123.45"), ("0", "0"), ("10e-9", "0.00000001"), ("12e-8", "0.00000012"),
            ("0.00000001", "0.00000001"), ("-27123.45000000", "-27123.45"), ("100000000e-8", "1"), ("0.1e0001", "1"),
        ]
        for (text, canonical) in cases {
            #expect(try Money(parsing: text).description == canonical, "\(text)")
        }
        #expect(throws: FixedPointError.tooManyDecimals("12e-10")) { try Money(parsing: "12e-10") }
        for bad in ["", "-", "abc", "1.2.3", "--1", "+1", "1e", "e5", "1,5", "0x10", "NaN", "inf", " 1", "1 ", "1e12345", "1e+-1", "."] {
            #expect(throws: FixedPointError.notANumber(bad)) { try Money(parsing: bad) }
            #expect(Money(bad) == nil)
        }
        // the syntax is the config's one number syntax
        var g = SeededGenerator(seed: 2020)
        let alphabet = Array("0123456789.-+eE x")
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...7, using: &g)).map { _ in alphabet.randomElement(using: &g)! })
            var syntaxError = false
            do { _ = try Money(parsing: text, rounding: .halfEven) } catch FixedPointError.notANumber { syntaxError = true } catch {}
            #expect(syntaxError == !Money.hasPlainNumberSyntax(text), "\(text)")
        }
        // round trip of random raw values, and the Decimal reading of the text
        for _ in 0..<20_000 {
            let raw = Self.randomRaw(&g)
            let value = Money(raw: raw)
            #expect(try Money(parsing: value.description).raw == raw)
            #expect(DecimalReference.parse(value.description).map(DecimalReference.text) == value.description)
        }
    }

    @Test func jsonCodingKeepsTheExactText() throws {
        let value = try Price(parsing: "0.30000001")
        let data = try JSONEncoder().encode([value])
        #expect(String(decoding: data, as: UTF8.self) == #"["0.30000001"]"#)
        #expect(try JSONDecoder().decode([Price].self, from: data) == [value])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Price].self, from: Data(#"["0.000000001"]"#.utf8)) }
    }

    @Test func marketDataDoublesBecomeTheirShortestTextRoundedHalfEven() throws {
        #expect(try Price(double: 100.1).description == "100.1")
        #expect(try Price(double: 0.1 + 0.2).description == "0.3")        // 0.30000000000000004
        #expect(try Price(double: 1e-5).description == "0.00001")
        #expect(try Price(double: 0.000000015).description == "0.00000002")  // a tie in its shortest text: half-even
        #expect(try Price(double: 0.000000025).description == "0.00000002")
        #expect(try Price(double: -0.000000025).description == "-0.00000002")
        #expect(throws: FixedPointError.notFinite) { try Price(double: .nan) }
        #expect(throws: FixedPointError.notFinite) { try Price(double: -.infinity) }
        #expect(throws: FixedPointError.overflow) { try Price(double: 1e11) }
        var g = SeededGenerator(seed: 8)
        for i in 0..<50_000 {
            let value: Double
            switch i % 4 {
            case 0: value = Double.random(in: -1e6...1e6, using: &g)
            case 1: value = Double(Int64.random(in: -10_000_000_000...10_000_000_000, using: &g)) / 1e8 // exact 8-decimal text
            case 2: value = (Double(Int64.random(in: -1_000_000_000...1_000_000_000, using: &g)) + 0.5) / 1e8 // near ties
            default: value = Double.random(in: -1...1, using: &g) * pow(10, Double.random(in: -12...10, using: &g))
            }
            let viaText = try FixedPointText.parse(value.description, rounding: .halfEven)
            #expect(try Price(double: value).raw == viaText, "\(value)")
            // and Foundation's reading of the same text, rounded half-even to 8 places
            if let decimal = DecimalReference.parse(value.description) {
                #expect(DecimalReference.text(DecimalReference.round(decimal, scale: 8, .bankers)) == Price(raw: viaText).description, "\(value)")
            }
            #expect(abs(Price(raw: viaText).double - value) <= 0.5e-8 + abs(value) * 1e-15, "\(value)")
        }
    }

    // MARK: Differential fuzzing against Decimal

    static func randomRaw(_ g: inout SeededGenerator, maxDigits: Int = 18) -> Int64 {
        let digits = Int.random(in: 0...maxDigits, using: &g)
        var bound: Int64 = 1
        for _ in 0..<digits { bound *= 10 }
        return Int64.random(in: -bound...bound, using: &g)
    }

    static func decimal(_ raw: Int64) -> Decimal { Decimal(raw) / Decimal(FixedPoint.scale) }

    /// Foundation's rounding of `value` to 8 places with the meaning of `mode`.
    static func reference(_ value: Decimal, _ mode: FixedRounding) -> Decimal {
        let foundation: NSDecimalNumber.RoundingMode
        switch mode {
        case .towardZero: foundation = value < 0 ? .up : .down
        case .down: foundation = .down
        case .up: foundation = .up
        case .halfEven: foundation = .bankers
        case .halfAwayFromZero: foundation = .plain
        }
        return DecimalReference.round(value, scale: 8, foundation)
    }

    @Test func foundationRoundingModesMeanWhatTheReferenceAssumes() {
        let minus = Decimal(string: "-0.000000015")!
        #expect(DecimalReference.round(minus, scale: 8, .down) == Decimal(string: "-0.00000002"))
        #expect(DecimalReference.round(minus, scale: 8, .up) == Decimal(string: "-0.00000001"))
        #expect(DecimalReference.round(minus, scale: 8, .bankers) == Decimal(string: "-0.00000002"))
        #expect(DecimalReference.round(minus, scale: 8, .plain) == Decimal(string: "-0.00000002"))
    }

    @Test func productsAndQuotientsEqualDecimalArithmeticForEveryRounding() throws {
        var g = SeededGenerator(seed: 0x20_2026)
        var compared = 0
        for _ in 0..<40_000 {
            // operands of up to 15 digits keep Decimal's 38-digit arithmetic exact enough to decide every rounding
            let a = Self.randomRaw(&g, maxDigits: 15), b = Self.randomRaw(&g, maxDigits: 15)
            let exactProduct = Self.decimal(a) * Self.decimal(b)
            for mode in FixedRounding.allCases {
                let expected = Self.reference(exactProduct, mode)
                do {
                    let got = try Price(raw: a).times(Quantity(raw: b), mode)
                    #expect(Self.decimal(got.raw) == expected, "\(a) × \(b) \(mode)")
                } catch {
                    #expect(error == .overflow && abs(expected) > Self.decimal(.max), "\(a) × \(b) \(mode)")
                }
                guard b != 0 else {
                    #expect(throws: FixedPointError.divisionByZero) { try Money(raw: a).divided(by: Price(raw: b), mode) }
                    continue
                }
                let quotient = Self.reference(Self.decimal(a) / Self.decimal(b), mode)
                do {
                    let got = try Money(raw: a).divided(by: Price(raw: b), mode)
                    #expect(Self.decimal(got.raw) == quotient, "\(a) ÷ \(b) \(mode)")
                    let sameWithFixed = try Money(raw: a).divided(by: Fixed(raw: b), mode)
                    #expect(sameWithFixed.raw == got.raw)
                } catch {
                    #expect(error == .overflow && abs(quotient) > Self.decimal(.max), "\(a) ÷ \(b) \(mode)")
                }
                compared += 2
            }
            // sums and differences are exact or throw
            let sum = try? (Money(raw: a) + Money(raw: b)), exactSum = Self.decimal(a) + Self.decimal(b)
            #expect(sum.map { Self.decimal($0.raw) } == exactSum)
        }
        #expect(compared > 350_000)
    }

    @Test func stepRoundingEqualsDecimalArithmetic() throws {
        var g = SeededGenerator(seed: 77)
        for _ in 0..<20_000 {
            let value = Self.randomRaw(&g, maxDigits: 16), step = Int64.random(in: 1...1_000_000_000, using: &g)
            for mode in FixedRounding.allCases {
                let units = Self.reference(Decimal(value) / Decimal(step) / Decimal(FixedPoint.scale), mode) * Decimal(FixedPoint.scale)
                let got = try Quantity(raw: value).rounded(toMultipleOf: Quantity(raw: step), mode)
                #expect(Decimal(got.raw) == units * Decimal(step), "\(value) to \(step) \(mode)")
            }
        }
    }
}
