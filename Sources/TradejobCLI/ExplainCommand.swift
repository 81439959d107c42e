import ArgumentParser
import Foundation
import LLM
import Storage
import TradingDomain

/// `tradejob explain --run ID --symbol S`: why the cycle decided what it did for a symbol — the signal and its
/// components, the models' answers and rationales (or failures), the aggregated opinion, and the decisions. Whatever a
/// model wrote is data: printed quoted, as the model's words, with control characters escaped (`ModelText`).
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Show why a run decided what it did for a symbol, the models' rationales included.")
    @OptionGroup var options: CommonOptions
    @Option(name: .customLong("run"), help: "Run id (default: the last run).") var runID: Int64?
    @Option(help: "Symbol.") var symbol: String

    func run() throws {
        let read: String? = try options.readState { ledger in
            guard let runID = try runID ?? ledger.newestRunID() else { return "no runs yet\n" }
            var out = "run \(runID), \(symbol)\n"
            let symbol = Symbol(rawValue: symbol)
            if let s = try ledger.storedSignal(runID: runID, symbol: symbol) {
                let direction = s.direction, confidence = s.confidence, score = s.score
                out += "signal: \(direction), confidence \(String(format: "%.3f", confidence)), score \(String(format: "%.3f", score)) on candle \(Timestamp.rfc3339(s.candleTime))\n"
                out += "  components: \(s.components ?? "")\n  patterns: \(s.patterns ?? "")\n"
                if let opinion = s.opinion { out += "  opinion used: \(opinion)\n" }
            } else {
                out += "no signal recorded for \(symbol) in run \(runID)\n"
            }
            if let o = try ledger.storedLLMOpinion(runID: runID, symbol: symbol) {
                let outcome = o.outcome
                out += "models: \(outcome)"
                if let action = o.action {
                    out += String(format: " — %@ with confidence %.3f, agreement %.2f", action, o.confidence ?? 0.0, o.agreement ?? 0.0)
                }
                out += "\n"
                for c in try ledger.storedLLMCalls(runID: runID, symbol: symbol) {
                    let provider = c.provider, status = c.status
                    out += "  \(provider) (\(c.model ?? "")): \(status)"
                    if let origin = c.cachedFrom {
                        let answered = try ledger.llmCallTime(id: origin)
                        out += " (cached: the answer of call \(origin)\(answered.map { " at " + Timestamp.rfc3339($0) } ?? ""))"
                    } else if c.fromCache ?? false {
                        out += " (cached)"
                    }
                    if let action = c.action { out += String(format: ", %@ %.2f", action, c.confidence ?? 0.0) }
                    if let problem = c.problem { out += ", problem \(ModelText.quoted(problem, limit: 300))" }
                    out += ", \(c.latencyMs ?? 0) ms, \(c.promptTokens ?? 0)+\(c.completionTokens ?? 0) tokens"
                    if c.usageImplausible ?? false { out += " (reported usage implausible: charged the worst case)" }
                    out += ", cost \(c.cost ?? 0)\n"
                    if let rationale = c.rationale, !rationale.isEmpty { out += "    rationale, in the model's words: \(ModelText.quoted(rationale))\n" }
                }
            } else {
                out += "models: not consulted\n"
            }
            for e in try ledger.events(runID: runID) where e.symbol == symbol && [.decision, .transition, .fill].contains(e.kind) {
                out += "\(e.kind.rawValue): \(e.message)\n"
            }
            return out
        }
        guard let text = read else { throw UsageError(message: "no state in \(options.stateDirectory) yet") }
        print(text, terminator: "")
    }
}
