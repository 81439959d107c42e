import Foundation
import Operations
import Settings
import TradingDomain

/// The page of `tradejob optimize --html`: one self-contained HTML file (inline SVG, no scripts) with the search's
/// header, a heatmap of two keys (each cell the best score among the trials with those two values, like
/// backtesting.py's heatmap aggregated by max), with walk-forward the out-of-sample equity curve and the windows'
/// in-sample and out-of-sample figures beside the values chosen, and the best trials. The same report gives the same
/// bytes.
public enum OptimizePage {
    /// Bins per axis at most for the values of a range (a random or TPE search rarely repeats a value).
    static let maximumBins = 12

    public static func render(_ report: OptimizeReport, x: Int?, y: Int?, top: Int = 20, time: (Int64) -> String) -> String {
        let e = HTMLReport.escape
        let rejected = report.trials.filter { $0.score == nil }.count
        var html = HTMLReport.pageStart(title: "tradejob optimize") + "\n"
        var header = "Method \(report.method), objective \(report.objective), seed \(report.seed); \(report.trials.count) trials"
        header += report.windows.isEmpty ? "" : " in the last walk-forward window (of \(report.windows.count))"
        header += ", \(rejected) rejected."
        if let bh = report.buyAndHoldReturn {
            header += String(format: report.windows.isEmpty ? " Buy and hold over the period: %.2f%%." : " Buy and hold over the test parts joined: %.2f%%.", bh * 100)
        }
        html += "<p class=\"legend\" id=\"header\">\(e(header))</p>\n"
        if let x, let y, x != y, report.space.dimensions.indices.contains(x), report.space.dimensions.indices.contains(y) {
            html += "<h2>Heatmap: best \(e(report.objective)) by \(e(report.space.dimensions[x].path)) and \(e(report.space.dimensions[y].path))</h2>\n"
            html += heatmap(report, x: x, y: y)
        }
        if !report.outOfSampleEquity.isEmpty {
            html += "<h2>Out-of-sample equity (the test parts joined)</h2>\n"
            html += HTMLReport.chart(id: "oos-equity", values: report.outOfSampleEquity.map(\.equity.double), safe: report.outOfSampleEquity.map(\.safeMode),
                                     color: "#2a5bd7", unit: "")
        }
        if !report.windows.isEmpty { html += windowsTable(report, time: time) }
        html += trialsTable(report, top: top)
        html += "</body></html>\n"
        return html
    }

    /// An axis of the heatmap: its labels and which column a value falls in.
    struct Axis {
        let labels: [String]
        let column: (ConfigValue) -> Int?
    }

    /// The distinct values of dimension `k` among the trials, one column each when there are few, else equal bins
    /// over the range (their edges as labels).
    static func axis(_ report: OptimizeReport, _ k: Int) -> Axis {
        var distinct: [ConfigValue] = []
        for t in report.trials where k < t.point.count && !distinct.contains(t.point[k]) { distinct.append(t.point[k]) }
        let numbers = distinct.compactMap(SearchAxis.number)
        if numbers.count == distinct.count, distinct.count > maximumBins, let lo = numbers.min(), let hi = numbers.max(), hi > lo {
            let width = (hi - lo) / Double(maximumBins)
            let labels = (0..<maximumBins).map { String(format: "%.4g–%.4g", lo + Double($0) * width, lo + Double($0 + 1) * width) }
            return Axis(labels: labels) { value in
                SearchAxis.number(value).map { min(maximumBins - 1, max(0, Int(($0 - lo) / width))) }
            }
        }
        if numbers.count == distinct.count {
            let sorted = distinct.sorted { (SearchAxis.number($0) ?? 0) < (SearchAxis.number($1) ?? 0) }
            return Axis(labels: sorted.map(\.json)) { value in sorted.firstIndex(of: value) }
        }
        return Axis(labels: distinct.map(\.json)) { value in distinct.firstIndex(of: value) }
    }

