import Foundation
import Settings
import TradingDomain

/// The text outputs of `tradejob optimize`: the summary on stdout, the ranked trials as CSV or JSON, and the best
/// values as a configuration file.
public enum OptimizeText {
    /// The summary: the search, the `top` best trials, and with walk-forward each window in-sample against
    /// out-of-sample with the values chosen (their stability) and the joined out-of-sample return.
    public static func summary(_ report: OptimizeReport, ranked: [TrialResult], top: Int) -> String {
        let rejected = report.trials.filter { $0.score == nil }.count
        var out = "optimize: \(report.method), \(report.trials.count) trials\(report.windows.isEmpty ? "" : " in the last window") (\(rejected) rejected), objective \(report.objective), seed \(report.seed)\n"
        let noted = report.trials.filter { $0.note != nil }
        if let first = noted.first?.note { out += "\(noted.count) trial(s) rejected for their configuration or an error, e.g. trial \(noted[0].number): \(first)\n" }
        if let bh = report.buyAndHoldReturn {
            out += String(format: report.windows.isEmpty ? "buy and hold over the period: %.4f%%\n" : "buy and hold over the test parts joined: %.4f%%\n", bh * 100)
        }
        let paths = report.space.dimensions.map(\.path)
        if top > 0 {
            var rows = [["rank", "trial", report.objective, "return", "max dd", "trades"] + paths]
            for (k, t) in ranked.prefix(top).enumerated() {
                rows.append(["\(k + 1)", "\(t.number)", t.score.map { String(format: "%.6g", $0) } ?? (t.note == nil ? "rejected" : "invalid"),
                             percent(t.metrics.totalReturn), percent(t.metrics.maxDrawdown), "\(t.metrics.trades)"] + t.point.map(\.json))
            }
            out += table(rows)
        }
        guard !report.windows.isEmpty else { return out }
        out += "walk-forward: \(report.windows.count) windows; in-sample (the train part's best) against out-of-sample (the same values on the test part)\n"
        var rows = [["window", "train", "test", "IS \(report.objective)", "IS return", "OOS \(report.objective)", "OOS return", "OOS max dd", "OOS trades", "OOS buy & hold"] + paths]
        let objective = Objective(rawValue: report.objective) ?? .sharpe
        var compounded = 1.0, inSample = 1.0
        for w in report.windows {
            rows.append(["\(w.index)", "\(day(w.trainFrom))…\(day(w.trainTo))", "\(day(w.testFrom))…\(day(w.testTo))",
                         w.best == nil ? "none" : String(format: "%.6g", objective.score(w.inSample)), percent(w.inSample.totalReturn),
                         w.best == nil ? "sat out" : String(format: "%.6g", objective.score(w.outOfSample)), percent(w.outOfSample.totalReturn),
                         percent(w.outOfSample.maxDrawdown), "\(w.outOfSample.trades)", percent(w.outOfSample.buyAndHold)] + (w.best?.map(\.json) ?? paths.map { _ in "–" }))
            compounded *= 1 + w.outOfSample.totalReturn
            inSample *= 1 + w.inSample.totalReturn
        }
        out += table(rows)
        out += String(format: "out-of-sample return (test parts joined) %.4f%%; in-sample returns compounded %.4f%%\n", (compounded - 1) * 100, (inSample - 1) * 100)
        out += "parameter stability across windows:\n"
        for (k, dimension) in report.space.dimensions.enumerated() {
            let chosen = report.windows.compactMap { $0.best?[k] }
            out += "  \(dimension.path): \(chosen.map(\.json).joined(separator: ", "))\(stability(chosen, domain: dimension.domain))\n"
        }
        return out
    }

    /// For a numeric range: the chosen values' spread as a share of the range.
    static func stability(_ values: [ConfigValue], domain: SearchSpace.Domain) -> String {
        guard case let .range(low, high, _) = domain, high > low else {
            return values.isEmpty ? "" : " (\(Set(values.map(\.json)).count) distinct)"
        }
        let numbers = values.compactMap(SearchAxis.number)
        guard let lo = numbers.min(), let hi = numbers.max() else { return "" }
        return String(format: " (spread %.0f%% of the range)", (hi - lo) / (high.double - low.double) * 100)
    }

