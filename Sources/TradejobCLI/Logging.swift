import Foundation
import Logging

/// Builds the job's logger from `--log-level`/`TRADEJOB_LOG_LEVEL` (logs go to stderr).
enum Logging {
    static func make(label: String, options: CommonOptions) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        let text = options.logLevel ?? options.environment["TRADEJOB_LOG_LEVEL"] ?? "info"
        logger.logLevel = Logger.Level(rawValue: text.lowercased()) ?? .info
        return logger
    }
}
