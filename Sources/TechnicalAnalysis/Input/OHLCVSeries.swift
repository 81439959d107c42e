import Foundation
import TradingDomain

/// OHLCV bars as parallel arrays (struct of arrays); times in milliseconds since 1970 UTC.
public struct OHLCVSeries: Sendable, Equatable {
    public var time: [Int64] = []
    public var open: [Double] = []
    public var high: [Double] = []
    public var low: [Double] = []
    public var close: [Double] = []
    public var volume: [Double] = []

    public init() {}
    public var count: Int { close.count }
}
