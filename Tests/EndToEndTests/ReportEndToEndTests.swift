import Foundation
import Testing

@Suite("history and HTML report", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct ReportEndToEndTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The DOM headless Chromium builds from `page`, and its exit status.
    static func dumpDOM(chromium: String, page: String, profile: String) throws -> (status: Int32, dom: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--dump-dom", "file://\(page)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, dom)
    }

    /// A state with closed trades and a safe-mode period.
    func tradedState() throws -> Harness {
        let h = try Harness()
        var now = "2024-03-01T00:00:15Z"
        for _ in 0..<60 {
            #expect(try h.run(["run", "--now", now]).code == 0)
            now = try h.nextRun()
        }
        #expect(try h.run(["safe-mode", "enter", "--reason", "report test", "--for", "1h", "--now", now]).code == 0)
        for _ in 0..<3 {
            #expect(try h.run(["run", "--now", now]).code == 0)
            now = try h.nextRun()
        }
        return h
    }

    @Test func historyInEveryFormat() throws {
        let h = try tradedState()
        defer { h.remove() }
        let closed = Int(try h.sqlite("SELECT COUNT(*) FROM positions WHERE state = 'CLOSED' AND exit_reason != 'entry_failed'")) ?? 0
        try #require(closed > 0)
        let csv = try h.run(["history", "--format", "csv"])
        #expect(csv.code == 0)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "symbol,entry_time,exit_time,quantity,entry_price,exit_price,fees,pnl,exit_reason")
        #expect(lines.count == closed + 1)
        let json = try h.run(["history", "--format", "json"])
        let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(array?.count == closed)
        #expect(array?.first?["pnl"] is Double)
        let table = try h.run(["history"])
        #expect(table.stdout.contains("\(closed) trades"))
        #expect(try h.run(["history", "--format", "xml"]).code == 64)
        let later = try h.run(["history", "--format", "csv", "--since", "2030-01-01T00:00:00Z"])
        #expect(later.stdout.split(separator: "\n").count == 1)
    }

    @Test func theHTMLReportIsSelfContainedWithChartsAndTables() throws {
        let h = try tradedState()
        defer { h.remove() }
        let file = h.root.appendingPathComponent("report.html").path
        #expect(try h.run(["report", "--html", file]).code == 0)
        let page = try String(contentsOfFile: file, encoding: .utf8)
        #expect(page.contains("<svg id=\"equity-chart\""))
        #expect(page.contains("<svg id=\"drawdown-chart\""))
        #expect(page.contains("class=\"safe-mode\""))
        #expect(page.contains("<table id=\"trades\">"))
        #expect(page.contains("<table id=\"symbols\">"))
        for external in ["<script src", "<link", "@import", "url(http", "src=\"http"] { #expect(!page.contains(external), "\(external)") }
        // Deterministic.
        let again = h.root.appendingPathComponent("again.html").path
        #expect(try h.run(["report", "--html", again]).code == 0)
        #expect(try String(contentsOfFile: again, encoding: .utf8) == page)
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed: the browser rendering check is skipped"))
    func headlessChromiumRendersTheReport() throws {
        guard let chromium = Self.chromium else { return }
        let h = try tradedState()
        defer { h.remove() }
        let file = h.root.appendingPathComponent("report.html").path
        #expect(try h.run(["report", "--html", file]).code == 0)
        let (status, dom) = try Self.dumpDOM(chromium: chromium, page: file, profile: h.root.appendingPathComponent("chrome").path)
        #expect(status == 0)
        #expect(dom.contains("equity-chart"))
        #expect(dom.contains("drawdown-chart"))
        #expect(dom.contains("polyline"))
        #expect(dom.contains("<table id=\"trades\">"))
    }
}
