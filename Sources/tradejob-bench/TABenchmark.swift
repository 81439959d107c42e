import Dispatch
import Foundation
import TechnicalAnalysis

/// `tradejob-bench ta --csv FILE [--repeats N]`: the file is loaded once; each indicator call and each pattern of
/// TA-Lib's golden file is timed (best of N runs, default 5) and printed as `name ns_per_bar`, followed by
/// `indicators`, `patterns` and `total` — the format of `../shared/tools/talib_speed.py`, for side-by-side ratios.
/// Like that script it times the TA-Lib calls only (`logret_std_20`, not a TA-Lib function, is left out).
func taBenchmark(_ arguments: [String]) -> Int32 {
    var path: String?
    var repeats = 5
    if let i = arguments.firstIndex(of: "--csv"), i + 1 < arguments.count { path = arguments[i + 1] }
    if let i = arguments.firstIndex(of: "--repeats"), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 { repeats = n }
    // `--only a,b`: time just these lines (for profiling one pattern or indicator); totals then cover only them.
    var only: Set<String>?
    if let i = arguments.firstIndex(of: "--only"), i + 1 < arguments.count { only = Set(arguments[i + 1].split(separator: ",").map(String.init)) }
    func selected(_ name: String) -> Bool { only?.contains(name) ?? true }
    guard let path else {
        FileHandle.standardError.write(Data("usage: tradejob-bench ta --csv FILE [--repeats N] [--only NAME,...]\n".utf8))
        return 64
    }
    let series: OHLCVSeries
    do {
        series = try OHLCVCSV.parse(path: path)
    } catch {
        FileHandle.standardError.write(Data("tradejob-bench: \(path): \(error)\n".utf8))
        return 65
    }
    let bars = Double(max(series.count, 1))
    let patternBars = PatternBars(open: series.open, high: series.high, low: series.low, close: series.close)
    var groups = (indicators: 0.0, patterns: 0.0)
    var sink = 0.0
    for call in StandardAnalysis.indicatorCalls where call.outputs != ["logret_std_20"] && selected(call.outputs[0]) {
        let seconds = bestOf(repeats) { timed { sink += call.compute(series).first?.last ?? 0 } }
        groups.indicators += seconds
        print("\(call.outputs[0]) \(format(seconds / bars * 1e9))")
    }
    var out = [Int32](repeating: 0, count: series.count)
    // The patterns share their candle-setting averages: computed once per series (timed on its own here, on a
    // fresh copy of the bars, and counted in the patterns' total), then read by every pattern.
    let patterns = CandlestickPattern.allCases.filter { selected($0.rawValue) }
    for pattern in patterns { pattern.compute(patternBars, into: &out) }
    let shared = bestOf(repeats) {
        let fresh = PatternBars(open: series.open, high: series.high, low: series.low, close: series.close)
        let start = DispatchTime.now().uptimeNanoseconds
        fresh.computeAverages(like: patternBars)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    groups.patterns += shared
    print("candle_averages \(format(shared / bars * 1e9))")
    for pattern in patterns {
        let seconds = bestOf(repeats) {
            for i in out.indices { out[i] = 0 }
            return timed {
                pattern.compute(patternBars, into: &out)
                sink += Double(out.last ?? 0)
            }
        }
        groups.patterns += seconds
        print("\(pattern.rawValue) \(format(seconds / bars * 1e9))")
    }
    print("indicators \(format(groups.indicators / bars * 1e9))")
    print("patterns \(format(groups.patterns / bars * 1e9))")
    print("total \(format((groups.indicators + groups.patterns) / bars * 1e9))")
    if sink.isNaN && sink == 1 { print(sink) }   // keeps the results alive
    return 0
}

/// The best of `repeats` measurements (each run returns the seconds it measured).
private func bestOf(_ repeats: Int, _ run: () -> Double) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats { best = min(best, run()) }
    return best
}

private func timed(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

private func format(_ x: Double) -> String { String(format: "%.3f", x) }
