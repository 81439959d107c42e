import Foundation
import Settings

/// One finished trial as a sampler sees it: the point it tried and its score (higher is better; nil when the trial
/// was rejected, e.g. fewer trades than `--min-trades`).
public struct SampledTrial: Sendable, Equatable {
    public var point: [ConfigValue]
    public var score: Double?
    public init(point: [ConfigValue], score: Double?) {
        self.point = point
        self.score = score
    }
}

/// Proposes points of a search space, one value per dimension in the space's order. The optimiser asks for batches of a
/// fixed size whatever the number of jobs, and gives each batch the trials of all earlier batches, so the trials are
/// the same for any `--jobs`.
public protocol Sampler {
    /// Up to `count` new points (fewer, or none, when the sampler has no more: a finished grid).
    mutating func propose(count: Int, history: [SampledTrial]) -> [[ConfigValue]]
}
