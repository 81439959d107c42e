import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The candle-setting averages that patterns share: one column per (setting, first window), computed once per
/// series and reused by every pattern that needs it.
///
/// TA-Lib keeps a running total per setting, started at the pattern's first output bar and advanced bar by bar
/// (the new range minus the trailing one, added in one step). Its rounding therefore depends on where the total
/// started, so a column is keyed by that start as well; the arithmetic is TA-Lib's, so threshold comparisons agree
/// exactly. `column(...)[j]` is the average that judges candle `j`.
public final class CandleAverages: @unchecked Sendable {
    /// What identifies one column.
    struct Key: Hashable {
        var rangeType: CandleRangeType
        var averagePeriod: Int
        var factor: Double
        /// First bar of the first window (TA-Lib's trailing index at the first output); 0 when the period is 0.
        var windowStart: Int
    }

    private let lock = NSLock()
    /// Owned buffers (freed with the cache), so that pattern loops can keep plain pointers into them.
    private var columns: [Key: UnsafeMutableBufferPointer<Double>] = [:]

    init() {}

    deinit {
        for column in columns.values { release(column) }
        for range in ranges.values { release(range) }
    }

    /// The ranges of each type, shared by the columns built on them.
    private var ranges: [CandleRangeType: UnsafeMutableBufferPointer<Double>] = [:]

    /// A column's memory. Columns are large (8 bytes per bar) and written once: on Linux they are asked for
    /// transparent huge pages, which spares the kernel a page fault every 4 KiB on first touch.
    private func allocate(_ count: Int) -> UnsafeMutableBufferPointer<Double> {
        let hugePage = 2 << 20
        let bytes = max(count, 1) * MemoryLayout<Double>.stride
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, bytes >= hugePage ? hugePage : 64, bytes) == 0, let raw else {
            fatalError("CandleAverages: cannot allocate \(bytes) bytes")
        }
        #if os(Linux)
        if bytes >= hugePage { _ = madvise(raw, bytes, Int32(MADV_HUGEPAGE)) }
        #endif
        return UnsafeMutableBufferPointer(start: raw.bindMemory(to: Double.self, capacity: max(count, 1)), count: max(count, 1))
    }

    private func release(_ buffer: UnsafeMutableBufferPointer<Double>) { free(buffer.baseAddress) }

    /// The keys computed so far (the benchmark recomputes them to time the shared work on its own).
    var keys: [Key] { lock.lock(); defer { lock.unlock() }; return Array(columns.keys) }

    /// The column for `setting` as a pattern with first output bar `lookback` needs it for the candle `offset` bars
    /// back: entry `j` (for `j ≥ lookback - offset`) judges candle `j`.
    func column(_ setting: CandleSetting, lookback: Int, offset: Int, bars: BarView) -> UnsafePointer<Double> {
        let start = setting.averagePeriod == 0 ? 0 : lookback - offset - setting.averagePeriod
        let key = Key(rangeType: setting.rangeType, averagePeriod: setting.averagePeriod, factor: setting.factor, windowStart: start)
        lock.lock()
        defer { lock.unlock() }
        if let cached = columns[key], let base = cached.baseAddress { return UnsafePointer(base) }
        let computed = compute(key, bars: bars)
        columns[key] = computed
        return UnsafePointer(computed.baseAddress ?? UnsafeMutablePointer<Double>.allocate(capacity: 1))
    }

    /// Recomputes `keys` into a fresh cache (used to time the shared work).
    func prepare(_ keys: [Key], bars: BarView) {
        for key in keys {
            lock.lock()
            let computed = compute(key, bars: bars)
            if let old = columns[key] { release(old) }
            columns[key] = computed
            lock.unlock()
        }
    }

    /// The ranges of one type for every bar (call with the lock held).
    private func rangeColumn(_ type: CandleRangeType, bars: BarView) -> UnsafeMutableBufferPointer<Double> {
        if let cached = ranges[type] { return cached }
        let n = bars.count
        let column = allocate(n)
        switch type {
        case .realBody: for j in 0..<n { column[j] = bars.realBody(j) }
        case .highLow: for j in 0..<n { column[j] = bars.highLowRange(j) }
        case .shadows: for j in 0..<n { column[j] = bars.upperShadow(j) + bars.lowerShadow(j) }
        }
        ranges[type] = column
        return column
    }

    /// One column (call with the lock held).
    private func compute(_ key: Key, bars: BarView) -> UnsafeMutableBufferPointer<Double> {
        let n = bars.count
        let out = allocate(n)
        let setting = CandleSetting(key.rangeType, key.averagePeriod, key.factor)
        let halve = key.rangeType == .shadows
        let period = key.averagePeriod
        let factor = key.factor
        if period == 0 {
            for j in 0..<n { out[j] = factor * bars.range(setting, j) / (halve ? 2.0 : 1.0) }
            return out
        }
        let first = key.windowStart + period
        guard key.windowStart >= 0, first < n else {
            out.initialize(repeating: 0)
            return out
        }
        for j in 0..<first { out[j] = 0 }
        // TA-Lib's running total over the shared ranges (x / 1 is x, so skipping that division changes nothing).
        let ranges = rangeColumn(key.rangeType, bars: bars)
        var total = 0.0
        for j in key.windowStart..<first { total += ranges[j] }
        let p = Double(period)
        if halve {
            for j in first..<n {
                out[j] = factor * (total / p) / 2.0
                total += ranges[j] - ranges[j - period]
            }
        } else {
            for j in first..<n {
                out[j] = factor * (total / p)
                total += ranges[j] - ranges[j - period]
            }
        }
        return out
    }
}

/// The averages a rule sees for one bar: `a[k]` is the average of the k-th setting the pattern asked for.
struct BarAverages {
    let bases: UnsafePointer<UnsafePointer<Double>>
    let i: Int
    @inline(__always) subscript(_ k: Int) -> Double { bases[k][i] }
}
