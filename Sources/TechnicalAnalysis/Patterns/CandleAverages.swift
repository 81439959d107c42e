import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The candle-setting averages that patterns share, computed once per series and reused by every pattern.
///
/// TA-Lib's average for a setting is `factor × (total / period) / (2 for shadows, else 1)`, where `total` is a running
/// sum of the setting's range over the `period` bars before the candle judged, started at the pattern's first output
/// bar and advanced bar by bar (the new range minus the trailing one, added in one step). Its rounding depends on
/// where the total started, so each (range type, period, start) has its own sequence of `total / period` values
/// (the factor is applied by the pattern, see `CandleSetting.scale`); comparisons on a threshold agree exactly with
/// TA-Lib.
///
/// Two totals of one measure that are equal on one bar are equal on every later bar (they then take the same steps).
/// On price data they usually become equal within a few bars, so a measure keeps one full column (its "base", the
/// earliest start asked for) and each other start keeps only its values up to the bar where its total joins the
/// base's; a start whose total has not joined it within `prefixLimit` bars gets a full column of its own.
public final class CandleAverages: @unchecked Sendable {
    /// What identifies one sequence of averages.
    struct Key: Hashable {
        var rangeType: CandleRangeType
        var averagePeriod: Int
        /// First bar of the first window (TA-Lib's trailing index at the first output).
        var windowStart: Int

        var measure: Measure { Measure(type: rangeType, period: averagePeriod) }

        /// One word hashed instead of three (a pattern looks its keys up on every series; equality still compares
        /// every field, so this only spreads the keys).
        func hash(into hasher: inout Hasher) {
            let type: Int
            switch rangeType {
            case .realBody: type = 0
            case .highLow: type = 1
            case .shadows: type = 2
            }
            hasher.combine(windowStart &* 0x1_0000 &+ averagePeriod &* 4 &+ type)
        }
        /// The first candle judged (entries before it are not read).
        var first: Int { windowStart + averagePeriod }
    }

    /// A range type and period: what the sequences of one measure share.
    struct Measure: Hashable {
        var type: CandleRangeType
        var period: Int
    }

    /// The measures of TA-Lib's default settings (long body, doji, short shadow, near: every averaged setting is one
    /// of these).
    static let defaultMeasures = [CandleSetting.bodyLong, .bodyDoji, .shadowShort, .near].map { Measure(type: $0.rangeType, period: $0.averagePeriod) }

    /// Where a pattern reads one sequence: entry `j` is `values[j]` for `j ≥ from` and `prefix[j]` for
    /// `key.first ≤ j < from`.
    struct Column {
        var values: UnsafePointer<Double>
        var from: Int
        var prefix: UnsafePointer<Double>?

        /// Entry `j`.
        func value(_ j: Int) -> Double {
            if j >= from { return values[j] }
            if let prefix { return prefix[j] }
            return 0
        }
    }

    /// The key for `setting` (period > 0) as a pattern with first output bar `lookback` needs it for the candle
    /// `offset` bars back.
    static func key(_ setting: CandleSetting, lookback: Int, offset: Int) -> Key {
        Key(rangeType: setting.rangeType, averagePeriod: setting.averagePeriod,
            windowStart: lookback - offset - setting.averagePeriod)
    }

    /// How many bars past its first common bar with the base a sequence may take to join it before it gets a full
    /// column of its own.
    static let prefixLimit = 4096

    private let lock = NSLock()
    /// Each measure's base: its start and full column. A few measures and a few dozen keys per series: plain lists
    /// searched in order cost less than hashing (a series of the job's window is read once per pattern).
    private var bases: [(measure: Measure, start: Int, column: UnsafeMutablePointer<Double>)] = []
    /// The keys computed so far, with their columns at the same index.
    private var knownKeys: [Key] = []
    private var knownColumns: [Column] = []
    /// Owned buffers (freed with the cache), so that pattern loops can keep plain pointers into them.
    private var buffers: [UnsafeMutablePointer<Double>] = []

    init() {
        // Room for every key the 61 patterns ask for, so that the lists are not regrown on the way.
        knownKeys.reserveCapacity(64)
        knownColumns.reserveCapacity(64)
        buffers.reserveCapacity(64)
        bases.reserveCapacity(16)
    }

    deinit { release() }

    private func release() {
        for buffer in buffers { free(buffer) }
        buffers = []
        bases = []
        knownKeys = []
        knownColumns = []
    }

    /// The keys computed so far (the benchmark recomputes them to time the shared work on its own).
    var keys: [Key] { lock.lock(); defer { lock.unlock() }; return knownKeys }

