import ArgumentParser
import Foundation
import Cycle
import MarketData
import TechnicalAnalysis
import Settings
import Storage
import PostgresStorage

/// The documented exit codes, and the one place errors are mapped to them.
public enum TradejobExit: Int32, Sendable {
    /// Cycle done (or not due).
    case ok = 0
    /// Cycle done, but some symbols failed.
    case symbolsFailed = 1
    /// A check (`check lookahead`, `check recursive`) found a problem.
    case checkFailed = 2
    /// Wrong command-line usage.
    case usage = 64
    /// An input file given on the command line is malformed (CSV for `backtest`/`analyze`).
    case dataError = 65
    /// The PostgreSQL state cannot be reached (refused, timed out, the server shutting down): nothing was done.
    case unavailable = 69
    /// Internal error (including an unreadable state database).
    case internalError = 70
    /// A file cannot be written (an output such as `--html`, or a state file).
    case cannotCreate = 73
    /// Another cycle holds the run lock.
    case locked = 75
    /// Invalid configuration.
    case config = 78
    /// Interrupted by SIGINT (128 + 2).
    case interruptedByINT = 130
    /// Interrupted by SIGTERM (128 + 15).
    case interruptedByTERM = 143

    /// Maps an error to its exit code and message.
    static func of(_ error: Error) -> (TradejobExit, String) {
        switch error {
        case let e as ConfigError: return (.config, "\(e)")
        case let e as APIKeyRefused: return (.config, "\(e)")
        case let e as RunLock.Held: return (.locked, "\(e)")
        case let e as UsageError: return (.usage, e.message)
        case let e as MarketDataError: return (.dataError, "\(e)")
        case let e as OHLCVParseError: return (.dataError, "\(e)")
        case let e as InputFileError: return (.dataError, e.message)
        case let e as StateDatabaseError: return (e.kind == .notWritable ? .cannotCreate : .internalError, "\(e)")
        case let e as AtomicFileError: return (.cannotCreate, "cannot write \(e)")
        case let e as CorruptRow: return (.internalError, "\(e)")
        case let e as PostgresRunLockHeld: return (.locked, "\(e)")
        case let e as PostgresStateError:
            // SQLSTATE class 28: the server refused the user or password (configuration); 08 and 57P: the connection
            // (unavailable, try later); no SQLSTATE: no answer at all.
            // (3D000: no such database.) A state that is not what the command needs (a newer schema): exit 70.
            if let state = e.sqlState, state.hasPrefix("28") || state == "3D000" { return (.config, "\(e)") }
            // The client cannot connect as configured (no password, TLS): configuration too.
            if e.kind == .refused { return (.config, "\(e)") }
            if e.kind == .unreachable || e.sqlState?.hasPrefix("08") == true || e.sqlState?.hasPrefix("57P") == true { return (.unavailable, "\(e)") }
            return (.internalError, "\(e)")
        default: return (.internalError, "internal error: \(error)")
        }
    }
}

/// A usage problem found after parsing (exit 64).
struct UsageError: Error {
    let message: String
}

/// Thrown by commands to end with a given code after printing what they had to say.
struct ExitWith: Error {
    let code: TradejobExit
}
