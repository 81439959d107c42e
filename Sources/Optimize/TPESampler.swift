import Foundation
import Settings

/// Tree-structured Parzen Estimator (Bergstra et al., 2011), each dimension on its own as Optuna's default TPE does.
/// The first `startupTrials` points are random. Then the finished trials are split into the good ones — the best
/// ⌈γ·n⌉ scores, γ = 0.1, at most 25 — and the rest (rejected trials among them); per dimension a density l(x) is
/// fitted to the good values and g(x) to the others, `candidates` values are drawn from l and the one with the largest
/// l(x)/g(x) is taken. Numbers live on the unit interval of their range: a mixture of Gaussians truncated to it, one
/// per observation with a width from its neighbours' distances (clipped to [1/min(100, n + 1), 1]) plus a wide prior
/// at the middle; choices (and the values of a stepped range, snapped after drawing) weigh their counts plus one.
/// Deterministic for a seed and a history.
public struct TPESampler: Sampler {
    let space: SearchSpace
    var random: SeededRandom
    public var startupTrials = 10
    public var candidates = 24

    public init(space: SearchSpace, seed: UInt64) {
        self.space = space
        random = SeededRandom(seed: seed)
    }

    public mutating func propose(count: Int, history: [SampledTrial]) -> [[ConfigValue]] {
        var batch: [[ConfigValue]] = []
        let scored = history.filter { $0.score != nil }
        for _ in 0..<max(count, 0) {
            var point: [ConfigValue] = []
            // A point not already in this batch: the model a few times, then random draws (a small discrete space
            // makes the model repeat its favourite).
            for attempt in 0..<40 {
                let modelled = !scored.isEmpty && history.count >= startupTrials && attempt < 5
                point = modelled ? modelPoint(history) : randomPoint()
                if !batch.contains(point) { break }
            }
            batch.append(point)
        }
        return batch
    }

    mutating func randomPoint() -> [ConfigValue] {
        space.dimensions.indices.map { SearchAxis(space, $0).value(at: random.nextDouble()) }
    }

    /// The best ⌈0.1·n⌉ (at most 25) scored trials are good; every other trial, rejected ones too, is bad.
    static func split(_ history: [SampledTrial]) -> (good: [SampledTrial], bad: [SampledTrial]) {
        let wanted = min(Int((0.1 * Double(history.count)).rounded(.up)), 25)
        let order = history.indices.sorted { a, b in
            switch (history[a].score, history[b].score) {
            case let (x?, y?): return x != y ? x > y : a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a < b
            }
        }
        let goodCount = min(max(wanted, 1), history.filter { $0.score != nil }.count)
        return (order.prefix(goodCount).map { history[$0] }, order.dropFirst(goodCount).map { history[$0] })
    }

    mutating func modelPoint(_ history: [SampledTrial]) -> [ConfigValue] {
        let (good, bad) = Self.split(history)
        return space.dimensions.indices.map { k in
            let axis = SearchAxis(space, k)
            if case let .choices(values) = space.dimensions[k].domain {
                let l = Self.categoryWeights(good.map { $0.point[k] }, values), g = Self.categoryWeights(bad.map { $0.point[k] }, values)
                var best = 0, bestRatio = -Double.infinity
                for _ in 0..<candidates {
                    let c = Self.draw(weights: l, &random)
                    let ratio = log(l[c]) - log(g[c])
                    if ratio > bestRatio { best = c; bestRatio = ratio }
                }
                return values[best]
            }
            let l = Parzen(good.compactMap { axis.position(of: $0.point[k]) }), g = Parzen(bad.compactMap { axis.position(of: $0.point[k]) })
            var best = 0.5, bestRatio = -Double.infinity
            for _ in 0..<candidates {
                let x = l.sample(&random)
                let ratio = l.logDensity(x) - g.logDensity(x)
                if ratio > bestRatio { best = x; bestRatio = ratio }
            }
            return axis.value(at: min(best, 1 - 0x1p-40))
        }
    }

    /// Counts of each choice among `observed`, plus one, normalised.
    static func categoryWeights(_ observed: [ConfigValue], _ values: [ConfigValue]) -> [Double] {
        var counts = [Double](repeating: 1, count: values.count)
        for value in observed { if let i = values.firstIndex(of: value) { counts[i] += 1 } }
        let total = counts.reduce(0, +)
        return counts.map { $0 / total }
    }

    static func draw(weights: [Double], _ random: inout SeededRandom) -> Int {
        var u = random.nextDouble() * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.count - 1
    }
}

/// A Parzen estimator on [0, 1]: equal-weight Gaussians truncated to the interval, one per observation plus a prior
/// (mean 0.5, width 1).
struct Parzen {
    let means: [Double]
    let widths: [Double]

    init(_ observations: [Double]) {
        let sorted = observations.sorted()
        let floor = 1 / Double(min(100, sorted.count + 1))
        var means = sorted, widths: [Double] = []
        for (i, x) in sorted.enumerated() {
            let left = x - (i > 0 ? sorted[i - 1] : 0), right = (i + 1 < sorted.count ? sorted[i + 1] : 1) - x
            widths.append(min(max(max(left, right), floor), 1))
        }
        means.append(0.5)
        widths.append(1)
        self.means = means
        self.widths = widths
    }

    func sample(_ random: inout SeededRandom) -> Double {
        let k = random.next(below: means.count)
        for _ in 0..<100 {
            let x = means[k] + widths[k] * random.nextGaussian()
            if x >= 0, x <= 1 { return x }
        }
        return min(max(means[k], 0), 1)
    }

    func logDensity(_ x: Double) -> Double {
        var sum = 0.0
        for (m, s) in zip(means, widths) {
            let mass = Self.cdf((1 - m) / s) - Self.cdf((0 - m) / s)
            let z = (x - m) / s
            sum += exp(-0.5 * z * z) / (s * (2 * Double.pi).squareRoot() * max(mass, 1e-12))
        }
        return log(max(sum / Double(means.count), 1e-300))
    }

    static func cdf(_ z: Double) -> Double { 0.5 * (1 + erf(z / 2.0.squareRoot())) }
}
