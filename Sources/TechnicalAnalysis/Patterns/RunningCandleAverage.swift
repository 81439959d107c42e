/// TA-Lib's running total for one candle setting: the sum of the setting's range over the `averagePeriod` bars before
/// the bar judged, started at the pattern's first output bar and advanced bar by bar with the same arithmetic as
/// TA-Lib (the new range minus the trailing one, added in one step), so comparisons on a threshold agree exactly.
struct RunningCandleAverage {
    let setting: CandleSetting
    /// Offset of the candle judged from the current bar (0 = this bar, 1 = the previous one, …).
    let offset: Int
    private(set) var total = 0.0
    private var trailing: Int

    init(_ setting: CandleSetting, bars: BarView, start: Int, offset: Int = 0) {
        self.setting = setting
        self.offset = offset
        trailing = start - offset - setting.averagePeriod
        var i = trailing
        while i < start - offset {
            total += bars.range(setting, i)
            i += 1
        }
    }

    /// The setting's average for the candle `offset` bars before bar `i`.
    @inline(__always) func average(_ bars: BarView, _ i: Int) -> Double {
        bars.average(setting, total: total, i - offset)
    }

    /// Moves the window on after bar `i` was judged.
    @inline(__always) mutating func advance(_ bars: BarView, _ i: Int) {
        guard setting.averagePeriod != 0 else { return }
        total += bars.range(setting, i - offset) - bars.range(setting, trailing)
        trailing += 1
    }
}
