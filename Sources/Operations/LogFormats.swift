import Foundation
import Logging

/// The two log formats: human-readable lines (the default on a terminal) and JSON lines (the default when
/// stderr is not a terminal, e.g. under cron or systemd, so journald and log shippers get structured records).
public enum LogFormat: String, Sendable, CaseIterable {
    case human
    case json

    /// `human` when stderr is a terminal, `json` otherwise.
    public static var automatic: LogFormat { isatty(2) != 0 ? .human : .json }
}

/// Masks secrets in log text: registered secret values and well-known secret-bearing patterns
/// (`signature=…`, `X-MBX-APIKEY: …`, Telegram bot tokens in URLs, `Bearer …`).
public final class SecretRedactor: @unchecked Sendable {
    public static let shared = SecretRedactor()
    private let lock = NSLock()
    private var secrets: [String] = []

    public func register(_ secret: String) {
        guard secret.count >= 4 else { return }
        lock.withLock { if !secrets.contains(secret) { secrets.append(secret) } }
    }

    public func redact(_ text: String) -> String {
        var out = text
        for secret in lock.withLock({ secrets }) { out = out.replacingOccurrences(of: secret, with: "<redacted>") }
        for pattern in [#"signature=[0-9a-fA-F]+"#, #"(?i)x-mbx-apikey[:=]\s*\S+"#, #"/bot[0-9]+:[A-Za-z0-9_-]+"#, #"(?i)bearer\s+\S+"#] {
            if let regex = try? NSRegularExpression(pattern: pattern) {
                out = regex.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "<redacted>")
            }
        }
        return out
    }
}

/// A swift-log handler writing one line per record to stderr, as human text or as a JSON object
/// (`time` RFC 3339 UTC with milliseconds, `level`, `message`, `label`, and every metadata key such as
/// `run_id`, `symbol`, `order_id`). Secrets are masked by `SecretRedactor.shared`.
public struct JobLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let format: LogFormat
    let write: @Sendable (String) -> Void

    public init(label: String, format: LogFormat, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level, message = event.message
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        let redactor = SecretRedactor.shared
        let time = Self.timestamp(Date())
        switch format {
        case .human:
            let meta = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            write(redactor.redact("\(time) \(level.rawValue.uppercased()) \(message)" + (meta.isEmpty ? "" : " [\(meta)]")) + "\n")
        case .json:
            var object: [String: String] = ["time": time, "level": level.rawValue, "message": "\(message)", "label": label]
            for (key, value) in all { object[key] = "\(value)" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let line = (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            write(redactor.redact(line) + "\n")
        }
    }

    static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
