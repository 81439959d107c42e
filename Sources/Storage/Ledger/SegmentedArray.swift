/// A list that grows by whole segments of 1,024 elements, for the ledger in memory's rows: appending never moves what
/// is stored. (An `Array` copies everything into fresh memory at each doubling; in a long backtest the page faults and
/// copies of the order, position and paper-order rows cost more than the appends themselves.)
struct SegmentedArray<Element>: RandomAccessCollection, MutableCollection {
    private static var segmentBits: Int { 10 }
    private static var segmentMask: Int { (1 << segmentBits) - 1 }
    private var segments: [[Element]] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        // (Out of range traps in the segments' own bounds checks, as an `Array` would.)
        get { segments[position >> Self.segmentBits][position & Self.segmentMask] }
        _modify { yield &segments[position >> Self.segmentBits][position & Self.segmentMask] }
    }

    mutating func append(_ element: Element) {
        if count & Self.segmentMask == 0 {
            var segment: [Element] = []
            segment.reserveCapacity(Self.segmentMask + 1)
            segments.append(segment)
        }
        segments[count >> Self.segmentBits].append(element)
        count += 1
    }
}
