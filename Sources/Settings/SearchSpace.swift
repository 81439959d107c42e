import Foundation
import TradingDomain

/// The parameters `tradejob optimize` searches: configuration keys, each with a range or a list of choices, read from
/// a JSON search space file (`{"strategy.min_confidence": [0.5, 0.8, 0.05], "risk.trailing_stop": {"choices": [true, false]}}`).
public struct SearchSpace: Sendable, Equatable {
    /// One searched configuration key.
    public struct Dimension: Sendable, Equatable {
        /// The dotted configuration key (`strategy.min_confidence`).
        public let path: String
        public let domain: Domain
        public init(path: String, domain: Domain) {
            self.path = path
            self.domain = domain
        }
    }

    /// Where a dimension's values come from.
    public enum Domain: Sendable, Equatable {
        /// Numbers from `low` to `high` inclusive; with a step, only `low + k·step` (the grid). Exact decimals; the
        /// key's kind (integer, number, decimal) decides how a point becomes a `ConfigValue`.
        case range(low: Fixed, high: Fixed, step: Fixed?)
        /// A list of values (booleans, strings, numbers), each valid for the key.
        case choices([ConfigValue])
    }

    public let dimensions: [Dimension]

    public init(dimensions: [Dimension]) {
        self.dimensions = dimensions
    }
}
