/// Binary search over a collection sorted so that `isBefore` holds for a prefix and fails for the rest.
extension RandomAccessCollection where Index == Int {
    /// The first index where `isBefore` is false (`endIndex` when it holds everywhere).
    @inlinable
    public func partitionPoint(where isBefore: (Element) -> Bool) -> Int {
        var lo = startIndex, hi = endIndex
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if isBefore(self[mid]) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension RandomAccessCollection where Index == Int {
    /// The first index whose `key` is at least `t`, the keys ascending (open times, for instance): read where even
    /// spacing of the first two keys puts it when the keys around that index confirm it (one or two reads instead of
    /// a search through a long history, most of it out of the cache), else found by `partitionPoint`.
    @inlinable
    public func lowerBound(of t: Int64, key: (Element) -> Int64) -> Int {
        let n = count
        if n > 1 {
            let first = key(self[startIndex])
            if t <= first { return startIndex }
            let (step, stepOverflow) = key(self[startIndex + 1]).subtractingReportingOverflow(first)
            let (offset, overflow) = t.subtractingReportingOverflow(first)
            if step > 0, !stepOverflow, !overflow {
                let guess = Int(offset / step) + (offset % step == 0 ? 0 : 1)  // the first multiple of the step at or after t
                if guess < n, guess > 0, key(self[startIndex + guess]) >= t, key(self[startIndex + guess - 1]) < t { return startIndex + guess }
                if guess >= n, key(self[endIndex - 1]) < t { return endIndex }
            }
        }
        return partitionPoint { key($0) < t }
    }

    /// The first index whose `key` is above `t` (`lowerBound(of: t + 1)`).
    @inlinable
    public func upperBound(of t: Int64, key: (Element) -> Int64) -> Int {
        t == .max ? endIndex : lowerBound(of: t + 1, key: key)
    }
}
