import Foundation
import Logging
import Testing
import Operations

@Suite("Prometheus text exposition")
struct PrometheusTextTests {
    @Test func rendersFamiliesWithHelpTypeAndNoTimestamps() throws {
        var m = PrometheusText()
        m.gauge("tradejob_equity", "Equity.", 10_000.5)
        m.counter("tradejob_orders_total", "Orders.", 3)
        m.gauge("tradejob_phase_duration_seconds", "Phases.", 0.25, labels: [("phase", "fetch")])
        m.gauge("tradejob_phase_duration_seconds", "Phases.", 0.5, labels: [("phase", "analyse \"x\"\n")])
        m.histogram("tradejob_latency_seconds", "Latency.", bounds: [0.1, 1], observations: [([], 0.05), ([], 0.5), ([], 3)])
        let text = try m.render()
        #expect(PrometheusText.problems(text).isEmpty, "\(PrometheusText.problems(text))")
        #expect(text.contains("tradejob_equity 10000.5\n"))
        #expect(text.contains("tradejob_latency_seconds_bucket{le=\"0.1\"} 1\n"))
        #expect(text.contains("tradejob_latency_seconds_bucket{le=\"1\"} 2\n"))
        #expect(text.contains("tradejob_latency_seconds_bucket{le=\"+Inf\"} 3\n"))
        #expect(text.contains("tradejob_latency_seconds_count 3\n"))
        #expect(text.contains(#"phase="analyse \"x\"\n""#))
    }

    @Test func refusesDuplicateSeriesAndMisnamedCounters() {
        var dup = PrometheusText()
        dup.gauge("a", "A.", 1)
        dup.gauge("a", "A.", 2)
        #expect(throws: PrometheusText.Invalid.self) { try dup.render() }
        var counter = PrometheusText()
        counter.counter("orders", "Orders.", 1)
        #expect(throws: PrometheusText.Invalid.self) { try counter.render() }
    }

    @Test func theCheckerCatchesBrokenDocuments() {
        #expect(!PrometheusText.problems("# HELP a A\n# TYPE a gauge\na 1 1700000000000\n").isEmpty)
        #expect(!PrometheusText.problems("a 1\n").isEmpty)
        #expect(!PrometheusText.problems("# HELP h H\n# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n").isEmpty)
    }
}

@Suite("Log formats")
struct LogFormatTests {
    final class Lines: @unchecked Sendable {
        var lines: [String] = []
        let lock = NSLock()
        func add(_ s: String) { lock.withLock { lines.append(s) } }
    }

    @Test func jsonLinesCarryMetadataAndRedactSecrets() throws {
        let sink = Lines()
        SecretRedactor.shared.register("s3cr3t-api-key")
        var handler = JobLogHandler(label: "t", format: .json) { sink.add($0) }
        handler[metadataKey: "run_id"] = "42"
        handler.log(event: LogEvent(level: .info, message: "placing with s3cr3t-api-key and signature=abcdef0123", metadata: ["symbol": "BTCUSDT"],
                                    source: "", file: "", function: "", line: 0))
        let line = try #require(sink.lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["run_id"] == "42")
        #expect(object["symbol"] == "BTCUSDT")
        #expect(object["level"] == "info")
        #expect(!line.contains("s3cr3t-api-key"))
        #expect(!line.contains("abcdef0123"))
        #expect(object["time"]?.hasSuffix("Z") == true)
    }
}
