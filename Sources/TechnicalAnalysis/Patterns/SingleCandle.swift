extension CandlestickPatterns {
    /// Runs a one-candle rule over every bar from the first one where all `settings` have their averages (TA-Lib's
    /// lookback: the longest average period), passing the rule the settings' averages for the bar in order.
    static func singleCandle(_ bars: PatternBars, _ out: inout [Int32], _ settings: [CandleSetting],
                             _ rule: (PatternBars, Int, [Double]) -> Int32) {
        let start = settings.map(\.averagePeriod).max() ?? 0
        guard bars.count > start else { return }
        var totals = settings.map { RunningCandleAverage($0, bars: bars, start: start) }
        var averages = [Double](repeating: 0, count: settings.count)
        for i in start..<bars.count {
            for k in totals.indices { averages[k] = totals[k].average(bars, i) }
            out[i] = rule(bars, i, averages)
            for k in totals.indices { totals[k].advance(bars, i) }
        }
    }

    /// Runs a rule over every bar from `lookback` on; each setting is averaged for the candle `offset` bars back.
    static func candles(_ bars: PatternBars, _ out: inout [Int32], lookback: Int, _ settings: [(CandleSetting, Int)],
                        _ rule: (PatternBars, Int, [Double]) -> Int32) {
        guard bars.count > lookback else { return }
        var totals = settings.map { RunningCandleAverage($0.0, bars: bars, start: lookback, offset: $0.1) }
        var averages = [Double](repeating: 0, count: settings.count)
        for i in lookback..<bars.count {
            for k in totals.indices { averages[k] = totals[k].average(bars, i) }
            out[i] = rule(bars, i, averages)
            for k in totals.indices { totals[k].advance(bars, i) }
        }
    }
}
