import Foundation
import Strategy
import TradingDomain

/// Whether the job's window of candles is long enough for its recursive indicators (freqtrade's
/// `recursive-analysis`): each symbol's analysis at its last bar made, as the live job makes it, from the newest L
/// bars for several lengths L, against the same analysis made from the whole history. EMA, MACD, RSI, ATR and ADX are
/// recursive (each value depends on all earlier ones), so a short window shifts them; the check shows by how much.
public struct RecursiveCheck: Sendable {
    public var candles: [Symbol: [Candle]]
    public var parameters: AnalysisParameters
    /// The job's window (`market.lookback`): the length the verdict is about.
    public var lookback: Int
    /// Lengths to show besides it.
    public var lengths: [Int]
    /// Largest relative difference allowed at `lookback`.
    public var tolerance: Double

    public init(candles: [Symbol: [Candle]], parameters: AnalysisParameters, lookback: Int, lengths: [Int] = [100, 200, 500, 1000], tolerance: Double = 1e-6) {
        self.candles = candles
        self.parameters = parameters
        self.lookback = lookback
        self.lengths = lengths
        self.tolerance = tolerance
    }

    /// The readings compared.
    public static let names = ["ema_fast", "ema_slow", "macd_hist", "rsi", "bb_upper", "bb_lower", "atr", "adx", "volatility"]

    /// Each reading's relative difference of `s` from `reference`: against the reference value, or against a small
    /// floor when that is near zero (a millionth of the close for prices, 1e-4 for RSI and ADX, 1e-6 for volatility).
    static func differences(_ s: MarketSnapshot, from reference: MarketSnapshot) -> [Double] {
        let price = abs(reference.close) * 1e-6
        let pairs: [(Double, Double, Double)] = [
            (s.emaFast, reference.emaFast, price), (s.emaSlow, reference.emaSlow, price), (s.macdHistogram, reference.macdHistogram, price),
            (s.rsi, reference.rsi, 1e-4), (s.bollingerUpper, reference.bollingerUpper, price), (s.bollingerLower, reference.bollingerLower, price),
            (s.atr, reference.atr, price), (s.adx, reference.adx, 1e-4), (s.volatility, reference.volatility, 1e-6),
        ]
        return pairs.map { value, ref, floor in abs(value - ref) / max(abs(ref), floor) }
    }

    /// One symbol at one length: each reading's relative difference from the whole history's (nil: no analysis, too
    /// few bars).
    public struct Row: Sendable {
        public var symbol: Symbol
        public var length: Int
        public var differences: [Double]?
        public var worst: Double? { differences?.max() }
    }

    public struct Report: Sendable {
        public var names: [String]
        public var rows: [Row]
        public var lookback: Int
        public var tolerance: Double
        /// Every symbol's worst difference at the job's window within the tolerance.
        public var passed: Bool {
            let atLookback = rows.filter { $0.length == lookback }
            return !atLookback.isEmpty && atLookback.allSatisfy { ($0.worst ?? .infinity) <= tolerance }
        }
    }

    public func run() -> Report {
        var rows: [Row] = []
        for symbol in candles.keys.sorted() {
            guard let series = candles[symbol], let reference = SymbolAnalyzer.snapshot(candles: series, parameters: parameters) else { continue }
            // A window at least as long as the history is the whole history (no difference).
            for length in Set(lengths.filter { $0 > 0 && $0 < series.count } + [lookback]).sorted() {
                let differences = length >= series.count ? Self.names.map { _ in 0.0 }
                    : SymbolAnalyzer.snapshot(candles: Array(series.suffix(length)), parameters: parameters).map { Self.differences($0, from: reference) }
                rows.append(Row(symbol: symbol, length: length, differences: differences))
            }
        }
        return Report(names: Self.names, rows: rows, lookback: lookback, tolerance: tolerance)
    }
}
