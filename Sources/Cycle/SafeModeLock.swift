import Foundation
import TradingDomain
import Storage

/// The safe-mode lockfile `<state>/safe_mode.lock`: while it holds (now < until) the job opens nothing,
/// adds nothing, and keeps closing whatever is left. Written atomically; mirrored by events in the database.
public struct SafeModeLock: Codable, Sendable, Equatable {
    public var reason: String
    /// What tripped it: a protection name, `manual`, or `unreadable_lock`.
    public var trigger: String
    /// RFC 3339 UTC.
    public var enteredAt: String
    /// RFC 3339 UTC: when the cooldown ends.
    public var until: String
    /// Symbols whose positions were closed by the emergency closure (so far).
    public var positionsClosed: [Symbol]
    /// Symbols still to close (the closure is retried every run until this is empty).
    public var positionsPending: [Symbol]
    /// Leave safe mode by itself after `until` (from `safe_mode.auto_resume` when entered).
    public var autoResume: Bool

    enum CodingKeys: String, CodingKey {
        case reason, trigger, until
        case enteredAt = "entered_at"
        case positionsClosed = "positions_closed"
        case positionsPending = "positions_pending"
        case autoResume = "auto_resume"
    }

    public init(reason: String, trigger: String, enteredAt: Int64, until: Int64, positionsClosed: [Symbol] = [],
                positionsPending: [Symbol] = [], autoResume: Bool) {
        self.reason = reason
        self.trigger = trigger
        self.enteredAt = Timestamp.rfc3339(enteredAt)
        self.until = Timestamp.rfc3339(until)
        self.positionsClosed = positionsClosed
        self.positionsPending = positionsPending
        self.autoResume = autoResume
    }

    public var untilMs: Int64? { Timestamp.parse(until) }
    public var enteredAtMs: Int64? { Timestamp.parse(enteredAt) }

    /// What reading the lockfile found.
    public enum Reading: Sendable, Equatable {
        case absent
        case present(SafeModeLock)
        /// The file exists but cannot be read or parsed: the job stays in safe mode (fail closed).
        case unreadable(String)
    }

    public static func path(stateDirectory: String) -> String { stateDirectory + "/safe_mode.lock" }

    public static func read(stateDirectory: String) -> Reading {
        let path = path(stateDirectory: stateDirectory)
        guard FileManager.default.fileExists(atPath: path) else { return .absent }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unreadable("\(path) exists but cannot be read")
        }
        return parse(data, origin: path)
    }

    /// A stored lock's bytes as a reading (`origin` names where they came from in messages): anything that is not a
    /// complete lock is `unreadable`, which holds safe mode (fail closed).
    public static func parse(_ data: Data, origin: String) -> Reading {
        do {
            let lock = try JSONDecoder().decode(SafeModeLock.self, from: data)
            guard lock.untilMs != nil, lock.enteredAtMs != nil else {
                return .unreadable("\(origin): entered_at/until are not RFC 3339 times")
            }
            return .present(lock)
        } catch {
            return .unreadable("\(origin) is not a valid safe-mode lock (\(error))")
        }
    }

    /// The lock as stored: pretty-printed JSON, keys sorted.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public func write(stateDirectory: String) throws {
        try AtomicFile.write(try encoded(), to: Self.path(stateDirectory: stateDirectory))
    }

    public static func remove(stateDirectory: String) throws {
        let path = path(stateDirectory: stateDirectory)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }

    /// How to leave safe mode by hand.
    public static let clearHint = "run `tradejob safe-mode clear` (with the same --state-dir) once the cause is understood"
}

/// Where the cycle keeps the safe-mode lock: the lockfile of the state directory for the job, memory for backtests.
public protocol SafeModeLockStorage: Sendable {
    func read() -> SafeModeLock.Reading
    func write(_ lock: SafeModeLock) throws
    func remove() throws
}

/// The lockfile `<state>/safe_mode.lock`.
public struct SafeModeLockFile: SafeModeLockStorage {
    public let stateDirectory: String
    public init(stateDirectory: String) { self.stateDirectory = stateDirectory }
    public func read() -> SafeModeLock.Reading { SafeModeLock.read(stateDirectory: stateDirectory) }
    public func write(_ lock: SafeModeLock) throws { try lock.write(stateDirectory: stateDirectory) }
    public func remove() throws { try SafeModeLock.remove(stateDirectory: stateDirectory) }
}

/// The lock held in memory (backtests: safe mode works exactly as in the job, without touching any file).
public final class SafeModeLockInMemory: SafeModeLockStorage, @unchecked Sendable {
    private let mutex = NSLock()
    private var lock: SafeModeLock?
    public init() {}
    public func read() -> SafeModeLock.Reading { mutex.withLock { lock.map { .present($0) } ?? .absent } }
    public func write(_ lock: SafeModeLock) throws { mutex.withLock { self.lock = lock } }
    public func remove() throws { mutex.withLock { lock = nil } }
}
