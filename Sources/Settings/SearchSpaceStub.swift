// TEMPORARY until the samplers branch lands.
import Foundation
import TradingDomain
extension SearchSpace {
    public static func parse(_ data: Data, file: String) throws -> SearchSpace {
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: [Double]] else { throw ConfigError(file: file, problems: ["stub"]) }
        return SearchSpace(dimensions: obj.keys.sorted().map { k in
            let v = obj[k]!
            return Dimension(path: k, domain: .range(low: Fixed(String(v[0]))!, high: Fixed(String(v[1]))!, step: Fixed(String(v[2]))!))
        })
    }
    public func value(_ number: Fixed, dimension: Int) -> ConfigValue {
        if case .int = ConfigKeys.byPath[dimensions[dimension].path]!.kind { return .int(Int(number.double.rounded())) }
        return .double(number.double)
    }
    public var gridSize: Int? {
        var n = 1
        for d in dimensions { if case let .range(l, h, s?) = d.domain { n *= Int(((h.double - l.double) / s.double).rounded(.down)) + 1 } }
        return n
    }
    public func gridPoint(_ index: Int) -> [ConfigValue] {
        var idx = index
        var out: [ConfigValue] = []
        for (k, d) in dimensions.enumerated().reversed() {
            guard case let .range(l, h, s?) = d.domain else { continue }
            let n = Int(((h.double - l.double) / s.double).rounded(.down)) + 1
            out.insert(value(Fixed(raw: l.raw + Int64(idx % n) * s.raw), dimension: k), at: 0)
            idx /= n
        }
        return out
    }
}
