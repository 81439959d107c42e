import Testing
import TestSupport
import TradingDomain

/// `lowerBound(of:key:)`, which reads where even spacing puts the answer before searching, against the plain search.
@Suite("Domain: sorted search")
struct SortedSearchTests {
    /// Keys evenly spaced, with gaps, repeated, bunched, near the ends of Int64, in arrays and slices: the same index as
    /// `partitionPoint` for every probe around every key.
    @Test func theGuessedBoundIsTheSearchedOne() {
        var g = SeededGenerator(seed: 31)
        var guessedRight = 0
        for round in 0..<2_000 {
            let n = Int.random(in: 0...60, using: &g)
            let step = Int64([1, 2, 900_000, 86_400_000][round % 4])
            var keys: [Int64] = []
            var t = round % 50 == 0 ? Int64.max - Int64(n) * 6 * step - 10 : Int64.random(in: -1_000_000...1_000_000, using: &g)
            for _ in 0..<n {
                keys.append(t)
                switch Int.random(in: 0..<10, using: &g) {
                case 0: t += step * Int64.random(in: 2...5, using: &g)  // a gap
                case 1: break                                            // a repeated key
                case 2: t += 1                                           // bunched
                default: t += step
                }
            }
            var probes: [Int64] = [.min, .max, (keys.first ?? 0) &- 1]
            for key in keys { probes += [key &- 1, key, key &+ 1] }  // (wrapping: any Int64 is a probe)
            let slice = keys.dropFirst(min(keys.count, round % 3))
            for probe in probes {
                let expected = keys.partitionPoint { $0 < probe }
                #expect(keys.lowerBound(of: probe) { $0 } == expected, "keys \(keys), probe \(probe)")
                #expect(slice.lowerBound(of: probe) { $0 } == slice.partitionPoint { $0 < probe }, "slice of \(keys), probe \(probe)")
                #expect(keys.upperBound(of: probe) { $0 } == keys.partitionPoint { $0 <= probe }, "keys \(keys), probe \(probe)")
                if expected > 0, expected < keys.count, keys[expected] == probe { guessedRight += 1 }
            }
        }
        #expect(guessedRight > 10_000)
    }
}
