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
        case let .httpStatus(code): return "HTTP \(code)"
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
    public struct Usage: Sendable, Equatable {
        public var promptTokens: Int
        public var completionTokens: Int
    }

    public static func parse(_ body: Data) -> (Result<ModelAnswer, InvalidAnswer>, Usage) {
        var usage = Usage(promptTokens: 0, completionTokens: 0)
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return (.failure(.malformedResponse("not a JSON object")), usage)
        }
        if let u = root["usage"] as? [String: Any] {
            usage.promptTokens = (u["prompt_tokens"] as? NSNumber)?.intValue ?? 0
            usage.completionTokens = (u["completion_tokens"] as? NSNumber)?.intValue ?? 0
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
