import Foundation

/// Crash-test hooks: `TRADEJOB_FAILPOINT=<name>` makes the process die at once (`_exit(137)`, as if killed)
/// when it reaches the named point, so end-to-end tests can prove that the next run finishes the work.
/// Points: `after-emergency-order` (after the first emergency-closure order), `after-write-ahead` (after an
/// order is committed as PENDING_SUBMIT, before it is sent), `after-submit` (after the venue answered,
/// before the answer is recorded). `sigterm-after-analysis` (`sigint-after-analysis`) sends the process a real SIGTERM (SIGINT) after the
/// analysis and waits for the handler, to test the interrupted path. Unset in production.
enum Failpoint {
    static let active: String? = ProcessInfo.processInfo.environment["TRADEJOB_FAILPOINT"]

    static func hit(_ name: String) {
        if active == name { _exit(137) }
    }
}
