/// A map from symbol to value for the handful of symbols a job trades: a linear scan of short strings, which is several
/// times cheaper than hashing them, with a dictionary behind it once there are more than 16. The first entry is held
/// inline (most backtests and many jobs trade one symbol: such a table allocates nothing). Inlinable, so that each
/// module gets it specialised for its value type.
public struct SymbolTable<Value> {
    /// The first entry (nil: the table is empty; the arrays are then empty too).
    @usableFromInline var first: (key: Symbol, value: Value)?
    /// The other entries, in insertion order.
    @usableFromInline var keys: [Symbol] = []
    @usableFromInline var values: [Value] = []
    /// Positions in `keys` by symbol, once they are more than 16.
    @usableFromInline var index: [Symbol: Int]?

    @inlinable public init() {}

    @inlinable public subscript(symbol: Symbol) -> Value? {
        get {
            if let first, first.key == symbol { return first.value }
            guard let i = slot(of: symbol) else { return nil }
            return values[i]
        }
        set {
            if first?.key == symbol {
                if let newValue { first?.value = newValue } else { removeFirst() }
            } else if let i = slot(of: symbol) {
                if let newValue { values[i] = newValue } else { remove(at: i) }
            } else if let newValue {
                if first == nil {
                    first = (symbol, newValue)
                    return
                }
                keys.append(symbol)
                values.append(newValue)
                if index != nil { index?[symbol] = keys.count - 1 } else if keys.count > 16 { rebuildIndex() }
            }
        }
    }

    @inlinable func slot(of symbol: Symbol) -> Int? {
        if let index { return index[symbol] }
        var i = 0
        while i < keys.count {
            if keys[i] == symbol { return i }
            i += 1
        }
        return nil
    }

    /// Removes the inline entry; the oldest of the others takes its place.
    @usableFromInline mutating func removeFirst() {
        guard !keys.isEmpty else { first = nil; return }
        first = (keys[0], values[0])
        remove(at: 0)
    }

    @usableFromInline mutating func remove(at i: Int) {
        keys.remove(at: i)
        values.remove(at: i)
        if index != nil { rebuildIndex() }
    }

    @usableFromInline mutating func rebuildIndex() {
        guard keys.count > 16 else { index = nil; return }
        var built = [Symbol: Int](minimumCapacity: keys.count)
        for (i, key) in keys.enumerated() { built[key] = i }
        index = built
    }
}

extension SymbolTable: Sendable where Value: Sendable {}
