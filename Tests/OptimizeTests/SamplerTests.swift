import Foundation
import Testing
import Settings
import TradingDomain
@testable import Optimize

@Suite("Samplers: grid, random and TPE, seeded")
struct SamplerTests {
    static let space = SearchSpace(dimensions: [
        .init(path: "strategy.min_confidence", domain: .range(low: 0, high: 1, step: nil)),
        .init(path: "risk.stop_loss_atr", domain: .range(low: 1, high: 10, step: Fixed("0.5"))),
        .init(path: "risk.max_open_positions", domain: .range(low: 1, high: 8, step: 1)),
        .init(path: "risk.trailing_stop", domain: .choices([.bool(true), .bool(false)])),
    ])

    /// A toy objective with its best at min_confidence 0.3, stop 7, 5 positions, trailing on.
    static func score(_ p: [ConfigValue]) -> Double {
        guard case let .double(x) = p[0], case let .double(y) = p[1], case let .int(n) = p[2], case let .bool(t) = p[3] else { return -.infinity }
        return -(x - 0.3) * (x - 0.3) * 10 - (y - 7) * (y - 7) / 10 - Double((n - 5) * (n - 5)) / 10 - (t ? 0 : 0.5)
    }

    /// Runs `sampler` for `trials` in batches of `batch`, scoring with the toy objective; the trials in order.
    static func run(_ sampler: inout any Sampler, trials: Int, batch: Int = 8) -> [SampledTrial] {
        var history: [SampledTrial] = []
        while history.count < trials {
            let points = sampler.propose(count: min(batch, trials - history.count), history: history)
            if points.isEmpty { break }
            history += points.map { SampledTrial(point: $0, score: score($0)) }
        }
        return history
    }

    /// Whether every value of `point` is a value of its dimension (on the grid for stepped ranges).
    static func inside(_ point: [ConfigValue], _ space: SearchSpace) -> Bool {
        zip(space.dimensions, point).allSatisfy { d, v in
            switch d.domain {
            case let .choices(values): return values.contains(v)
            case let .range(low, high, step):
                let x: Double
                switch v {
                case let .int(i): x = Double(i)
                case let .double(f): x = f
                case let .decimal(f): x = f.double
                default: return false
                }
                guard x >= low.double - 1e-12, x <= high.double + 1e-12 else { return false }
                guard let step else { return true }
                let k = (x - low.double) / step.double
                return abs(k - k.rounded()) < 1e-9
            }
        }
    }

    @Test func theGridGivesEveryPointOnceInOrderOrASeededSubset() throws {
        let space = SearchSpace(dimensions: [
            .init(path: "risk.stop_loss_atr", domain: .range(low: 1, high: 3, step: Fixed("0.5"))),
            .init(path: "risk.trailing_stop", domain: .choices([.bool(true), .bool(false)])),
        ])
        var all = try makeSampler(.grid, space: space, seed: 1, trials: 100)
        let points = Self.run(&all, trials: 100).map(\.point)
        #expect(points.count == 10)
        #expect(points == (0..<10).map(space.gridPoint))
        var a = try makeSampler(.grid, space: space, seed: 5, trials: 4), b = try makeSampler(.grid, space: space, seed: 5, trials: 4)
        let subset = Self.run(&a, trials: 100).map(\.point)
        #expect(subset.count == 4 && Set(subset.map { "\($0)" }).count == 4, "4 distinct grid points")
        #expect(subset == Self.run(&b, trials: 100).map(\.point), "seeded")
        #expect(throws: SamplerError.self) { try makeSampler(.grid, space: Self.space, seed: 1, trials: 10) }
    }

    @Test(arguments: [SamplerMethod.random, .tpe])
    func pointsAreDeterministicForASeedDifferAcrossSeedsAndStayInsideTheSpace(_ method: SamplerMethod) throws {
        var a = try makeSampler(method, space: Self.space, seed: 42, trials: 60)
        var b = try makeSampler(method, space: Self.space, seed: 42, trials: 60)
        var c = try makeSampler(method, space: Self.space, seed: 43, trials: 60)
        let first = Self.run(&a, trials: 60), again = Self.run(&b, trials: 60), other = Self.run(&c, trials: 60)
        #expect(first == again)
        #expect(first != other)
        for trial in first { #expect(Self.inside(trial.point, Self.space), "\(trial.point)") }
        // Values valid for their keys: a configuration made of them loads.
        for trial in first.prefix(10) {
            let overrides = Dictionary(uniqueKeysWithValues: zip(Self.space.dimensions.map(\.path), trial.point))
            let base = try ConfigLoader.resolve(data: Data("{}".utf8), file: "(defaults)", environment: [:])
            _ = try base.overriding(overrides, source: "test")
        }
    }

    @Test func aBatchHoldsDistinctPoints() throws {
        let small = SearchSpace(dimensions: [.init(path: "risk.max_open_positions", domain: .range(low: 1, high: 6, step: 1))])
        var tpe = try makeSampler(.tpe, space: small, seed: 9, trials: 40)
        var history: [SampledTrial] = []
        for _ in 0..<4 {
            let batch = tpe.propose(count: 6, history: history)
            #expect(Set(batch.map { "\($0)" }).count == batch.count, "\(batch)")
            history += batch.map { SampledTrial(point: $0, score: Self.score([.double(0.3), .double(7), $0[0], .bool(true)])) }
        }
    }

    @Test func tpeFindsBetterPointsThanRandomWithTheSameBudget() throws {
        var tpeWins = 0
        for seed: UInt64 in 1...5 {
            var tpe = try makeSampler(.tpe, space: Self.space, seed: seed, trials: 80)
            var random = try makeSampler(.random, space: Self.space, seed: seed, trials: 80)
            let bestTPE = Self.run(&tpe, trials: 80).compactMap(\.score).max() ?? -.infinity
            let bestRandom = Self.run(&random, trials: 80).compactMap(\.score).max() ?? -.infinity
            if bestTPE > bestRandom { tpeWins += 1 }
        }
        #expect(tpeWins >= 4, "TPE beat random on \(tpeWins) of 5 seeds")
    }

    @Test func tpeCountsRejectedTrialsAsBad() {
        let history = [SampledTrial(point: [], score: nil), SampledTrial(point: [], score: 1), SampledTrial(point: [], score: 3),
                       SampledTrial(point: [], score: nil), SampledTrial(point: [], score: 2)]
        let (good, bad) = TPESampler.split(history)
        #expect(good.map(\.score) == [3])
        #expect(bad.count == 4 && bad.filter { $0.score == nil }.count == 2)
    }

    @Test func theGeneratorIsUniformEnoughAndReproducible() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7)
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<10_000 {
            let x = a.nextDouble()
            #expect(x >= 0 && x < 1)
            #expect(x == b.nextDouble())
            buckets[Int(x * 10)] += 1
        }
        #expect(buckets.allSatisfy { $0 > 850 && $0 < 1_150 }, "\(buckets)")
    }
}
