// TEMPORARY until the samplers branch lands.
import Settings
public enum SamplerMethod: String, Sendable, CaseIterable { case grid, random, tpe }
struct StubSampler: Sampler {
    let space: SearchSpace
    var i = 0
    mutating func propose(count: Int, history: [SampledTrial]) -> [[ConfigValue]] {
        guard let size = space.gridSize else { return [] }
        var out: [[ConfigValue]] = []
        while out.count < count, i < size { out.append(space.gridPoint(i)); i += 1 }
        return out
    }
}
public func makeSampler(_ method: SamplerMethod, space: SearchSpace, seed: UInt64, trials: Int) throws -> any Sampler { StubSampler(space: space) }
