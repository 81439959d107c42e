import Foundation
import Testing
@testable import Operations

/// The hand-written name check and escapes of `PrometheusText` against the Foundation versions they replaced.
@Suite struct PrometheusEscapeTests {
    static func referenceName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ":") }
    }

    static func referenceLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func referenceHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    @Test func sameAnswersAsFoundationOnRandomTexts() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "Z", "_", ":", "0", "9", "\\", "\"", "\n", "\r", " ", "é", "ß", "日", "-", ".", "{", "\u{0301}", "tradejob_equity"]
        var texts = ["", "tradejob_runs_total", "9lives", ":x", "_", "é", "a\\b\"c\nd", "\\\\", "\"\"", "\n\n"]
        for _ in 0..<5000 { texts.append((0..<Int.random(in: 0...8, using: &rng)).map { _ in pieces.randomElement(using: &rng) ?? "" }.joined()) }
        for text in texts {
            #expect(PrometheusText.isValidName(text) == Self.referenceName(text), "\(text.debugDescription)")
            #expect(PrometheusText.escapeLabel(text) == Self.referenceLabel(text), "\(text.debugDescription)")
            #expect(PrometheusText.escapeHelp(text) == Self.referenceHelp(text), "\(text.debugDescription)")
        }
    }
}
