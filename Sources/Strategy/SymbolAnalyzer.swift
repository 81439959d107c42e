import Foundation
import TechnicalAnalysis
import TradingDomain

/// Indicator periods for the analysis (`analysis.*`, `volatility.window`).
public struct AnalysisParameters: Sendable, Equatable {
    public var emaFast, emaSlow, rsiPeriod, atrPeriod, bollingerPeriod: Int
    public var bollingerK: Double
    public var adxPeriod, pivotWindow, volatilityWindow: Int
    public var barsPerYear: Double

    public init(emaFast: Int = 20, emaSlow: Int = 50, rsiPeriod: Int = 14, atrPeriod: Int = 14, bollingerPeriod: Int = 20, bollingerK: Double = 2,
                adxPeriod: Int = 14, pivotWindow: Int = 3, volatilityWindow: Int = 20, barsPerYear: Double = 35_040) {
        self.emaFast = emaFast
        self.emaSlow = emaSlow
        self.rsiPeriod = rsiPeriod
        self.atrPeriod = atrPeriod
        self.bollingerPeriod = bollingerPeriod
        self.bollingerK = bollingerK
        self.adxPeriod = adxPeriod
        self.pivotWindow = pivotWindow
        self.volatilityWindow = volatilityWindow
        self.barsPerYear = barsPerYear
    }
}

/// Indicators → candlestick patterns → chart structure for one symbol's closed candles, read at the newest candle.
public enum SymbolAnalyzer {
    /// The open, high, low and close columns of `candles`.
    static func columns(_ candles: [Candle]) -> (open: [Double], high: [Double], low: [Double], close: [Double]) {
        var open = [Double](repeating: 0, count: candles.count), high = open, low = open, close = open
        for (i, c) in candles.enumerated() {
            open[i] = c.open
            high[i] = c.high
            low[i] = c.low
            close[i] = c.close
        }
        return (open, high, low, close)
    }

    /// The snapshot at the last candle, or nil when there are too few candles for the slowest indicator.
    public static func snapshot(candles: [Candle], parameters p: AnalysisParameters) -> MarketSnapshot? {
        let n = candles.count
        guard n > max(p.emaSlow, 35, p.bollingerPeriod, 2 * p.adxPeriod, p.volatilityWindow + 1) else { return nil }
        let (open, high, low, close) = columns(candles)
        return snapshot(open: open, high: high, low: low, close: close, times: candles.map(\.openTime), at: n - 1, parameters: p)
    }

    /// The snapshot at index `i` of full series (only values up to `i` are used: indicators are causal).
    public static func snapshot(open: [Double], high: [Double], low: [Double], close: [Double], times: [Int64], at i: Int,
                                parameters p: AnalysisParameters) -> MarketSnapshot? {
        let emaFast = Indicators.ema(close, period: p.emaFast)
        let emaSlow = Indicators.ema(close, period: p.emaSlow)
        let rsi = Indicators.rsi(close, period: p.rsiPeriod)
        let macd = Indicators.macd(close, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9)
        let bands = Indicators.bollingerBands(close, period: p.bollingerPeriod, deviationsUp: p.bollingerK, deviationsDown: p.bollingerK)
        let atr = Indicators.atr(high: high, low: low, close: close, period: p.atrPeriod)
        let adx = Indicators.adx(high: high, low: low, close: close, period: p.adxPeriod)
        let values = [emaFast[i], emaSlow[i], rsi[i], macd.histogram[i], bands.upper[i], bands.middle[i], bands.lower[i], atr[i], adx[i]]
        guard values.allSatisfy({ $0.isFinite }) else { return nil }

        // Candlestick patterns that fired on the last candle (patterns look back at most a dozen bars).
        let from = max(0, i - 40)
        let bars = PatternBars(open: Array(open[from...i]), high: Array(high[from...i]), low: Array(low[from...i]), close: Array(close[from...i]))
        var patterns: [String: Int] = [:]
        var out = [Int32](repeating: 0, count: bars.count)
        for pattern in CandlestickPattern.allCases {
            for k in out.indices { out[k] = 0 }
            pattern.compute(bars, into: &out)
            if let value = out.last, value != 0 { patterns[pattern.rawValue] = Int(value) }
        }

        // The series up to `i` (the series themselves when `i` is their last bar, as in the job: no copies).
        func upTo(_ series: [Double]) -> [Double] { i == series.count - 1 ? series : Array(series[0...i]) }
        let structure = ChartStructure.summary(high: upTo(high), low: upTo(low), close: upTo(close),
                                               adx: adx[i], emaSlope: emaFast[i] - emaFast[max(0, i - 5)], atr: atr[i], pivotWindow: p.pivotWindow)
        let volatility = realizedVolatility(close, upTo: i, window: p.volatilityWindow, barsPerYear: p.barsPerYear)
        return MarketSnapshot(candleTime: times[i], close: close[i], emaFast: emaFast[i], emaSlow: emaSlow[i], rsi: rsi[i],
                              macdHistogram: macd.histogram[i], bollingerUpper: bands.upper[i], bollingerMiddle: bands.middle[i],
                              bollingerLower: bands.lower[i], atr: atr[i], adx: adx[i], volatility: volatility,
                              patterns: PatternHits(patterns), breakout: structure.breakout, regime: structure.regime)
    }

    /// `realizedVolatility` at every bar, each log return computed once (the same sums in the same order).
    static func realizedVolatilities(_ close: [Double], window: Int, barsPerYear: Double) -> [Double] {
        let n = close.count
        var result = [Double](repeating: .nan, count: n)
        guard window >= 2, n > window else { return result }
        var returns = [Double](repeating: 0, count: n)
        for k in 1..<n { returns[k] = log(close[k] / close[k - 1]) }
        let count = Double(window), scale = sqrt(barsPerYear)
        @inline(__always) func volatility(sum: Double, sumSq: Double) -> Double {
            let variance = max(0, (sumSq - sum * sum / count) / (count - 1))
            return sqrt(variance) * scale
        }
        returns.withUnsafeBufferPointer { r in
            result.withUnsafeMutableBufferPointer { out in
                guard let base = r.baseAddress else { return }
                // Four bars at a time, in SIMD lanes: each lane sums its own bar's window in the same order as alone.
                var i = window
                while i + 4 <= n {
                    var sum = SIMD4<Double>(), sumSq = SIMD4<Double>()
                    for k in (i - window + 1)...i {
                        let x = UnsafeRawPointer(base + k).loadUnaligned(as: SIMD4<Double>.self)
                        sum += x
                        sumSq += x * x
                    }
                    for lane in 0..<4 { out[i + lane] = volatility(sum: sum[lane], sumSq: sumSq[lane]) }
                    i += 4
                }
                while i < n {
                    var sum = 0.0, sumSq = 0.0
                    for k in (i - window + 1)...i {
                        sum += r[k]
                        sumSq += r[k] * r[k]
                    }
                    out[i] = volatility(sum: sum, sumSq: sumSq)
                    i += 1
                }
            }
        }
        return result
    }

    static func realizedVolatility(_ close: [Double], upTo i: Int, window: Int, barsPerYear: Double) -> Double {
        guard i >= window, window >= 2 else { return .nan }
        var sum = 0.0, sumSq = 0.0
        for k in (i - window + 1)...i {
            let r = log(close[k] / close[k - 1])
            sum += r
            sumSq += r * r
        }
        let n = Double(window)
        let variance = max(0, (sumSq - sum * sum / n) / (n - 1))
        return sqrt(variance) * sqrt(barsPerYear)
    }
}
