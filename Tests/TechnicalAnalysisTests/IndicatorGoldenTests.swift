import Foundation
import Testing
@testable import TechnicalAnalysis

/// A golden CSV (TA-Lib's output) read by column name; empty cells are NaN.
struct GoldenFile {
    let columns: [String: [Double]]

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline)
        let header = lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        var columns: [String: [Double]] = [:]
        for name in header { columns[name] = [] }
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            for (i, name) in header.enumerated() where i < cells.count && name != "time" {
                columns[name, default: []].append(cells[i].isEmpty ? .nan : Double(cells[i]) ?? .nan)
            }
        }
        self.columns = columns
    }

    /// Differences between `ours` and the column: warm-up positions must match exactly; values within 1e-9 relative
    /// (1e-9 absolute near zero).
    func mismatches(_ name: String, _ ours: [Double]) -> [String] {
        guard let theirs = columns[name] else { return ["no column \(name)"] }
        guard theirs.count == ours.count else { return ["\(name): \(ours.count) values vs \(theirs.count)"] }
        var problems: [String] = []
        for i in ours.indices {
            let a = ours[i], b = theirs[i]
            if a.isNaN != b.isNaN { problems.append("\(name)[\(i)]: \(a) vs \(b) (warm-up differs)"); continue }
            if a.isNaN { continue }
            let tolerance = max(1e-9 * abs(b), 1e-9)
            if abs(a - b) > tolerance { problems.append("\(name)[\(i)]: \(a) vs \(b)") }
            if problems.count > 5 { break }
        }
        return problems
    }
}

@Suite("Indicators against TA-Lib on real SPY data")
struct IndicatorGoldenTests {
    /// Read once per test process.
    static let spy: (series: OHLCVSeries, golden: GoldenFile)? = {
        guard let shared = TestData.shared,
              let text = try? String(contentsOf: shared.appendingPathComponent("data/SPY_1d.csv"), encoding: .utf8),
              let series = try? OHLCVCSV.parse(text),
              let golden = try? GoldenFile(path: shared.appendingPathComponent("reference/talib/SPY_1d.golden.csv").path) else { return nil }
        return (series, golden)
    }()

    @Test(.enabled(if: spy != nil, "../shared (SPY data and TA-Lib golden file) is absent: skipped"))
    func everyIndicatorMatchesTALib() throws {
        let (s, g) = try #require(Self.spy)
        let macd = Indicators.macd(s.close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9)
        let bands = Indicators.bollingerBands(s.close, period: 20, deviationsUp: 2, deviationsDown: 2)
        let di = Indicators.directionalIndicators(high: s.high, low: s.low, close: s.close, period: 14)
        let stoch = Indicators.stochastic(high: s.high, low: s.low, close: s.close, fastK: 14, slowK: 3, slowD: 3)
        let checks: [(String, [Double])] = [
            ("sma_20", Indicators.sma(s.close, period: 20)),
            ("ema_20", Indicators.ema(s.close, period: 20)),
            ("rsi_14", Indicators.rsi(s.close, period: 14)),
            ("macd_12_26_9", macd.macd), ("macd_signal_12_26_9", macd.signal), ("macd_hist_12_26_9", macd.histogram),
            ("bb_upper_20_2", bands.upper), ("bb_middle_20_2", bands.middle), ("bb_lower_20_2", bands.lower),
            ("stddev_20", Indicators.stddev(s.close, period: 20)),
            ("trange", Indicators.trueRange(high: s.high, low: s.low, close: s.close)),
            ("atr_14", Indicators.atr(high: s.high, low: s.low, close: s.close, period: 14)),
            ("adx_14", Indicators.adx(high: s.high, low: s.low, close: s.close, period: 14)),
            ("wma_20", Indicators.wma(s.close, period: 20)),
            ("natr_14", Indicators.natr(high: s.high, low: s.low, close: s.close, period: 14)),
            ("plus_di_14", di.plus), ("minus_di_14", di.minus),
            ("stoch_k_14_3_3", stoch.k), ("stoch_d_14_3_3", stoch.d),
            ("cci_20", Indicators.cci(high: s.high, low: s.low, close: s.close, period: 20)),
            ("willr_14", Indicators.williamsR(high: s.high, low: s.low, close: s.close, period: 14)),
            ("mfi_14", Indicators.mfi(high: s.high, low: s.low, close: s.close, volume: s.volume, period: 14)),
            ("obv", Indicators.obv(close: s.close, volume: s.volume)),
            ("roc_10", Indicators.roc(s.close, period: 10)),
            ("mom_10", Indicators.momentum(s.close, period: 10)),
            ("logret_std_20", Indicators.logReturnStd(s.close, period: 20)),
        ]
        for (name, values) in checks {
            let problems = g.mismatches(name, values)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test func warmUpLengths() {
        let x = (0..<60).map { 100 + sin(Double($0)) }
        #expect(Indicators.sma(x, period: 20).prefix(19).allSatisfy { $0.isNaN })
        #expect(!Indicators.sma(x, period: 20)[19].isNaN)
        #expect(Indicators.rsi(x, period: 14).firstIndex { !$0.isNaN } == 14)
        #expect(Indicators.macd(x, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9).histogram.firstIndex { !$0.isNaN } == 33)
        #expect(Indicators.atr(high: x.map { $0 + 1 }, low: x.map { $0 - 1 }, close: x, period: 14).firstIndex { !$0.isNaN } == 14)
        #expect(Indicators.adx(high: x.map { $0 + 1 }, low: x.map { $0 - 1 }, close: x, period: 14).firstIndex { !$0.isNaN } == 27)
        #expect(Indicators.sma([1, 2], period: 5).allSatisfy { $0.isNaN })
    }

    @Test func rsiIsZeroWithoutMovement() {
        #expect(Indicators.rsi([Double](repeating: 5, count: 30), period: 14)[20] == 0)
    }
}
