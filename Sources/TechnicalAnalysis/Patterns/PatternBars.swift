/// OHLC bars for candlestick recognition, copied once into buffers that the pattern loops read without bounds
/// checks, with the candle-setting averages the patterns share.
public final class PatternBars: @unchecked Sendable {
    /// Read-only access to the bars for the pattern rules.
    let view: BarView
    /// The candle-setting averages the patterns share (filled on first use).
    let averages = CandleAverages()
    private let storage: UnsafeMutableBufferPointer<Double>

    /// All four arrays must have the same length.
    public init(open: [Double], high: [Double], low: [Double], close: [Double]) {
        precondition(open.count == high.count && high.count == low.count && low.count == close.count,
                     "PatternBars: open, high, low and close must have the same length")
        let n = close.count
        storage = .allocate(capacity: max(4 * n, 1))
        for (k, column) in [open, high, low, close].enumerated() {
            _ = UnsafeMutableBufferPointer(rebasing: storage[(k * n)..<(k * n + n)]).initialize(from: column)
        }
        let base = UnsafePointer(storage.baseAddress ?? UnsafeMutablePointer<Double>.allocate(capacity: 1))
        view = BarView(open: base, high: base + n, low: base + 2 * n, close: base + 3 * n, count: n)
    }

    deinit { storage.deallocate() }

    public var count: Int { view.count }

    /// A copy extended to `count` bars (if shorter) with repeats of the last bar.
    func padded(to count: Int) -> PatternBars {
        let n = view.count
        func column(_ p: UnsafePointer<Double>) -> [Double] {
            let values = Array(UnsafeBufferPointer(start: p, count: n))
            return values + [Double](repeating: values.last ?? 0, count: max(count - n, 0))
        }
        return PatternBars(open: column(view.open), high: column(view.high), low: column(view.low), close: column(view.close))
    }

    /// Computes into this series' cache every shared average that `other` has computed so far (the benchmark uses
    /// it to time the shared work on its own, apart from the patterns).
    public func computeAverages(like other: PatternBars) {
        averages.prepare(other.averages.keys, bars: view)
    }
}

/// Unchecked read access to OHLC columns (valid while the owning `PatternBars` lives).
struct BarView {
    let open: UnsafePointer<Double>
    let high: UnsafePointer<Double>
    let low: UnsafePointer<Double>
    let close: UnsafePointer<Double>
    let count: Int
}

/// Namespace for the pattern implementations (one static function per TA-Lib pattern).
public enum CandlestickPatterns {}
