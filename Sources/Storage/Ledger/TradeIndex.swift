import TradingDomain

/// The trades a ledger in memory has booked, by symbol and venue trade id: a set that answers "new?" on insertion.
/// An open-addressing table (linear probing) keyed by the trade id's FNV-1a fingerprint, spread by a Fibonacci
/// multiply. Each place holds the fingerprint's top 24 bits beside the key's index, so that a probe reads one word and
/// only a matching tag reads the key: a booking costs a fingerprint and one cache line, where `Set` seeded a `Hasher`,
/// hashed and then read the stored keys (the largest single cost of booking a fill in a backtest).
struct TradeIndex {
    private var keys: [(fingerprint: UInt64, symbol: Symbol, tradeID: TradeID)] = []
    /// Per place: 0 when empty, else the tag (top 24 bits of the fingerprint) above the key's index + 1 (40 bits,
    /// more keys than any memory holds). The count is a power of two, at least twice the keys'.
    private var table = [UInt64](repeating: 0, count: 64)
    private var shift: UInt64 = 64 - 6
    private static let indexBits: UInt64 = 40, indexMask: UInt64 = (1 << 40) - 1

    var count: Int { keys.count }

    /// Adds the trade; false when it was already there.
    mutating func insert(symbol: Symbol, tradeID: TradeID) -> Bool {
        let fingerprint = Self.fingerprint(tradeID), tag = fingerprint >> Self.indexBits
        var place = Self.place(fingerprint, shift: shift), mask = table.count - 1
        while case let entry = table[place], entry != 0 {
            if entry >> Self.indexBits == tag {
                let key = keys[Int(entry & Self.indexMask) - 1]
                if key.fingerprint == fingerprint, key.tradeID == tradeID, key.symbol == symbol { return false }
            }
            place = (place + 1) & mask
        }
        keys.append((fingerprint, symbol, tradeID))
        table[place] = tag << Self.indexBits | UInt64(keys.count)
        if keys.count * 2 > table.count {
            // Twice the places, every key placed again from its fingerprint.
            table = [UInt64](repeating: 0, count: table.count * 2)
            shift -= 1
            mask = table.count - 1
            for (k, key) in keys.enumerated() {
                var p = Self.place(key.fingerprint, shift: shift)
                while table[p] != 0 { p = (p + 1) & mask }
                table[p] = (key.fingerprint >> Self.indexBits) << Self.indexBits | UInt64(k + 1)
            }
        }
        return true
    }

    /// FNV-1a (64 bits) of the trade id's UTF-8 bytes.
    static func fingerprint(_ tradeID: TradeID) -> UInt64 {
        // A native string's bytes are read in place (an iterator costs about 25 instructions a byte).
        tradeID.rawValue.utf8.withContiguousStorageIfAvailable(fingerprint) ?? fingerprint(Array(tradeID.rawValue.utf8))
    }

    private static func fingerprint<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// The first place to probe: the top bits of the fingerprint times 2^64 / φ (FNV's low bits alone vary little
    /// between ids that differ in their last characters).
    @inline(__always)
    static func place(_ fingerprint: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (fingerprint &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
}
