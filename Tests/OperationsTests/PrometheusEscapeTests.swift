import Foundation
import Testing
import TestSupport
@testable import Operations

/// The hand-written name check and escapes of `PrometheusText` against plain references (seeded random texts).
@Suite struct PrometheusEscapeTests {
    static func referenceName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    /// The exposition format's escapes, one Unicode scalar at a time (a combining mark after `\`, `"` or a line feed
    /// is a scalar of its own, so it cannot hide them).
    static func referenceEscape(_ s: String, quote: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\"" where quote: out.append(contentsOf: "\\\"".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// Each escapable character followed by a combining mark is still escaped (a search by characters left it raw).
    @Test func combiningMarksDoNotHideEscapes() {
        let text = "a\"\u{301}b\\\u{301}c\n\u{301}d"
        #expect(PrometheusText.escapeLabel(text) == "a\\\"\u{301}b\\\\\u{301}c\\n\u{301}d")
        #expect(PrometheusText.escapeHelp(text) == "a\"\u{301}b\\\\\u{301}c\\n\u{301}d")
        #expect(!PrometheusText.escapeLabel(text).utf8.contains(0x0A))  // no raw line feed left to break the line
    }

    @Test func sameAnswersAsTheReferencesOnRandomTexts() {
        var rng = SeededGenerator(seed: 20261206)
        let pieces = ["a", "Z", "_", ":", "0", "9", "\\", "\"", "\n", "\r", " ", "é", "ß", "日", "-", ".", "{", "\u{0301}", "tradejob_equity"]
        var texts = ["", "tradejob_runs_total", "9lives", ":x", "_", "é", "a\\b\"c\nd", "\\\\", "\"\"", "\n\n"]
        for _ in 0..<5000 { texts.append((0..<Int.random(in: 0...8, using: &rng)).map { _ in pieces.randomElement(using: &rng) ?? "" }.joined()) }
        for text in texts {
            #expect(PrometheusText.isValidName(text) == Self.referenceName(text), "\(text.debugDescription)")
            #expect(PrometheusText.escapeLabel(text) == Self.referenceEscape(text, quote: true), "\(text.debugDescription)")
            #expect(PrometheusText.escapeHelp(text) == Self.referenceEscape(text, quote: false), "\(text.debugDescription)")
        }
    }
}

