import Foundation
import Storage
import TradingDomain

/// One self-contained HTML page (no external scripts, fonts or styles): an equity curve and a drawdown chart as
/// inline SVG with the periods in safe mode shaded, per-symbol statistics (trades, win rate, P&L, maximum drawdown of
/// the symbol's cumulative P&L) and the trades table. The same input gives the same bytes.
public enum HTMLReport {
    /// `note`, when given, is a line under the title (a backtest's period, strategy and how its curve was sampled).
    public static func render(title: String, equity: [EquityPoint], trades: [ClosedTrade], time: (Int64) -> String, note: String? = nil) -> String {
        let values = equity.map(\.equity.double)
        var peak = -Double.infinity
        let drawdowns = values.map { v -> Double in
            peak = max(peak, v)
            return peak > 0 ? (v - peak) / peak * 100 : 0
        }
        var html = pageStart(title: title)
        let first = equity.first.map { time($0.time) } ?? "–", last = equity.last.map { time($0.time) } ?? "–"
        let total = (try? trades.map(\.pnl).total())?.text(decimals: 2) ?? "out of range"
        html += "<p class=\"legend\">\(escape(first)) → \(escape(last)); \(equity.count) equity points, \(trades.count) closed trades, net P&amp;L \(escape(total)); shaded: safe mode.</p>\n"
        if let note { html += "<p class=\"legend\">\(escape(note))</p>\n" }
        html += "<h2>Equity</h2>\n" + chart(id: "equity-chart", values: values, safe: equity.map(\.safeMode), color: "#2a5bd7", unit: "")
        html += "<h2>Drawdown (%)</h2>\n" + chart(id: "drawdown-chart", values: drawdowns, safe: equity.map(\.safeMode), color: "#b3261e", unit: "%")

        html += "<h2>Per symbol</h2>\n<table id=\"symbols\"><thead><tr><th>symbol</th><th>trades</th><th>win rate</th><th>P&amp;L</th><th>max drawdown</th></tr></thead><tbody>\n"
        for symbol in Set(trades.map(\.symbol)).sorted() {
            let own = trades.filter { $0.symbol == symbol }.sorted { $0.exitTime < $1.exitTime }
            let wins = own.filter { $0.pnl > 0 }.count
            // The cumulative P&L's largest fall, in analytics (Double) only when out of the fixed-point range.
            var cumulative = Money.zero, high = Money.zero, worst = Money.zero, inRange = true
            for t in own {
                guard let next = try? cumulative + t.pnl, let fall = try? max(high, next) - next else { inRange = false; break }
                cumulative = next
                high = max(high, cumulative)
                worst = max(worst, fall)
            }
            let pnl = inRange ? cumulative : nil
            html += "<tr><td>\(escape(symbol.rawValue))</td><td>\(own.count)</td><td>\(String(format: "%.1f%%", own.isEmpty ? 0 : Double(wins) / Double(own.count) * 100))</td>"
            html += "<td class=\"\(pnl.map { $0 < 0 } ?? false ? "neg" : "pos")\">\(escape(pnl?.text(decimals: 2) ?? "out of range"))</td><td>\(escape(inRange ? worst.text(decimals: 2) : "out of range"))</td></tr>\n"
        }
        html += "</tbody></table>\n"

        html += "<h2>Trades</h2>\n<table id=\"trades\"><thead><tr><th>symbol</th><th>entry</th><th>exit</th><th>quantity</th><th>entry price</th><th>exit price</th><th>fees</th><th>P&amp;L</th><th>exit reason</th></tr></thead><tbody>\n"
        for t in trades {
            let cells = [escape(time(t.entryTime)), escape(time(t.exitTime)), t.quantity.description, t.entryPrice.text(decimals: 6),
                         t.exitPrice.text(decimals: 6), t.fees.text(decimals: 4)]
            html += "<tr><td>\(escape(t.symbol.rawValue))</td>" + cells.map { "<td>\($0)</td>" }.joined()
            html += "<td class=\"\(t.pnl < 0 ? "neg" : "pos")\">\(t.pnl.text(decimals: 2))</td><td>\(escape(t.exitReason))</td></tr>\n"
        }
        html += "</tbody></table>\n</body></html>\n"
        return html
    }

    /// The start of a page of this look, up to its `<h1>` title (also used by the optimisation page).
    public static func pageStart(title: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1d2330}
        h1{font-size:20px}h2{font-size:16px;margin-top:28px}
        table{border-collapse:collapse;font-size:13px}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ee;text-align:right}
        th:first-child,td:first-child{text-align:left}.neg{color:#b3261e}.pos{color:#1b7f3b}
        svg{background:#fafbfd;border:1px solid #e3e6ee}.legend{font-size:12px;color:#5b6275}
        </style></head><body>
        <h1>\(escape(title))</h1>
        """
    }

    /// A line chart of `values` as inline SVG, the points where `safe` is true shaded (also used by the optimisation page).
    public static func chart(id: String, values: [Double], safe: [Bool], color: String, unit: String) -> String {
        let width = 900.0, height = 220.0, pad = 36.0
        guard values.count >= 1, let lo = values.min(), let hi = values.max() else {
            return "<svg id=\"\(id)\" width=\"900\" height=\"220\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"20\" y=\"110\">no data yet</text></svg>\n"
        }
        let span = hi - lo == 0 ? 1 : hi - lo
        let n = values.count
        func x(_ i: Int) -> Double { pad + (width - 2 * pad) * (n == 1 ? 0.5 : Double(i) / Double(n - 1)) }
        func y(_ v: Double) -> Double { height - pad - (height - 2 * pad) * (v - lo) / span }
        var svg = "<svg id=\"\(id)\" width=\"900\" height=\"220\" viewBox=\"0 0 900 220\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        // Safe-mode periods shaded.
        var i = 0
        while i < n {
            if safe[i] {
                var j = i
                while j + 1 < n && safe[j + 1] { j += 1 }
                let x0 = x(max(0, i - 1) == i ? i : i), x1 = x(min(n - 1, j + 1))
                svg += "<rect class=\"safe-mode\" x=\"\(f(x0))\" y=\"\(f(pad))\" width=\"\(f(max(2, x1 - x0)))\" height=\"\(f(height - 2 * pad))\" fill=\"#f6c343\" fill-opacity=\"0.3\"/>\n"
                i = j + 1
            } else {
                i += 1
            }
        }
        let points = values.enumerated().map { "\(f(x($0.offset))),\(f(y($0.element)))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
        svg += "<text x=\"4\" y=\"\(f(y(hi) + 4))\" font-size=\"11\">\(f(hi))\(unit)</text><text x=\"4\" y=\"\(f(y(lo) + 4))\" font-size=\"11\">\(f(lo))\(unit)</text>\n"
        svg += "</svg>\n"
        return svg
    }

    static func f(_ v: Double) -> String { String(format: "%.2f", v) }

    /// `s` as HTML text or attribute value.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