    static func heatmap(_ report: OptimizeReport, x: Int, y: Int) -> String {
        let e = HTMLReport.escape
        let columns = axis(report, x), rows = axis(report, y)
        var best = [[Double?]](repeating: [Double?](repeating: nil, count: columns.labels.count), count: rows.labels.count)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: columns.labels.count), count: rows.labels.count)
        for t in report.trials where x < t.point.count && y < t.point.count {
            guard let c = columns.column(t.point[x]), let r = rows.column(t.point[y]) else { continue }
            counts[r][c] += 1
            if let s = t.score { best[r][c] = max(best[r][c] ?? -.infinity, s) }
        }
        let scores = best.flatMap { $0 }.compactMap { $0 }
        let lo = scores.min() ?? 0, hi = scores.max() ?? 0
        let cell = 56.0, left = 150.0, topMargin = 20.0, bottom = 110.0
        let width = left + cell * Double(columns.labels.count) + 20, height = topMargin + cell * Double(rows.labels.count) + bottom
        var svg = "<svg id=\"heatmap\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        for r in rows.labels.indices {
            let yPos = topMargin + cell * Double(rows.labels.count - 1 - r)  // the smallest value at the bottom
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(yPos + cell / 2 + 4))\" font-size=\"11\" text-anchor=\"end\">\(e(rows.labels[r]))</text>\n"
            for c in columns.labels.indices {
                let xPos = left + cell * Double(c)
                let fill = best[r][c].map { color(hi > lo ? ($0 - lo) / (hi - lo) : 1) } ?? "#d5d8e0"
                let scoreText = best[r][c].map { String(format: "%.4f", $0) } ?? (counts[r][c] > 0 ? "rejected" : "not tried")
                let tip = "\(report.space.dimensions[x].path) \(columns.labels[c]), \(report.space.dimensions[y].path) \(rows.labels[r]): \(scoreText) (\(counts[r][c]) trials)"
                svg += "<rect class=\"cell\" x=\"\(f(xPos))\" y=\"\(f(yPos))\" width=\"\(f(cell - 2))\" height=\"\(f(cell - 2))\" fill=\"\(fill)\"><title>\(e(tip))</title></rect>\n"
                if let s = best[r][c] {
                    svg += "<text x=\"\(f(xPos + cell / 2 - 1))\" y=\"\(f(yPos + cell / 2 + 3))\" font-size=\"10\" text-anchor=\"middle\">\(e(String(format: "%.3g", s)))</text>\n"
                }
            }
        }
        let axisY = topMargin + cell * Double(rows.labels.count)
        for c in columns.labels.indices {
            let xPos = left + cell * Double(c) + cell / 2
            svg += "<text x=\"\(f(xPos))\" y=\"\(f(axisY + 12))\" font-size=\"11\" text-anchor=\"end\" transform=\"rotate(-45 \(f(xPos)) \(f(axisY + 12)))\">\(e(columns.labels[c]))</text>\n"
        }
        svg += "<text x=\"\(f(left))\" y=\"\(f(height - 24))\" font-size=\"12\">→ \(e(report.space.dimensions[x].path))</text>\n"
        svg += "<text x=\"4\" y=\"12\" font-size=\"12\">↑ \(e(report.space.dimensions[y].path))</text>\n"
        // The colour scale.
        for k in 0..<10 {
            svg += "<rect class=\"scale\" x=\"\(f(left + Double(k) * 16))\" y=\"\(f(height - 14))\" width=\"16\" height=\"10\" fill=\"\(color(Double(k) / 9))\"/>\n"
        }
        svg += "<text x=\"\(f(left + 168))\" y=\"\(f(height - 5))\" font-size=\"11\">\(e(String(format: "%.4g … %.4g", lo, hi))) (grey: no qualifying trial)</text>\n"
        svg += "</svg>\n"
        return svg
    }

    /// From red (worst) through yellow to green (best), for `t` ∈ [0, 1].
    static func color(_ t: Double) -> String {
        let u = min(max(t.isFinite ? t : 0, 0), 1)
        let r = u < 0.5 ? 215 : Int(215 - (u - 0.5) * 2 * (215 - 40))
        let g = u < 0.5 ? Int(60 + u * 2 * (190 - 60)) : Int(190 - (u - 0.5) * 2 * (190 - 150))
        let b = u < 0.5 ? 50 : Int(50 + (u - 0.5) * 2 * (80 - 50))
        return String(format: "#%02x%02x%02x", r, g, b)
    }

    static func windowsTable(_ report: OptimizeReport, time: (Int64) -> String) -> String {
        let e = HTMLReport.escape
        let objective = Objective(rawValue: report.objective) ?? .sharpe
        let paths = report.space.dimensions.map(\.path)
        var html = "<h2>Walk-forward: in-sample against out-of-sample</h2>\n<table id=\"windows\"><thead><tr><th>window</th><th>train</th><th>test</th>"
        html += "<th>IS \(e(report.objective))</th><th>IS return</th><th>OOS \(e(report.objective))</th><th>OOS return</th><th>OOS max drawdown</th><th>OOS trades</th><th>OOS buy &amp; hold</th>"
        html += paths.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for w in report.windows {
            html += "<tr><td>\(w.index)</td><td>\(e(time(w.trainFrom))) → \(e(time(w.trainTo)))</td><td>\(e(time(w.testFrom))) → \(e(time(w.testTo)))</td>"
            html += "<td>\(w.best == nil ? "none" : String(format: "%.4f", objective.score(w.inSample)))</td>\(percentCell(w.inSample.totalReturn))"
            html += "<td>\(w.best == nil ? "sat out" : String(format: "%.4f", objective.score(w.outOfSample)))</td>\(percentCell(w.outOfSample.totalReturn))"
            html += "<td>\(String(format: "%.2f%%", w.outOfSample.maxDrawdown * 100))</td><td>\(w.outOfSample.trades)</td>\(percentCell(w.outOfSample.buyAndHold))"
            html += (w.best?.map { "<td>\(e($0.json))</td>" } ?? paths.map { _ in "<td>–</td>" }).joined() + "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func trialsTable(_ report: OptimizeReport, top: Int) -> String {
        let e = HTMLReport.escape
        let paths = report.space.dimensions.map(\.path)
        var html = "<h2>Best trials</h2>\n<table id=\"trials\"><thead><tr><th>rank</th><th>trial</th><th>\(e(report.objective))</th><th>return</th><th>max drawdown</th><th>Sharpe</th><th>trades</th>"
        html += paths.map { "<th>\(e($0))</th>" }.joined() + "</tr></thead><tbody>\n"
        for (k, t) in Optimizer.ranked(report.trials).prefix(max(top, 0)).enumerated() {
            html += "<tr><td>\(k + 1)</td><td>\(t.number)</td><td>\(e(t.score.map { String(format: "%.4f", $0) } ?? (t.note ?? "rejected")))</td>"
            html += "\(percentCell(t.metrics.totalReturn))<td>\(String(format: "%.2f%%", t.metrics.maxDrawdown * 100))</td><td>\(String(format: "%.4f", t.metrics.sharpe))</td><td>\(t.metrics.trades)</td>"
            html += t.point.map { "<td>\(e($0.json))</td>" }.joined() + "</tr>\n"
        }
        return html + "</tbody></table>\n"
    }

    static func percentCell(_ x: Double) -> String {
        "<td class=\"\(x < 0 ? "neg" : "pos")\">\(String(format: "%.2f%%", x * 100))</td>"
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }
}