    /// The column of `key`, if computed (call with the lock held).
    private func lookup(_ key: Key) -> Column? {
        for k in knownKeys.indices where knownKeys[k].windowStart == key.windowStart && knownKeys[k].averagePeriod == key.averagePeriod
            && knownKeys[k].rangeType == key.rangeType { return knownColumns[k] }
        return nil
    }

    private func record(_ key: Key, _ column: Column) {
        knownKeys.append(key)
        knownColumns.append(column)
    }

    /// The base of `measure`, if computed (call with the lock held).
    private func base(_ measure: Measure) -> (start: Int, column: UnsafeMutablePointer<Double>)? {
        for b in bases where b.measure == measure { return (b.start, b.column) }
        return nil
    }

    /// The columns for `keys`, computing the missing ones.
    func columns(_ keys: [Key], bars: BarView) -> [Column] {
        lock.lock()
        defer { lock.unlock() }
        // One lookup per key when every column is there already (every pattern after the first few).
        var found: [Column] = []
        found.reserveCapacity(keys.count)
        for key in keys {
            guard let column = lookup(key) else {
                fill(keys.filter { lookup($0) == nil }, bars: bars)
                return keys.map { lookup($0) ?? Column(values: bars.close, from: Int.max, prefix: nil) }
            }
            found.append(column)
        }
        return found
    }

    /// Recomputes `keys` into this cache, from scratch (used to time the shared work).
    func prepare(_ keys: [Key], bars: BarView) {
        lock.lock()
        defer { lock.unlock() }
        release()
        fill(keys, bars: bars)
    }