    /// Every trial, best first: rank, trial number, score, the figures and the values.
    public static func resultsCSV(_ report: OptimizeReport, ranked: [TrialResult]) -> String {
        let paths = report.space.dimensions.map(\.path)
        var out = (["rank", "trial", "score", "total_return", "cagr", "sharpe", "sortino", "calmar", "max_drawdown", "sqn", "trades", "win_rate", "profit_factor"]
            + paths + ["note"]).map(csvField).joined(separator: ",") + "\n"
        for (k, t) in ranked.enumerated() {
            let m = t.metrics
            let figures = [m.totalReturn, m.cagr, m.sharpe, m.sortino, m.calmar, m.maxDrawdown, m.sqn].map { "\($0)" }
            let values = t.point.map { csvField(plain($0)) }
            out += (["\(k + 1)", "\(t.number)", t.score.map { "\($0)" } ?? ""] + figures + ["\(m.trades)", "\(m.winRate)", "\(m.profitFactor)"] + values + [csvField(t.note ?? "")])
                .joined(separator: ",") + "\n"
        }
        return out
    }

    /// Every trial, best first, and the walk-forward windows, as JSON.
    public static func resultsJSON(_ report: OptimizeReport, ranked: [TrialResult]) -> String {
        let paths = report.space.dimensions.map(\.path)
        func values(_ point: [ConfigValue]) -> String {
            "{" + zip(paths, point).map { "\(ConfigValue.quote($0)): \($1.json)" }.joined(separator: ", ") + "}"
        }
        func metrics(_ m: TrialMetrics) -> String {
            let pairs: [(String, Double)] = [("total_return", m.totalReturn), ("cagr", m.cagr), ("sharpe", m.sharpe), ("sortino", m.sortino),
                                              ("calmar", m.calmar), ("max_drawdown", m.maxDrawdown), ("sqn", m.sqn), ("win_rate", m.winRate),
                                              ("profit_factor", m.profitFactor), ("buy_and_hold", m.buyAndHold)]
            return "{" + pairs.map { "\"\($0.0)\": \(json($0.1))" }.joined(separator: ", ") + ", \"trades\": \(m.trades)}"
        }
        var out = "{\n  \"method\": \(ConfigValue.quote(report.method)),\n  \"objective\": \(ConfigValue.quote(report.objective)),\n  \"seed\": \(report.seed),\n"
        out += "  \"trials\": [\n"
        out += ranked.enumerated().map { k, t in
            "    {\"rank\": \(k + 1), \"trial\": \(t.number), \"score\": \(t.score.map(json) ?? "null"), \"values\": \(values(t.point)), \"metrics\": \(metrics(t.metrics))\(t.note.map { ", \"note\": \(ConfigValue.quote($0))" } ?? "")}"
        }.joined(separator: ",\n")
        out += "\n  ],\n  \"walk_forward\": [\n"
        out += report.windows.map { w in
            "    {\"window\": \(w.index), \"train\": [\(ConfigValue.quote(Timestamp.rfc3339(w.trainFrom))), \(ConfigValue.quote(Timestamp.rfc3339(w.trainTo)))], "
                + "\"test\": [\(ConfigValue.quote(Timestamp.rfc3339(w.testFrom))), \(ConfigValue.quote(Timestamp.rfc3339(w.testTo)))], "
                + "\"values\": \(w.best.map(values) ?? "null"), \"in_sample\": \(metrics(w.inSample)), \"out_of_sample\": \(metrics(w.outOfSample))}"
        }.joined(separator: ",\n")
        out += (report.windows.isEmpty ? "" : "\n") + "  ]\n}\n"
        return out
    }

    /// The base configuration's own settings (the keys whose value differs from the default; secret keys left out)
    /// with `point`'s values set: a complete configuration file. Values of the space's extra keys (a command's options)
    /// are not configuration and are left out.
    public static func bestConfig(base: ResolvedConfig, space: SearchSpace, point: [ConfigValue]) -> String {
        var values = base.values
        var paths = Set(ConfigKeys.all.filter { base.values[$0.path] != $0.defaultValue }.map(\.path))
        for (dimension, value) in zip(space.dimensions, point) where space.extraKeys[dimension.path] == nil {
            values[dimension.path] = value
            paths.insert(dimension.path)
        }
        return ConfigDocument.partial(values, paths: paths)
    }

    static func json(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
    static func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
    static func day(_ t: Int64) -> String { String(Timestamp.rfc3339(t).prefix(10)) }

    /// A value as CSV shows it: strings without JSON quotes.
    static func plain(_ value: ConfigValue) -> String {
        if case let .string(s) = value { return s }
        if case let .decimal(d) = value { return d.description }
        return value.json
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        var widths: [Int] = []
        for row in rows {
            for (k, cell) in row.enumerated() {
                if k == widths.count { widths.append(0) }
                widths[k] = max(widths[k], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { k, cell in k == row.count - 1 ? cell : cell.padding(toLength: widths[k], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
