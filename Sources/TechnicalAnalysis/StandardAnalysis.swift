/// The standard set of indicator calls and patterns: the columns of TA-Lib's golden file
/// (`../shared/reference/talib/SPY_1d.golden.csv`), in its order and with its names. `tradejob analyze`
/// prints them, the golden tests compare them and `tradejob-bench ta` times them call by call.
public enum StandardAnalysis {
    /// One indicator call: the column names of its outputs (in TA-Lib's order) and the computation.
    public struct IndicatorCall: Sendable {
        public let outputs: [String]
        public let compute: @Sendable (OHLCVSeries) -> [[Double]]
    }

    /// The indicator calls that TA-Lib's golden file makes (`logret_std_20` last: it is not a TA-Lib function).
    public static let indicatorCalls: [IndicatorCall] = [
        IndicatorCall(outputs: ["sma_20"]) { [Indicators.sma($0.close, period: 20)] },
        IndicatorCall(outputs: ["ema_20"]) { [Indicators.ema($0.close, period: 20)] },
        IndicatorCall(outputs: ["wma_20"]) { [Indicators.wma($0.close, period: 20)] },
        IndicatorCall(outputs: ["rsi_14"]) { [Indicators.rsi($0.close, period: 14)] },
        IndicatorCall(outputs: ["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]) {
            let m = Indicators.macd($0.close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9)
            return [m.macd, m.signal, m.histogram]
        },
        IndicatorCall(outputs: ["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"]) {
            let b = Indicators.bollingerBands($0.close, period: 20, deviationsUp: 2, deviationsDown: 2)
            return [b.upper, b.middle, b.lower]
        },
        IndicatorCall(outputs: ["stddev_20"]) { [Indicators.stddev($0.close, period: 20)] },
        IndicatorCall(outputs: ["trange"]) { [Indicators.trueRange(high: $0.high, low: $0.low, close: $0.close)] },
        IndicatorCall(outputs: ["atr_14"]) { [Indicators.atr(high: $0.high, low: $0.low, close: $0.close, period: 14)] },
        IndicatorCall(outputs: ["natr_14"]) { [Indicators.natr(high: $0.high, low: $0.low, close: $0.close, period: 14)] },
        IndicatorCall(outputs: ["plus_di_14"]) { [Indicators.plusDI(high: $0.high, low: $0.low, close: $0.close, period: 14)] },
        IndicatorCall(outputs: ["minus_di_14"]) { [Indicators.minusDI(high: $0.high, low: $0.low, close: $0.close, period: 14)] },
        IndicatorCall(outputs: ["adx_14"]) { [Indicators.adx(high: $0.high, low: $0.low, close: $0.close, period: 14)] },
        IndicatorCall(outputs: ["stoch_k_14_3_3", "stoch_d_14_3_3"]) {
            let s = Indicators.stochastic(high: $0.high, low: $0.low, close: $0.close, fastK: 14, slowK: 3, slowD: 3)
            return [s.k, s.d]
        },
        IndicatorCall(outputs: ["cci_20"]) { [Indicators.cci(high: $0.high, low: $0.low, close: $0.close, period: 20)] },
        IndicatorCall(outputs: ["willr_14"]) { [Indicators.williamsR(high: $0.high, low: $0.low, close: $0.close, period: 14)] },
        IndicatorCall(outputs: ["mfi_14"]) { [Indicators.mfi(high: $0.high, low: $0.low, close: $0.close, volume: $0.volume, period: 14)] },
        IndicatorCall(outputs: ["obv"]) { [Indicators.obv(close: $0.close, volume: $0.volume)] },
        IndicatorCall(outputs: ["roc_10"]) { [Indicators.roc($0.close, period: 10)] },
        IndicatorCall(outputs: ["mom_10"]) { [Indicators.momentum($0.close, period: 10)] },
        IndicatorCall(outputs: ["logret_std_20"]) { [Indicators.logReturnStd($0.close, period: 20)] },
    ]

    /// Every column after `time`: the indicator outputs, then the 61 patterns.
    public static var columnNames: [String] {
        indicatorCalls.flatMap(\.outputs) + CandlestickPattern.allCases.map(\.rawValue)
    }

    /// The computed columns for a series.
    public struct Table: Sendable {
        public var indicators: [(name: String, values: [Double])]
        public var patterns: [(name: String, values: [Int32])]
    }

    /// Computes every column for `series`.
    public static func compute(_ series: OHLCVSeries) -> Table {
        let bars = PatternBars(open: series.open, high: series.high, low: series.low, close: series.close)
        var indicators: [(name: String, values: [Double])] = []
        for call in indicatorCalls {
            indicators += zip(call.outputs, call.compute(series)).map { ($0, $1) }
        }
        let patterns = CandlestickPattern.allCases.map { ($0.rawValue, $0.compute(bars)) }
        return Table(indicators: indicators, patterns: patterns)
    }
}