    /// Memory for `count` values. Full columns are large (8 bytes per bar) and written once: on Linux they are asked
    /// for transparent huge pages, which spares the kernel a page fault every 4 KiB on first touch.
    private func allocate(_ count: Int) -> UnsafeMutablePointer<Double> {
        let hugePage = 2 << 20
        let bytes = max(count, 1) * MemoryLayout<Double>.stride
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, bytes >= hugePage ? hugePage : 64, bytes) == 0, let raw else {
            fatalError("CandleAverages: cannot allocate \(bytes) bytes")
        }
        #if os(Linux)
        if bytes >= hugePage { _ = madvise(raw, bytes, Int32(MADV_HUGEPAGE)) }
        #endif
        let buffer = raw.bindMemory(to: Double.self, capacity: max(count, 1))
        buffers.append(buffer)
        return buffer
    }

    /// Computes `keys` (call with the lock held).
    private func fill(_ keys: [Key], bars: BarView) {
        let n = bars.count
        // Each key once; the new measures with the earliest start asked for (each sequence is computed on its own, so
        // the order changes no value).
        var unique: [Key] = []
        unique.reserveCapacity(keys.count)
        for key in keys where !unique.contains(key) { unique.append(key) }
        var newBases: [Key] = []
        for key in unique {
            guard key.averagePeriod > 0, key.windowStart >= 0, key.first < n else {
                // No window fits in the series: no pattern reads this sequence.
                let zeros = allocate(n)
                zeros.initialize(repeating: 0, count: max(n, 1))
                record(key, Column(values: zeros, from: 0, prefix: nil))
                continue
            }
            guard base(key.measure) == nil else { continue }
            if let k = newBases.firstIndex(where: { $0.measure == key.measure }) {
                newBases[k].windowStart = min(newBases[k].windowStart, key.windowStart)
            } else {
                newBases.append(Key(rangeType: key.rangeType, averagePeriod: key.averagePeriod, windowStart: key.windowStart))
            }
        }
        // Lanes left free in the last group compute the bases of TA-Lib's other default measures, which the next
        // patterns ask for: one pass instead of one per measure. (A sequence's values do not depend on where its
        // measure's base starts: it reads its own prefix until its total joins the base's.)
        if let first = newBases.first {
            for measure in Self.defaultMeasures where newBases.count % laneCount != 0 && base(measure) == nil
                && !newBases.contains(where: { $0.measure == measure }) {
                let key = Key(rangeType: measure.type, averagePeriod: measure.period, windowStart: first.windowStart)
                if key.first < n { newBases.append(key) }
            }
        }
        for start in stride(from: 0, to: newBases.count, by: laneCount) {
            let group = newBases[start..<min(start + laneCount, newBases.count)].map { key in (key: key, column: allocate(n)) }
            Self.computeFull(group, bars: bars)
            for (key, column) in group {
                bases.append((key.measure, key.windowStart, column))
                record(key, Column(values: column, from: key.first, prefix: nil))
            }
        }
        for key in unique where lookup(key) == nil {
            guard let base = base(key.measure) else { continue }
            let prefix = allocate(min(max(key.first, base.start + key.averagePeriod) + Self.prefixLimit, n))
            if let from = Self.computePrefix(key, baseStart: base.start, into: prefix, bars: bars) {
                record(key, Column(values: base.column, from: from, prefix: prefix))
            } else {
                let own = allocate(n)
                Self.computeFull([(key, own)], bars: bars)
                record(key, Column(values: own, from: key.first, prefix: nil))
            }
        }
    }

    /// TA-Lib's running total for `key` from its start, and the total as it stands when it reaches `to` (entries
    /// `first..<to` written to `out`, which may be nil).
    private static func runningTotal(_ key: Key, to: Int, into out: UnsafeMutablePointer<Double>?, bars: BarView) -> Double {
        let p = key.averagePeriod, type = key.rangeType
        var total = 0.0
        for j in key.windowStart..<key.first { total += bars.range(type, j) }
        var j = key.first
        while j < to {
            out?[j] = total / Double(p)
            total += bars.range(type, j) - bars.range(type, j - p)
            j += 1
        }
        return total
    }

    /// Writes `key`'s entries until its total equals that of the sequence of the same measure started at
    /// `baseStart`, and returns that bar (`bars.count` if the series ends first); nil if they are not equal within
    /// `prefixLimit` bars of their first common bar.
    private static func computePrefix(_ key: Key, baseStart: Int, into out: UnsafeMutablePointer<Double>, bars: BarView) -> Int? {
        let n = bars.count, p = key.averagePeriod, type = key.rangeType
        let base = Key(rangeType: type, averagePeriod: p, windowStart: baseStart)
        let common = max(key.first, base.first)
        var total = runningTotal(key, to: common, into: out, bars: bars)
        var baseTotal = runningTotal(base, to: common, into: nil, bars: bars)
        var j = common
        while j < min(common + prefixLimit, n) {
            if total == baseTotal { return j }
            out[j] = total / Double(p)
            let step = bars.range(type, j) - bars.range(type, j - p)
            total += step
            baseTotal += step
            j += 1
        }
        return j == n ? n : nil
    }

    /// Full columns for up to four sequences (of any measures), advanced together in SIMD lanes.
    private static func computeFull(_ group: [(key: Key, column: UnsafeMutablePointer<Double>)], bars: BarView) {
        let n = bars.count
        precondition(!group.isEmpty && group.count <= laneCount)
        // Each lane's entries up to the first bar where all lanes have started are written one by one.
        let start = group.map(\.key.first).max() ?? n
        var totals = Lanes(), periods = Lanes(repeating: 1)
        for lane in 0..<laneCount {
            let (key, column) = group[min(lane, group.count - 1)]
            column.initialize(repeating: 0, count: key.first)
            totals[lane] = runningTotal(key, to: start, into: column, bars: bars)
            periods[lane] = Double(key.averagePeriod)
        }
        // Then block by block: each lane's steps (the new range minus the trailing one) into a buffer, vectorised;
        // the totals advanced together (one chain of additions per lane) and divided; then copied to the columns.
        let block = 1024
        let steps = UnsafeMutablePointer<Lanes>.allocate(capacity: max(1, min(block, n - start)))
        defer { steps.deallocate() }
        var from = start
        while from < n {
            let to = min(from + block, n)
            for lane in 0..<laneCount {
                let key = group[min(lane, group.count - 1)].key
                let p = key.averagePeriod
                switch key.rangeType {
                case .realBody: for j in from..<to { steps[j - from][lane] = bars.realBody(j) - bars.realBody(j - p) }
                case .highLow: for j in from..<to { steps[j - from][lane] = bars.highLowRange(j) - bars.highLowRange(j - p) }
                case .shadows:
                    for j in from..<to {
                        steps[j - from][lane] = (bars.upperShadow(j) + bars.lowerShadow(j)) - (bars.upperShadow(j - p) + bars.lowerShadow(j - p))
                    }
                }
            }
            var t = totals
            for j in 0..<(to - from) {
                let total = t
                t += steps[j]
                steps[j] = total / periods
            }
            totals = t
            for lane in 0..<min(group.count, laneCount) {
                let column = group[lane].column
                for j in from..<to { column[j] = steps[j - from][lane] }
            }
            from = to
        }
    }
}
