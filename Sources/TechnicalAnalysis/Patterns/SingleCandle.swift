extension CandlestickPatterns {
    /// Runs a one-candle rule over every bar from the first one where all `settings` have their averages (TA-Lib's
    /// lookback: the longest average period), passing the rule the settings' averages for the bar in order.
    @inline(__always)
    static func singleCandle(_ bars: PatternBars, _ out: inout [Int32], _ settings: [CandleSetting],
                             _ rule: (BarView, Int, BarAverages) -> Int32) {
        let start = settings.map(\.averagePeriod).max() ?? 0
        candles(bars, &out, lookback: start, settings.map { ($0, 0) }, rule)
    }

    /// Runs a rule over every bar from `lookback` on; each setting is averaged for the candle `offset` bars back.
    /// The averages come from the series' shared `CandleAverages`; nothing is allocated per bar.
    @inline(__always)
    static func candles(_ bars: PatternBars, _ out: inout [Int32], lookback: Int, _ settings: [(CandleSetting, Int)],
                        _ rule: (BarView, Int, BarAverages) -> Int32) {
        let n = bars.count
        guard n > lookback else { return }
        let view = bars.view
        // Pointers shifted by each setting's offset, so that bases[k][i] is the average that judges bar i's candle.
        let bases = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: max(settings.count, 1))
        defer { bases.deallocate() }
        for (k, (setting, offset)) in settings.enumerated() {
            bases[k] = bars.averages.column(setting, lookback: lookback, offset: offset, bars: view) - offset
        }
        let averages = UnsafePointer(bases)
        out.withUnsafeMutableBufferPointer { o in
            for i in lookback..<n { o[i] = rule(view, i, BarAverages(bases: averages, i: i)) }
        }
    }
}
