import Foundation

/// `tradejob-bench <benchmark> [options]`: release-build benchmarks whose figures the README reports.
let benchmarks: [String: (summary: String, run: ([String]) -> Int32)] = [
    "risk": ("one risk decision: sizing + every limit + every protection, state already loaded", riskBenchmark),
    "load": ("reading a plain OHLCV file (--csv FILE) as the backtest does, ms per read", loadBenchmark),
    "ta": ("every indicator call and candlestick pattern of the TA-Lib golden file on --csv FILE, ns per bar", taBenchmark),
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let benchmark = benchmarks[name] else {
    print("usage: tradejob-bench <benchmark> [options]\n")
    for (name, entry) in benchmarks.sorted(by: { $0.key < $1.key }) { print("  \(name)\t\(entry.summary)") }
    exit(arguments.isEmpty ? 0 : 64)
}
exit(benchmark.run(Array(arguments.dropFirst())))
