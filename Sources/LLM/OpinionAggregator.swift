import Foundation
import TradingDomain

/// Combines valid answers into one opinion by weighted confidence:
/// for each action, W(action) = Σ weight × confidence over the answers choosing it; the opinion's action is the one
/// with the largest W (ties: hold, then sell — the cautious reading); its confidence = W(action) / Σ weight over all
/// valid answers (so disagreement lowers it); agreement = the weight share of the answers choosing that action.
/// Fewer than `minValid` valid answers give no opinion.
public enum OpinionAggregator {
    public static func combine(_ answers: [(answer: ModelAnswer, weight: Double)], minValid: Int) -> ModelOpinion? {
        let valid = answers.filter { $0.weight > 0 }
        guard valid.count >= max(1, minValid) else { return nil }
        let totalWeight = valid.reduce(0) { $0 + $1.weight }
        guard totalWeight > 0 else { return nil }
        var score: [ModelOpinion.Action: Double] = [:], weightOf: [ModelOpinion.Action: Double] = [:]
        for (answer, weight) in valid {
            score[answer.action, default: 0] += weight * answer.confidence
            weightOf[answer.action, default: 0] += weight
        }
        let order: [ModelOpinion.Action] = [.hold, .sell, .buy]
        guard let best = order.max(by: { (score[$0] ?? -1) < (score[$1] ?? -1) }) else { return nil }
        return ModelOpinion(action: best, confidence: (score[best] ?? 0) / totalWeight, agreement: (weightOf[best] ?? 0) / totalWeight)
    }
}

/// What the models are shown: only data up to and including the analysed candle.
public struct PromptContext: Sendable {
    public var symbol: Symbol
    public var timeframe: String
    /// The analysed candle's open time; nothing later may appear in the prompt.
    public var asOf: Int64
    public var candles: [Candle]
    public var indicators: [String: Double]
    public var technicalDirection: String
    public var technicalConfidence: Double

    public init(symbol: Symbol, timeframe: String, asOf: Int64, candles: [Candle], indicators: [String: Double], technicalDirection: String, technicalConfidence: Double) {
        self.symbol = symbol
        self.timeframe = timeframe
        self.asOf = asOf
        self.candles = candles
        self.indicators = indicators
        self.technicalDirection = technicalDirection
        self.technicalConfidence = technicalConfidence
    }
}

/// Builds the prompt: the last 30 closed candles up to `asOf` (later ones are dropped) and the indicator readings,
/// deterministic text (sorted keys, fixed decimals) so that the same question hashes to the same cache key.
public enum PromptBuilder {
    public static let system = "You are a cautious spot-market analyst. Answer only with a JSON object {\"action\": \"buy\"|\"sell\"|\"hold\", \"confidence\": number between 0 and 1, \"horizon\": short text, \"rationale\": one or two sentences}."

    public static func user(_ c: PromptContext) -> String {
        let visible = c.candles.filter { $0.openTime <= c.asOf }.suffix(30)
        var text = "Symbol \(c.symbol), \(c.timeframe) candles up to \(Timestamp.rfc3339(c.asOf)) (time, open, high, low, close, volume):\n"
        for k in visible {
            text += "\(Timestamp.rfc3339(k.openTime)) \(fmt(k.open)) \(fmt(k.high)) \(fmt(k.low)) \(fmt(k.close)) \(fmt(k.volume))\n"
        }
        text += "Indicators: " + c.indicators.keys.sorted().compactMap { key in c.indicators[key].map { "\(key)=\(fmt($0))" } }.joined(separator: ", ") + "\n"
        text += "Technical signal: \(c.technicalDirection) with confidence \(String(format: "%.3f", c.technicalConfidence)).\n"
        text += "Should a spot long position be opened or held now? Answer with the JSON object only."
        return text
    }

    static func fmt(_ v: Double) -> String { v.isFinite ? String(format: "%.6g", v) : "nan" }
}
