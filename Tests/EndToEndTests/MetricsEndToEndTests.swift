import Foundation
import Operations
import Testing

@Suite("metrics file", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct MetricsEndToEndTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func everyRunWritesAValidTextfile() throws {
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        let path = h.stateDir + "/metrics/tradejob.prom"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(PrometheusText.problems(text).isEmpty, "\(PrometheusText.problems(text))")
        for name in ["tradejob_last_run_start_timestamp_seconds", "tradejob_last_run_end_timestamp_seconds", "tradejob_last_run_success_timestamp_seconds",
                     "tradejob_last_run_duration_seconds", "tradejob_next_run_timestamp_seconds", "tradejob_interval_seconds",
                     "tradejob_phase_duration_seconds{phase=\"analyse\"}", "tradejob_symbols_analysed", "tradejob_symbols_failed", "tradejob_signals",
                     "tradejob_orders", "tradejob_fills", "tradejob_open_positions", "tradejob_equity", "tradejob_cash", "tradejob_drawdown_ratio",
                     "tradejob_safe_mode_active", "tradejob_lock_contention_total", "tradejob_run_duration_seconds_bucket{le=\"+Inf\"} 2"] {
            #expect(text.contains(name), "\(name)")
        }
        #expect(text.contains("tradejob_runs_total{outcome=\"ok\"} 2"))
        // Nothing else is left in the directory (temp file renamed into place).
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.stateDir + "/metrics") == ["tradejob.prom"])
    }

    @Test(.enabled(if: promtool != nil, "promtool is not installed (Debian package prometheus): skipped"))
    func promtoolAcceptsIt() throws {
        guard let promtool = Self.promtool else { return }
        let h = try Harness()
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        signal(SIGPIPE, SIG_IGN)  // promtool stopping early must fail this test, not kill the test process
        try process.run()
        input.fileHandleForWriting.write(try Data(contentsOf: URL(fileURLWithPath: h.stateDir + "/metrics/tradejob.prom")))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(said)")
    }
}
