import ArgumentParser
import Foundation
import GRDB
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
        guard FileManager.default.fileExists(atPath: options.databasePath) else { throw UsageError(message: "no state in \(options.stateDirectory) yet") }
        let database = try StateDatabase(path: options.databasePath)
        let text: String = try database.writer.read { db in
            guard let runID = try runID ?? Int64.fetchOne(db, sql: "SELECT MAX(id) FROM runs") else { return "no runs yet\n" }
            var out = "run \(runID), \(symbol)\n"
            if let s = try Row.fetchOne(db, sql: "SELECT * FROM signals WHERE run_id = ? AND symbol = ?", arguments: [runID, symbol]) {
                let direction: String = s["direction"], confidence: Double = s["confidence"], score: Double = s["score"]
                out += "signal: \(direction), confidence \(String(format: "%.3f", confidence)), score \(String(format: "%.3f", score)) on candle \(Timestamp.rfc3339(s["candle_time"]))\n"
                out += "  components: \(s["components"] as String? ?? "")\n  patterns: \(s["patterns"] as String? ?? "")\n"
                if let opinion: String = s["opinion"] { out += "  opinion used: \(opinion)\n" }
            } else {
                out += "no signal recorded for \(symbol) in run \(runID)\n"
            }
            if let o = try Row.fetchOne(db, sql: "SELECT * FROM llm_opinions WHERE run_id = ? AND symbol = ?", arguments: [runID, symbol]) {
                let outcome: String = o["outcome"]
                out += "models: \(outcome)"
                if let action: String = o["action"] {
                    out += String(format: " — %@ with confidence %.3f, agreement %.2f", action, o["confidence"] ?? 0.0, o["agreement"] ?? 0.0)
                }
                out += "\n"
                for c in try Row.fetchAll(db, sql: "SELECT * FROM llm_calls WHERE run_id = ? AND symbol = ? ORDER BY id", arguments: [runID, symbol]) {
                    let provider: String = c["provider"], status: String = c["status"]
                    out += "  \(provider) (\(c["model"] as String? ?? "")): \(status)"
                    if let origin: Int64 = c["cached_from"] {
                        let answered: Int64? = try Int64.fetchOne(db, sql: "SELECT time FROM llm_calls WHERE id = ?", arguments: [origin])
                        out += " (cached: the answer of call \(origin)\(answered.map { " at " + Timestamp.rfc3339($0) } ?? ""))"
                    } else if c["from_cache"] as Bool? ?? false {
                        out += " (cached)"
                    }
                    if let action: String = c["action"] { out += String(format: ", %@ %.2f", action, c["confidence"] ?? 0.0) }
                    if let problem: String = c["problem"] { out += ", problem \(ModelText.quoted(problem, limit: 300))" }
                    out += ", \(c["latency_ms"] as Int64? ?? 0) ms, \(c["prompt_tokens"] as Int? ?? 0)+\(c["completion_tokens"] as Int? ?? 0) tokens"
                    if c["usage_implausible"] as Bool? ?? false { out += " (reported usage implausible: charged the worst case)" }
                    out += ", cost \(c["cost"] as String? ?? "0")\n"
                    if let rationale: String = c["rationale"], !rationale.isEmpty { out += "    rationale, in the model's words: \(ModelText.quoted(rationale))\n" }
                }
            } else {
                out += "models: not consulted\n"
            }
            for e in try Events.forRun(db, runID: runID) where e.symbol == symbol && [.decision, .transition, .fill].contains(e.kind) {
                out += "\(e.kind.rawValue): \(e.message)\n"
            }
            return out
        }
        print(text, terminator: "")
    }
}
