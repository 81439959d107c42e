import Foundation

/// A closed OHLCV bar. Market observations are analytics inputs and are kept as `Double`;
/// a price becomes fixed point (`Price(marketData:)`) only where an order or a fill uses it (see FixedPoint.swift).
public struct Candle: Sendable, Equatable, Codable {
    /// Open time of the bar, milliseconds since 1970-01-01 UTC.
    public var openTime: Int64
    public var open: Double
    public var high: Double
    public var low: Double
    public var close: Double
    public var volume: Double

    public init(openTime: Int64, open: Double, high: Double, low: Double, close: Double, volume: Double) {
        self.openTime = openTime
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }

    /// Close time (exclusive) of the bar for the given timeframe.
    public func closeTime(_ timeframe: Timeframe) -> Int64 { openTime + timeframe.milliseconds }
}

/// A bar length such as `15m`, `1h`, `4h` or `1d` (Binance's interval names).
public struct Timeframe: Sendable, Hashable, Codable, CustomStringConvertible {
    public let seconds: Int64
    public let name: String

    /// Timeframes tradejob understands, Binance's spellings.
    public static let supported: [String: Int64] = [
        "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200,
        "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200, "1d": 86400,
    ]

    public init?(_ name: String) {
        guard let seconds = Timeframe.supported[name] else { return nil }
        self.name = name
        self.seconds = seconds
    }

    /// Whether every bar's open time is a multiple of `step` (> 0): a bar `step` after one that is, is one too, so
    /// only the others are divided.
    public static func opensOnMultiples(_ bars: [Candle], of step: Int64) -> Bool {
        bars.withUnsafeBufferPointer { b in
            guard let first = b.first, first.openTime % step == 0 else { return b.isEmpty }
            for i in 1..<b.count {
                let t = b[i].openTime, (expected, overflow) = b[i - 1].openTime.addingReportingOverflow(step)
                // The bar before is a multiple, and so is t = previous + step.
                if (overflow || t != expected) && t % step != 0 { return false }
            }
            return true
        }
    }


    public var milliseconds: Int64 { seconds * 1000 }
    public var description: String { name }

    /// Open time of the bar that contains `epochMs`.
    public func barOpen(containing epochMs: Int64) -> Int64 {
        let ms = milliseconds
        return epochMs >= 0 ? (epochMs / ms) * ms : ((epochMs - ms + 1) / ms) * ms
    }

    /// Open time of the newest bar that is closed at `epochMs` (its close time is <= now).
    public func lastClosedBarOpen(at epochMs: Int64) -> Int64 { barOpen(containing: epochMs) - milliseconds }

    /// Bars per year, for annualising volatility.
    public var barsPerYear: Double { 365.0 * 86400.0 / Double(seconds) }
}
