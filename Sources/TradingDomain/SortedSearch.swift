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
