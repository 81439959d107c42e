import Foundation
import Testing

/// The Kubernetes manifests in `deploy/kubernetes` name what the binary really takes: the ConfigMap's configuration
/// validates, and the CronJob's and the migration Job's arguments parse (they fail only for want of the database,
/// exit 69, never as a usage error).
@Suite("deploy manifests", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct DeployManifestTests {
    static let directory = Harness.repository.appendingPathComponent("deploy/kubernetes")

    /// The block scalar `config.json: |` of the ConfigMap, unindented.
    static func configJSON() throws -> String {
        let text = try String(contentsOf: directory.appendingPathComponent("configmap.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "config.json: |" }) else {
            throw HarnessError(message: "configmap.yaml has no config.json block")
        }
        let first = lines.count > start + 1 ? lines[start + 1] : ""
        let indent = String(first.prefix { $0 == " " })
        guard !indent.isEmpty else { throw HarnessError(message: "configmap.yaml: config.json is empty") }
        let body = lines[(start + 1)...].prefix { $0.hasPrefix(indent) || $0.isEmpty }
        return body.map { String($0.dropFirst(min(indent.count, $0.count))) }.joined(separator: "\n")
    }

    /// The `args: [...]` list of a manifest.
    static func arguments(_ file: String) throws -> [String] {
        let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("args:") }),
              let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { throw HarnessError(message: "\(file) has no args list") }
        return line[line.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }
    }

    @Test func theConfigMapValidatesAndTheManifestsArgumentsParse() throws {
        let config = try Self.configJSON()
        let h = try Harness(config: config)
        defer { h.remove() }
        let validated = try h.run(["config", "validate"])
        #expect(validated.code == 0, "\(validated.stdout) \(validated.stderr)")
        for file in ["cronjob.yaml", "migrate-job.yaml"] {
            var arguments = try Self.arguments(file)
            #expect(arguments.contains("--config") && arguments.contains("--state-dir"), "\(file): \(arguments)")
            // Pointed at this test's files; the database host of the example does not resolve here.
            if let k = arguments.firstIndex(of: "--config") { arguments[k + 1] = h.configPath }
            if let k = arguments.firstIndex(of: "--state-dir") { arguments[k + 1] = h.stateDir }
            let r = try h.run(arguments, environment: ["TRADEJOB_STATE_PASSWORD": "unused"], addPaths: false)
            #expect(r.code == 69, "\(file): \(arguments) → \(r.code) \(r.stderr)")
        }
    }
}
