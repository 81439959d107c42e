import Foundation
import Storage
import TradingDomain

/// The equity curve's figures, kept as the curve is produced (a running sum, Welford's variance, the running peak),
/// so that a backtest holds nothing per cycle in memory. Returns are per cycle, point to point.
public struct EquityStats: Sendable, Equatable {
    public private(set) var points = 0
    public private(set) var safeModePoints = 0
    public private(set) var firstTime: Int64?
    public private(set) var lastTime: Int64?
    public private(set) var lastEquity: Double?
    public private(set) var returns = 0
    public private(set) var returnSum = 0.0
    /// Welford's running mean and sum of squared deviations of the returns.
    private var mean = 0.0, squaredDeviations = 0.0
    public private(set) var downsideSquares = 0.0
    private var peak = -Double.infinity
    public private(set) var maxDrawdown = 0.0
    /// The last equity's raw value (`lastEquity` is its `double`).
    private var lastRaw: Int64 = 0

    public init() {}

    /// The figures of a whole curve at once.
    public init(_ curve: [EquityPoint]) {
        for point in curve { add(time: point.time, equity: point.equity, safeMode: point.safeMode) }
    }

    public mutating func add(time: Int64, equity: Money, safeMode: Bool) {
        // An equity equal to the last one (most points while flat) has the same value, a return of exactly 0 and the
        // drawdown already counted: only the divisions that then give something new are made (the same figures).
        let unchanged = equity.raw == lastRaw && lastEquity != nil
        let value = unchanged ? lastEquity ?? equity.double : equity.double
        points += 1
        if safeMode { safeModePoints += 1 }
        if firstTime == nil { firstTime = time }
        lastTime = time
        if let previous = lastEquity, previous > 0 {
            let r = unchanged ? 0 : value / previous - 1
            returns += 1
            returnSum += r
            let delta = r - mean
            mean += delta / Double(returns)
            squaredDeviations += delta * (r - mean)
            downsideSquares += min(0, r) * min(0, r)
        }
        lastEquity = value
        lastRaw = equity.raw
        guard !unchanged else { return }
        peak = max(peak, value)
        if peak > 0 { maxDrawdown = max(maxDrawdown, (peak - value) / peak) }
    }

    /// Sample standard deviation of the returns.
    public var returnDeviation: Double { returns > 1 ? sqrt(squaredDeviations / Double(returns - 1)) : 0 }
}

/// A bounded, evenly spaced sample of the equity curve for charts: every `stride`-th point, the stride doubling (and
/// every other point kept) whenever more than `capacity` points are held, plus the last point. Memory stays within
/// `capacity` points whatever the length of the backtest; the same curve gives the same sample.
public struct EquitySampler: Sendable, Equatable {
    public let capacity: Int
    public private(set) var points: [EquityPoint] = []
    public private(set) var stride = 1
    private var seen = 0
    private var last: EquityPoint?

    public init(capacity: Int) { self.capacity = max(2, capacity) }

    public mutating func add(_ point: EquityPoint) {
        if seen % stride == 0 {
            points.append(point)
            if points.count > capacity {
                points = points.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                stride *= 2
            }
        }
        seen += 1
        last = point
    }

    /// The sample with the curve's last point at its end.
    public var sample: [EquityPoint] {
        guard let last, points.last != last else { return points }
        return points + [last]
    }
}

/// Records each cycle's equity point: into `EquityStats`, into the `--equity-out` CSV as it goes, and into a bounded
/// sample for the HTML report's charts when asked.
public final class EquityRecorder {
    // Added to once per cycle by the backtest's one loop: the run-time exclusivity checks are left out.
    @exclusivity(unchecked) public private(set) var stats = EquityStats()
    @exclusivity(unchecked) public private(set) var sampler: EquitySampler?
    private let writer: AtomicFileWriter?

    public init(csvPath: String?, chartPoints: Int = 0) throws {
        writer = try csvPath.map { try AtomicFileWriter(path: $0) }
        sampler = chartPoints > 0 ? EquitySampler(capacity: chartPoints) : nil
        try writer?.append("time,equity,cash,safe_mode\n")
    }

    public func add(time: Int64, equity: Money, cash: Money, safeMode: Bool) throws {
        stats.add(time: time, equity: equity, safeMode: safeMode)
        sampler?.add(EquityPoint(time: time, equity: equity, cash: cash, safeMode: safeMode))
        guard let writer else { return }
        try writer.append(BacktestFiles.equityLine(time: time, equity: equity, cash: cash, safeMode: safeMode))
    }

    /// Puts the CSV in place.
    public func finish() throws { try writer?.commit() }
}
