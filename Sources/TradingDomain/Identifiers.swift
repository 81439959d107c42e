/// A run's id (the `runs` table's row id): which invocation of the cycle decided, ordered or filled something.
/// A type of its own so it cannot be mixed up with a position id, a time or a count.
public struct RunID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(integerLiteral value: Int64) { rawValue = value }
    public static func < (a: RunID, b: RunID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "\(rawValue)" }
}
