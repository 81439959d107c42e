import Foundation
import TradingDomain

/// sma-cross's readings at every bar of each symbol's history, computed once (a backtest's idle cycles compute them
/// anyway): the crossing (`SMACrossStrategy.crossings`) and the realised volatility of the window that ends at the bar.
/// `SMACrossStrategy.read` takes them from here when a window is one of these — the last `lookback` candles of the
/// series up to its newest, checked by its length and its first and last open times — instead of summing the SMAs and
/// the log returns again; it reads the window itself otherwise. Only for plain signals (`detailed` false: the audit
/// trail's SMA figures are not kept).
public final class SMACrossColumns: SnapshotProvider, @unchecked Sendable {
    /// One symbol's history and its columns (empty columns: not available, the window is read).
    public struct Column: Sendable {
        public let candles: [Candle]
        public let crossings: [SMACrossStrategy.Crossing?]
        public let volatility: [Double]
        public init(candles: [Candle], crossings: [SMACrossStrategy.Crossing?], volatility: [Double]) {
            self.candles = candles
            self.crossings = crossings
            self.volatility = volatility
        }
    }

    let columns: SymbolTable<Column>
    /// The window the columns were computed for (`lookback` candles).
    let lookback: Int

    public init(columns: [Symbol: Column], lookback: Int) {
        var table = SymbolTable<Column>()
        for (symbol, column) in columns.sorted(by: { $0.key < $1.key }) { table[symbol] = column }
        self.columns = table
        self.lookback = lookback
    }

    /// None: sma-cross reads no indicator snapshot.
    public func snapshot(symbol: Symbol, candles: ArraySlice<Candle>, parameters: AnalysisParameters) -> MarketSnapshot? { nil }

    public var smaCrossColumns: SMACrossColumns? { self }

    /// The crossing and the volatility at the newest candle of `window` when `window` is the last `lookback` candles
    /// (or all of them, early in the history) of the stored series up to that candle; nil when it is not or when the
    /// columns are empty.
    public func reading(symbol: Symbol, window: ArraySlice<Candle>) -> (crossing: SMACrossStrategy.Crossing?, volatility: Double)? {
        guard let column = columns[symbol], !column.crossings.isEmpty, !column.volatility.isEmpty,
              let first = window.first, let last = window.last else { return nil }
        let candles = column.candles
        let end = candles.upperBound(of: last.openTime) { $0.openTime }
        guard end > 0, candles[end - 1].openTime == last.openTime, window.count == min(lookback, end),
              candles[end - window.count].openTime == first.openTime, end - 1 < column.crossings.count, end - 1 < column.volatility.count
        else { return nil }
        return (column.crossings[end - 1], column.volatility[end - 1])
    }
}
