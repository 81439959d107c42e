import Foundation
import Logging
import Operations

/// Builds the job's logger from `--log-level`/`TRADEJOB_LOG_LEVEL` and `--log-format`/`TRADEJOB_LOG_FORMAT`
/// (logs go to stderr; the default format is human on a terminal, JSON lines otherwise).
enum Logging {
    static func make(label: String, options: CommonSettings) throws -> Logger {
        let levelText = (options.logLevel ?? options.environment["TRADEJOB_LOG_LEVEL"] ?? "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText) else {
            throw UsageError(message: "log level: got \"\(levelText)\", expected one of trace, debug, info, notice, warning, error, critical")
        }
        let formatText = options.logFormat ?? options.environment["TRADEJOB_LOG_FORMAT"]
        var format = LogFormat.automatic
        if let formatText {
            guard let parsed = LogFormat(rawValue: formatText.lowercased()) else {
                throw UsageError(message: "log format: got \"\(formatText)\", expected human or json")
            }
            format = parsed
        }
        var logger = Logger(label: label) { JobLogHandler(label: $0, format: format) }
        logger.logLevel = level
        return logger
    }
}
