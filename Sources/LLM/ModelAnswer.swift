import Foundation
import TradingDomain

/// A model's answer after validation: only these can influence a signal.
public struct ModelAnswer: Sendable, Equatable {
    public var action: ModelOpinion.Action
    public var confidence: Double
    public var horizon: String
    public var rationale: String
}

/// Why a reply is not a valid answer (it is recorded, never clamped into a trade).
public enum InvalidAnswer: Error, Equatable, CustomStringConvertible {
    case httpStatus(Int)
    /// No reply: timeout, connection refused or dropped.
    case transport(String)
    case malformedResponse(String)
    case refusal(String)
    case truncated
    case emptyContent
    case unparseableContent(String)
    case unknownAction(String)
    case confidenceOutOfRange(String)
    case missingField(String)

    public var description: String {
        switch self {
        case let .httpStatus(code): return (300..<400).contains(code) ? "HTTP \(code) (a redirect, not followed)" : "HTTP \(code)"
        case let .transport(why): return why
        case let .malformedResponse(why): return "malformed response: \(why)"
        case let .refusal(text): return "refused: \(text)"
        case .truncated: return "finish_reason length (truncated)"
        case .emptyContent: return "empty content"
        case let .unparseableContent(why): return "content is not the expected JSON: \(why)"
        case let .unknownAction(a): return "unknown action \"\(a)\""
        case let .confidenceOutOfRange(c): return "confidence \(c) outside 0…1"
        case let .missingField(f): return "missing field \(f)"
        }
    }
}

/// Reads an OpenAI-compatible chat-completions reply: `choices[0].message.content` is a JSON string holding
/// `{action, confidence, horizon, rationale}`. `refusal`, `finish_reason: "length"`, empty or unparseable content,
/// unknown actions and out-of-range numbers are invalid answers.
public enum ModelAnswerParser {
    /// The tokens one call is charged.
    public struct Usage: Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
        /// The reply's usage was missing, negative, fractional, not finite or above the request's worst case, so it is
        /// charged as that worst case.
        public var implausible: Bool

        public init(promptTokens: Int, completionTokens: Int, implausible: Bool = false) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.implausible = implausible
        }
    }

    /// The most tokens a reply may report for one request: its prompt cannot take more tokens than it has bytes (plus the
    /// chat framing), and its answer no more than the `max_tokens` it was sent with.
    public struct UsageLimits: Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int

        public init(promptTokens: Int, completionTokens: Int) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
        }

        /// For a request with this prompt text and `max_tokens`.
        public static func worstCase(prompt: String, maxTokens: Int) -> UsageLimits {
            UsageLimits(promptTokens: prompt.utf8.count + framingTokens, completionTokens: max(0, maxTokens))
        }

        /// Tokens a chat template may add around the messages.
        public static let framingTokens = 64
        public static let hardCap = UsageLimits(promptTokens: 1_000_000, completionTokens: 1_000_000)
    }

    /// Parses a 2xx reply body; the usage is validated against `limits` (an implausible usage is charged as the limits).
    public static func parse(_ body: Data, limits: UsageLimits = .hardCap) -> (Result<ModelAnswer, InvalidAnswer>, Usage) {
        let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any]
        let usage = Self.usage(root?["usage"], limits: limits)
        guard let root else {
            return (.failure(.malformedResponse("not a JSON object")), usage)
        }
        guard let choices = root["choices"] as? [[String: Any]], let first = choices.first, let message = first["message"] as? [String: Any] else {
            return (.failure(.malformedResponse("no choices[0].message")), usage)
        }
        if let refusal = message["refusal"] as? String, !refusal.isEmpty { return (.failure(.refusal(refusal)), usage) }
        if (first["finish_reason"] as? String) == "length" { return (.failure(.truncated), usage) }
        guard let content = message["content"] as? String, !content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return (.failure(.emptyContent), usage)
        }
        return (parseContent(content), usage)
    }

    /// `usage.prompt_tokens` and `usage.completion_tokens` when both are whole numbers within `limits`; otherwise the
    /// limits, marked implausible.
    static func usage(_ value: Any?, limits: UsageLimits) -> Usage {
        func count(_ raw: Any?, cap: Int) -> Int? {
            guard let number = raw as? NSNumber else { return nil }
            let d = number.doubleValue
            guard d.isFinite, d >= 0, d == d.rounded(), d <= Double(cap) else { return nil }
            return Int(d)
        }
        let u = value as? [String: Any]
        if let prompt = count(u?["prompt_tokens"], cap: limits.promptTokens), let completion = count(u?["completion_tokens"], cap: limits.completionTokens) {
            return Usage(promptTokens: prompt, completionTokens: completion)
        }
        return Usage(promptTokens: limits.promptTokens, completionTokens: limits.completionTokens, implausible: true)
    }

    /// Validates the content JSON (a ```json fence around it is tolerated).
    public static func parseContent(_ raw: String) -> Result<ModelAnswer, InvalidAnswer> {
        var text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("```") {
            text = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
            if text.hasSuffix("```") { text = String(text.dropLast(3)) }
        }
        struct Content: Decodable {
            var action: String?
            var confidence: Double?
            var horizon: String?
            var rationale: String?
        }
        let content: Content
        do {
            content = try JSONDecoder().decode(Content.self, from: Data(text.utf8))
        } catch {
            return .failure(.unparseableContent(String(text.prefix(80))))
        }
        guard let actionText = content.action else { return .failure(.missingField("action")) }
        guard let action = ModelOpinion.Action(rawValue: actionText.lowercased()) else { return .failure(.unknownAction(actionText)) }
        guard let confidence = content.confidence else { return .failure(.missingField("confidence")) }
        guard confidence.isFinite, confidence >= 0, confidence <= 1 else { return .failure(.confidenceOutOfRange("\(confidence)")) }
        return .success(ModelAnswer(action: action, confidence: confidence, horizon: content.horizon ?? "", rationale: content.rationale ?? ""))
    }
}

/// The JSON schema sent with `response_format` (strict).
public enum OpinionSchema {
    public static var json: [String: Any] { [
        "type": "object",
        "additionalProperties": false,
        "required": ["action", "confidence", "horizon", "rationale"],
        "properties": [
            "action": ["type": "string", "enum": ["buy", "sell", "hold"]],
            "confidence": ["type": "number", "minimum": 0, "maximum": 1],
            "horizon": ["type": "string"],
            "rationale": ["type": "string"],
        ],
    ] }
}

/// Text a model wrote, made inert for a terminal or a log line: quoted, with quotes, backslashes, control characters
/// (C0, DEL, C1), line and paragraph separators and invisible format characters (bidi overrides, zero-width) written as
/// visible escapes (`\n`, `\u{1B}`), so nothing a model says can clear a screen or pass for a line of tradejob's output.
public enum ModelText {
    public static func quoted(_ text: String, limit: Int = 2000) -> String {
        var out = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { out += "…"; break }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default:
                let category = scalar.properties.generalCategory
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || category == .format || category == .lineSeparator
                    || category == .paragraphSeparator {
                    out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
