import Foundation
import Settings
import TradingDomain

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same numbers on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in 0..<bound (bound > 0), without modulo bias.
    public mutating func next(below bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }

    /// Standard normal (Box–Muller).
    public mutating func nextGaussian() -> Double {
        let u = max(nextDouble(), 0x1p-60), v = nextDouble()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// The search methods of `--method`.
public enum SamplerMethod: String, Sendable, CaseIterable {
    case grid, random, tpe
}

/// A search space that a method cannot search (message for the user).
public struct SamplerError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// The sampler of `method` for `space`; `trials` bounds a grid (a bigger grid is sampled, see `GridSampler`).
public func makeSampler(_ method: SamplerMethod, space: SearchSpace, seed: UInt64, trials: Int) throws(SamplerError) -> any Sampler {
    switch method {
    case .grid:
        if let open = space.dimensions.first(where: { if case .range(_, _, nil) = $0.domain { return true } else { return false } }) {
            throw SamplerError(message: "--method grid: \(open.path) is a range without a step; give [low, high, step] or use --method random or tpe")
        }
        return GridSampler(space: space, limit: trials, seed: seed)
    case .random: return RandomSampler(space: space, seed: seed)
    case .tpe: return TPESampler(space: space, seed: seed)
    }
}

/// Every point of the grid in order (the last key changing fastest); when the grid has more points than `limit`,
/// `limit` distinct points of it chosen at random (seeded), like backtesting.py's `max_tries`.
public struct GridSampler: Sampler {
    let space: SearchSpace
    /// The grid indexes still to propose, in order.
    private var order: [Int]
    private var next = 0

    public init(space: SearchSpace, limit: Int, seed: UInt64) {
        self.space = space
        let size = space.gridSize ?? 0
        if size <= limit {
            order = Array(0..<size)
        } else {
            // Floyd's algorithm: `limit` distinct indexes, then in the order drawn.
            var random = SeededRandom(seed: seed)
            var chosen = Set<Int>(), drawn: [Int] = []
            for j in (size - limit)..<size {
                let t = random.next(below: j + 1)
                let pick = chosen.contains(t) ? j : t
                chosen.insert(pick)
                drawn.append(pick)
            }
            order = drawn
        }
    }

    public mutating func propose(count: Int, history: [SampledTrial]) -> [[ConfigValue]] {
        let end = min(order.count, next + max(count, 0))
        defer { next = end }
        return order[next..<end].map { space.gridPoint($0) }
    }
}

/// Independent uniform draws: a stepped range or a list of choices uniform over its values, a range without a step
/// uniform over the interval (rounded to 8 decimals; integer keys to whole numbers).
public struct RandomSampler: Sampler {
    let space: SearchSpace
    var random: SeededRandom

    public init(space: SearchSpace, seed: UInt64) {
        self.space = space
        random = SeededRandom(seed: seed)
    }

    public mutating func propose(count: Int, history: [SampledTrial]) -> [[ConfigValue]] {
        (0..<max(count, 0)).map { _ in space.dimensions.indices.map { SearchAxis(space, $0).value(at: random.nextDouble()) } }
    }
}

/// One dimension seen as the unit interval (numbers) or a list (choices), as the samplers draw it.
struct SearchAxis {
    let space: SearchSpace
    let index: Int
    init(_ space: SearchSpace, _ index: Int) {
        self.space = space
        self.index = index
    }

    /// The number of distinct values (nil: a continuous range).
    var count: Int? {
        switch space.dimensions[index].domain {
        case let .choices(values): return values.count
        case let .range(low, high, step?): return SearchSpace.stepCount(low: low, high: high, step: step) ?? 1
        case .range(_, _, nil): return nil
        }
    }

    /// The value at `u` ∈ [0, 1): choices and stepped ranges split it into equal parts, a continuous range maps it
    /// linearly (rounded to 8 decimals).
    func value(at u: Double) -> ConfigValue {
        switch space.dimensions[index].domain {
        case let .choices(values):
            return values[min(values.count - 1, Int(u * Double(values.count)))]
        case let .range(low, high, step):
            if let step, let n = count {
                let k = min(n - 1, Int(u * Double(n)))
                return space.value(Fixed(raw: low.raw + Int64(k) * step.raw), dimension: index)
            }
            let raw = Double(low.raw) + u * (Double(high.raw) - Double(low.raw))
            return space.value(Fixed(raw: Int64(min(max(raw.rounded(), Double(low.raw)), Double(high.raw)))), dimension: index)
        }
    }

    /// Where `value` sits in [0, 1] (the middle of its part for choices and stepped ranges); nil when it is not a
    /// value of this axis.
    func position(of value: ConfigValue) -> Double? {
        switch space.dimensions[index].domain {
        case let .choices(values):
            return values.firstIndex(of: value).map { (Double($0) + 0.5) / Double(values.count) }
        case let .range(low, high, step):
            guard let x = Self.number(value) else { return nil }
            if let step, let n = count {
                let k = ((x - low.double) / step.double).rounded()
                return (min(max(k, 0), Double(n - 1)) + 0.5) / Double(n)
            }
            let span = high.double - low.double
            return span > 0 ? min(max((x - low.double) / span, 0), 1) : 0.5
        }
    }

    static func number(_ value: ConfigValue) -> Double? {
        switch value {
        case let .int(v): return Double(v)
        case let .double(v): return v
        case let .decimal(v): return v.double
        default: return nil
        }
    }
}
