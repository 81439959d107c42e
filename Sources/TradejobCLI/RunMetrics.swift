import Foundation
import Logging
import Cycle
import Settings
import Storage

/// Writes the run's Prometheus metrics (see the Operations module).
enum RunMetrics {
    static func write(report: CycleReport, config: ResolvedConfig, stateDirectory: String, database: StateDatabase, logger: Logger) throws {}
}
