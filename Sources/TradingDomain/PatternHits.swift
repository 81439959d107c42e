/// The candlestick patterns that fired on one candle: TA-Lib column name → value (±100, ±200), kept as a short list
/// sorted by name. A candle has a handful at most, so a list is cheaper to build and read than a dictionary (the cycle
/// makes one per symbol per run); it encodes as the same JSON object.
public struct PatternHits: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral, Codable, CustomStringConvertible {
    public typealias Element = (name: String, value: Int)
    private var hits: [Element]

    /// From hits already sorted by name, each name once (the callers' own order: TA-Lib column names).
    public init(sortedHits: [Element]) {
        assert(zip(sortedHits, sortedHits.dropFirst()).allSatisfy { $0.name < $1.name }, "PatternHits: names must ascend, each once")
        hits = sortedHits
    }

    public init(_ values: [String: Int]) {
        hits = values.map { (name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
    }

    public init(dictionaryLiteral elements: (String, Int)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// Whether no pattern fired.
    public var isEmpty: Bool { hits.isEmpty }

    /// The values, in name order.
    public var values: LazyMapSequence<[Element], Int> { hits.lazy.map(\.value) }
    public var dictionary: [String: Int] { Dictionary(hits.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }) }
    public func makeIterator() -> IndexingIterator<[Element]> { hits.makeIterator() }

    public static func == (a: PatternHits, b: PatternHits) -> Bool {
        a.hits.count == b.hits.count && zip(a.hits, b.hits).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func encode(to encoder: any Encoder) throws { try dictionary.encode(to: encoder) }
    public init(from decoder: any Decoder) throws { self.init(try [String: Int](from: decoder)) }
    public var description: String { dictionary.description }
}
