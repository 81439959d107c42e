import Foundation
import GRDB

/// Crash testing: with `TRADEJOB_CRASH_AFTER_COMMIT=k` the process dies (`_exit(137)`, as if killed with -9) right
/// after its k-th committed transaction on the state database, counting from the database's opening (migrations
/// included). The crash-at-every-commit tests run a cycle once for every k and check that the next run finishes the
/// work. Unset in production: nothing is installed then.
public enum CommitFailpoint {
    /// The k to die at, from the environment (nil when unset or not a positive number).
    public static let target: Int? = ProcessInfo.processInfo.environment["TRADEJOB_CRASH_AFTER_COMMIT"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }

    /// Counts the commits of `database` and dies after the target one.
    public static func install(on database: DatabaseQueue) {
        guard let target else { return }
        database.add(transactionObserver: CommitCounter(target: target), extent: .databaseLifetime)
    }

    /// Commits counted by `countCommit` (stores other than SQLite: the PostgreSQL state).
    nonisolated(unsafe) private static var commitsElsewhere = 0
    private static let commitsLock = NSLock()

    /// Counts one committed transaction of a store that has no observer (PostgreSQL) and dies after the target one.
    public static func countCommit() {
        guard let target else { return }
        let reached = commitsLock.withLock { commitsElsewhere += 1; return commitsElsewhere == target }
        if reached { _exit(137) }
    }

    private final class CommitCounter: TransactionObserver, @unchecked Sendable {
        let target: Int
        var commits = 0
        init(target: Int) { self.target = target }
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) {
            commits += 1
            if commits == target { _exit(137) }
        }
        func databaseDidRollback(_ db: Database) {}
    }
}
