import Dispatch
import Foundation
import TechnicalAnalysis

/// `tradejob-bench load --csv FILE [--chunks N] [--repeats N]`: reads a plain OHLCV file with `PlainOHLCVFile`
/// (the backtest's loader) N times (default 10) and prints the best and median wall and CPU (user + system) ms per
/// read, with the candles' count.
func loadBenchmark(_ arguments: [String]) -> Int32 {
    var path: String?
    var repeats = 10
    var chunks: Int?
    if let i = arguments.firstIndex(of: "--csv"), i + 1 < arguments.count { path = arguments[i + 1] }
    if let i = arguments.firstIndex(of: "--repeats"), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 { repeats = n }
    if let i = arguments.firstIndex(of: "--chunks"), i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 { chunks = n }
    guard let path else {
        FileHandle.standardError.write(Data("usage: tradejob-bench load --csv FILE [--chunks N] [--repeats N]\n".utf8))
        return 64
    }
    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
    var walls: [Double] = [], cpus: [Double] = []
    var count = 0
    for _ in 0..<repeats {
        let wall = DispatchTime.now().uptimeNanoseconds, cpu = cpuSeconds()
        guard let candles = PlainOHLCVFile.candles(path: path, chunks: chunks) else {
            FileHandle.standardError.write(Data("tradejob-bench: \(path) is not a plain OHLCV file\n".utf8))
            return 65
        }
        walls.append(Double(DispatchTime.now().uptimeNanoseconds - wall) / 1e6)
        cpus.append((cpuSeconds() - cpu) * 1e3)
        count = candles.count
    }
    walls.sort()
    cpus.sort()
    func ms(_ x: Double) -> String { String(format: "%.1f", x) }
    print("candles \(count) wall_ms best \(ms(walls[0])) median \(ms(walls[walls.count / 2])) cpu_ms best \(ms(cpus[0])) median \(ms(cpus[cpus.count / 2]))")
    return 0
}
