import Foundation
import Testing

@Suite("crontab and systemd units")
struct SchedulingFilesTests {
    static let crontab = Harness.repository.appendingPathComponent("crontab")
    static let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func theCrontabRunsIfDueEvery15Minutes() throws {
        let text = try String(contentsOf: Self.crontab.appendingPathComponent("tradejob.cron"), encoding: .utf8)
        let entries = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(entries.count == 1)
        let fields = entries[0].split(separator: " ", maxSplits: 5).map(String.init)
        try #require(fields.count == 6)
        #expect(Array(fields[0..<5]) == ["*/15", "*", "*", "*", "*"])
        // */15 in the minute field fires at 0, 15, 30 and 45.
        let minutes = (0..<60).filter { $0 % 15 == 0 }
        #expect(minutes == [0, 15, 30, 45])
        let command = fields[5]
        #expect(command.contains("tradejob run --if-due"))
        #expect(command.contains("--config "))
        #expect(command.contains("--state-dir "))
        #expect(command.contains(">> ") && command.hasSuffix("2>&1"))
    }

    @Test func theTimerFiresEvery15MinutesPersistently() throws {
        let timer = try String(contentsOf: Self.crontab.appendingPathComponent("tradejob.timer"), encoding: .utf8)
        #expect(timer.contains("OnCalendar=*:0/15"))
        #expect(timer.contains("Persistent=true"))
        let service = try String(contentsOf: Self.crontab.appendingPathComponent("tradejob.service"), encoding: .utf8)
        #expect(service.contains("Type=oneshot"))
        #expect(service.contains("run --if-due"))
    }

    @Test(.enabled(if: systemdAnalyze != nil && Harness.available, "systemd-analyze (or the built binary) is not available: skipped"))
    func systemdAnalyzeVerifiesTheUnits() throws {
        guard let analyze = Self.systemdAnalyze, let binary = Harness.binary else { return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-units-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // As `make install` does: the installed binary's path filled in.
        let service = try String(contentsOf: Self.crontab.appendingPathComponent("tradejob.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/tradejob", with: binary)
        try service.write(to: dir.appendingPathComponent("tradejob.service"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Self.crontab.appendingPathComponent("tradejob.timer"), to: dir.appendingPathComponent("tradejob.timer"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyze)
        process.arguments = ["verify", dir.appendingPathComponent("tradejob.service").path, dir.appendingPathComponent("tradejob.timer").path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
    }
}
