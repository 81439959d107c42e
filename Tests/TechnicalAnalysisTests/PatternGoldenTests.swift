import Foundation
import Testing
@testable import TechnicalAnalysis

@Suite("Candlestick patterns against TA-Lib on real SPY data")
struct PatternGoldenTests {
    /// The patterns implemented so far (the others still give 0 on every bar).
    static let implemented: [CandlestickPattern] = [.cdldoji, .cdldragonflydoji, .cdlgravestonedoji, .cdllongleggeddoji, .cdlrickshawman,
                                                    .cdlmarubozu, .cdlclosingmarubozu, .cdlspinningtop, .cdllongline, .cdlshortline, .cdlhighwave,
                                                    .cdlengulfing, .cdlharami, .cdlharamicross, .cdlhammer, .cdlhangingman, .cdlinvertedhammer,
                                                    .cdlshootingstar, .cdltakuri, .cdlbelthold, .cdldojistar, .cdlcounterattack, .cdldarkcloudcover,
                                                    .cdlpiercing, .cdlhomingpigeon, .cdlmatchinglow, .cdl3outside, .cdl3inside, .cdlmorningstar,
                                                    .cdleveningstar, .cdlmorningdojistar, .cdleveningdojistar, .cdl3blackcrows, .cdl2crows,
                                                    .cdlupsidegap2crows, .cdlinneck, .cdlonneck, .cdlthrusting, .cdlseparatinglines, .cdltasukigap,
                                                    .cdlgapsidesidewhite, .cdlsticksandwich, .cdlidentical3crows]

    @Test(.enabled(if: IndicatorGoldenTests.spy != nil, "../shared (SPY data and TA-Lib golden file) is absent: skipped"), arguments: implemented)
    func matchesTALibOnEveryBar(pattern: CandlestickPattern) throws {
        let (s, g) = try #require(IndicatorGoldenTests.spy)
        let bars = PatternBars(open: s.open, high: s.high, low: s.low, close: s.close)
        let ours = pattern.compute(bars)
        let theirs = try #require(g.columns[pattern.rawValue])
        #expect(theirs.contains { $0 != 0 }, "the golden column fires at least once")
        var mismatches: [String] = []
        for i in ours.indices where Double(ours[i]) != theirs[i] {
            mismatches.append("bar \(i): \(ours[i]) vs \(theirs[i])")
            if mismatches.count > 5 { break }
        }
        #expect(mismatches.isEmpty, "\(pattern.rawValue): \(mismatches)")
    }
}
