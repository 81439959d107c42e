/// A map from symbol to value for the handful of symbols a job trades: a linear scan of short strings, which is several
/// times cheaper than hashing them, with a dictionary behind it once there are more than 16. Inlinable, so that each
/// module gets it specialised for its value type.
public struct SymbolTable<Value> {
    @usableFromInline var keys: [Symbol] = []
    @usableFromInline var values: [Value] = []
    @usableFromInline var index: [Symbol: Int]?

    @inlinable public init() {}

    @inlinable public subscript(symbol: Symbol) -> Value? {
        get {
            guard let i = slot(of: symbol) else { return nil }
            return values[i]
        }
        set {
            if let i = slot(of: symbol) {
                if let newValue { values[i] = newValue } else { remove(at: i) }
            } else if let newValue {
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
