/// A run's id (the `runs` table's row id): which invocation of the cycle decided, ordered or filled something.
/// A type of its own so it cannot be mixed up with a position id, a time or a count.
public struct RunID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { rawValue = value }
    public static func < (a: RunID, b: RunID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}

/// A market's name as the venue and the configuration spell it (`BTCUSDT`, `SPY`). A type of its own so that a symbol
/// cannot be mixed up with an asset, an order id or any other text. Text from outside is checked where it enters (the
/// configuration's `market.symbols`, a CSV's name, the venue's reply) before it becomes a `Symbol`.
public struct Symbol: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public static func < (a: Symbol, b: Symbol) -> Bool { a.rawValue < b.rawValue }
    public var description: String { rawValue }

    /// Whether the symbol starts with `asset` (a Binance symbol is its base asset followed by its quote asset).
    public func starts(withAsset asset: String) -> Bool { rawValue.hasPrefix(asset) }

    /// The base asset when the symbol is a base asset followed by `quote` (`BTCUSDT` quoted in `USDT`: `BTC`); nil
    /// when it does not end with `quote`.
    public func baseAsset(quotedIn quote: String) -> String? {
        // ASCII names (every venue's) compared byte by byte: each byte is a character of its own, but for a carriage
        // return (CR LF is one character); anything else as Unicode text. The bytes are read in place.
        enum Cut { case plain(String?), unicode }
        var name = rawValue, suffix = quote
        let cut = name.withUTF8 { n in
            suffix.withUTF8 { q -> Cut in
                func plain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
                    for byte in bytes where byte >= 0x80 || byte == 0x0D { return false }
                    return true
                }
                guard plain(n), plain(q) else { return .unicode }
                guard n.count >= q.count, n[(n.count - q.count)...].elementsEqual(q) else { return .plain(nil) }
                return .plain(String(decoding: UnsafeBufferPointer(rebasing: n[..<(n.count - q.count)]), as: UTF8.self))
            }
        }
        switch cut {
        case let .plain(base): return base
        case .unicode: return rawValue.hasSuffix(quote) ? String(rawValue.dropLast(quote.count)) : nil
        }
    }
}

/// A venue's id for one trade (one fill): Binance's numeric `id`, or the paper broker's `paper-<client order id>`.
/// Unique per symbol, which is how fills are deduplicated.
public struct TradeID: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }
}
