import Foundation
import Settings
import Storage
import TradingDomain
#if canImport(Glibc)
import Glibc
#endif

/// `tradejob run --if-due … ` when the cycle is not due: the cron/timer tick that runs every few minutes and almost
/// always only finds out that it is not time yet. Answered before the argument parser, which discovers its options
/// through reflection, and without any dynamic cast or `print` (each first cast scans the binary's conformance
/// records): from start to exit this costs about what a "hello world" costs.
///
/// Only the plain forms are answered here: `run`, `--if-due`, and the common options `--config`, `--state-dir`,
/// `--log-level`, `--log-format` (`--name value` or `--name=value`), `--now`, `--live`. Anything else, a cycle that
/// is due, and every problem (a bad config, a live config without `--live`, an unreadable `next_run`) take the normal
/// path, which parses everything again and reports as usual. The configuration is validated in full unless
/// `ConfigCheck` shows that this very input already validated; the live rules are `RunCommand.checkLive` and the
/// not-due rule is `NextRunFile.notDue`, shared by both paths.
public enum IfDueFastPath {
    /// The not-due line to print, or nil to take the normal path.
    public static func notDueMessage(arguments: [String], environment: [String: String]) -> String? {
        notDueMessage(arguments: arguments, environment: TickEnvironment(environment), executable: ConfigCheck.executableIdentity())
    }

    /// The not-due line for this process (its arguments and environment, read without building a dictionary), or nil.
    public static func notDueMessageForThisProcess() -> String? {
        guard let environment = TickEnvironment.ofThisProcess() else { return nil }
        return notDueMessage(arguments: CommandLine.arguments, environment: environment, executable: ConfigCheck.executableIdentity())
    }

    /// As above, with the identity of the running executable given (`ConfigCheck.executableIdentity`; nil: unknown,
    /// so the configuration is always validated).
    static func notDueMessage(arguments: [String], environment: TickEnvironment, executable: String?) -> String? {
        // The plain forms `RunArguments` reads by hand (anything else takes the normal path).
        guard let options = RunArguments.plain(arguments), options.ifDue else { return nil }
        var nowMs: Int64
        if let now = options.now {
            guard let parsed = Timestamp.parse(now) else { return nil }
            nowMs = parsed
        } else {
            var clock = timespec()
            clock_gettime(CLOCK_REALTIME, &clock)
            nowMs = Int64(clock.tv_sec) * 1000 + Int64(clock.tv_nsec) / 1_000_000
        }
        let configPath = options.config ?? environment["TRADEJOB_CONFIG"] ?? "config/default.json"
        let stateDirectory = CommonOptions.stateDirectory(options.stateDir, variable: environment["TRADEJOB_STATE_DIR"])
        guard let bytes = FileBytes.read(configPath) else { return nil }
        let mode: String, graceSeconds: Int
        if let executable, let stored = ConfigCheck.stored(stateDirectory: stateDirectory),
           stored == ConfigCheck.Record(configPath: configPath, configBytes: bytes, variables: environment.tradejobVariables, executable: executable,
                                        mode: stored.mode, graceSeconds: stored.graceSeconds) {
            (mode, graceSeconds) = (stored.mode, stored.graceSeconds)
        } else {
            // A PostgreSQL state keeps its schedule in the database: the normal path reads it there.
            guard let config = try? ConfigLoader.resolve(data: Data(bytes), file: configPath, environment: environment.all()),
                  config.string("state.url").isEmpty else { return nil }
            (mode, graceSeconds) = (config.string("mode"), config.int("schedule.grace_seconds"))
        }
        let liveVariable = environment["TRADEJOB_LIVE"]
        guard (try? RunCommand.checkLive(mode: mode, liveFlag: options.live, nowGiven: options.now != nil, liveVariable: liveVariable)) != nil else { return nil }
        return NextRunFile.notDue(stateDirectory: stateDirectory, now: nowMs, grace: Int64(graceSeconds) * 1000)
    }

    /// Writes `line` and a newline to standard output with one `write(2)` (no `print`: it casts its argument).
    public static func emit(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return write(1, base + offset, b.count - offset)
            }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// The environment as the fast path needs it: the `TRADEJOB…` variables (all it reads, and part of the config's
/// check) and, only for a full validation, every variable.
struct TickEnvironment {
    /// Every variable whose name starts with `TRADEJOB` in any case, and every configuration override, as (name, value).
    let tradejobVariables: [(name: String, value: String)]
    /// Every variable (called only when the configuration is validated in full).
    let all: () -> [String: String]

    init(_ environment: [String: String]) {
        tradejobVariables = ConfigCheck.tradejobVariables(of: environment)
        all = { environment }
    }

    private init(tradejobVariables: [(name: String, value: String)], all: @escaping () -> [String: String]) {
        self.tradejobVariables = tradejobVariables
        self.all = all
    }

    /// This process's environment, read from `environ` without building a dictionary (whose first use costs a scan of
    /// the binary's conformance records); nil when a `TRADEJOB…` name is set twice (the normal path then decides).
    static func ofThisProcess() -> TickEnvironment? {
        var variables: [(name: String, value: String)] = []
        var entry = environ
        while let pointer = entry.pointee {
            entry += 1
            guard ConfigCheck.isTradejobVariable(cName: pointer) || ConfigCheck.mayBeNonASCIIOverride(cName: pointer) else { continue }
            let text = String(cString: pointer)
            guard let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(text[..<equals]), value = String(text[text.utf8.index(after: equals)...])
            guard ConfigCheck.isTradejobVariable(name) || ConfigCheck.isOverride(name) else { continue }
            if variables.contains(where: { $0.name == name }) { return nil }
            variables.append((name, value))
        }
        return TickEnvironment(tradejobVariables: variables, all: { ProcessInfo.processInfo.environment })
    }

    subscript(name: String) -> String? { tradejobVariables.first(where: { $0.name == name })?.value }
}

/// Whole small files read with `open`/`read` (no Foundation objects on the fast path).
enum FileBytes {
    /// The bytes of `path`; nil when it cannot be read or is longer than `limit`.
    static func read(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit { return nil }
        }
    }
}

/// `<state>/config_checked`: what the last cycle learnt from validating its configuration (`mode` and
/// `schedule.grace_seconds`, all a not-due tick needs) and a check: a hash of these two and of everything that
/// validation depends on — the config file's path and bytes, the configuration overrides `TRADEJOB__…` (names and
/// values, exactly the variables `ConfigLoader` reads; `TRADEJOB_LIVE` is applied afresh on every tick, secrets such
/// as the API key are not part of it) and the running executable (device, inode, size and modification time of
/// `/proc/self/exe`, so another build or an upgrade validates again). A not-due tick whose own input gives the stored
/// check does not validate the configuration again; any change (a byte of the file, an override, another binary, an
/// edited or damaged record) or a missing or unreadable record means full validation, so a broken config is still
/// reported at the next tick.
///
/// Written by a cycle (never by a not-due tick, which writes nothing), only when its content changes, atomically; it
/// is only a shortcut: without it each tick validates in full until the next cycle.
enum ConfigCheck {
    static let fileName = "config_checked"
    static let header = "tradejob config check 1"

    /// A validated input's results and their check.
    struct Record: Equatable {
        let mode: String
        let graceSeconds: Int
        /// 32 hex digits: `ConfigCheck.check` of the input and the results.
        let check: String

        init(mode: String, graceSeconds: Int, check: String) {
            self.mode = mode
            self.graceSeconds = graceSeconds
            self.check = check
        }

        /// The record of `configBytes` (read from `configPath`), validated with `variables` in `executable`.
        init<Bytes: Collection<UInt8>>(configPath: String, configBytes: Bytes, variables: [(name: String, value: String)], executable: String,
                                       mode: String, graceSeconds: Int) {
            self.init(mode: mode, graceSeconds: graceSeconds,
                      check: ConfigCheck.check(configPath: configPath, configBytes: configBytes, variables: variables,
                                               executable: executable, mode: mode, graceSeconds: graceSeconds))
        }

        var text: String { ConfigCheck.header + "\nmode " + mode + "\ngrace_seconds " + String(graceSeconds) + "\ncheck " + check + "\n" }

        /// Parses `bytes`; nil unless they are exactly the form `text` writes. Byte by byte (no `split`: its generic
        /// types cost the fast path their first instantiation).
        init?(bytes: [UInt8]) {
            var k = 0
            /// The rest of the line after `prefix` (each byte `allowed`), up to its newline.
            func field(_ prefix: String, allowed: (UInt8) -> Bool) -> String? {
                for byte in prefix.utf8 {
                    guard k < bytes.count, bytes[k] == byte else { return nil }
                    k += 1
                }
                let value = k
                while k < bytes.count, bytes[k] != 0x0A {
                    guard allowed(bytes[k]) else { return nil }
                    k += 1
                }
                guard k < bytes.count else { return nil }
                k += 1
                return String(decoding: bytes[value..<(k - 1)], as: UTF8.self)
            }
            let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
            guard field(ConfigCheck.header, allowed: { _ in false }) != nil,
                  let mode = field("mode ", allowed: { $0 > 0x20 && $0 < 0x7F }), !mode.isEmpty,
                  let graceText = field("grace_seconds ", allowed: isDigit), !graceText.isEmpty, graceText.utf8.count <= 9,
                  let grace = Int(graceText),
                  let check = field("check ", allowed: { isDigit($0) || ($0 >= 0x61 && $0 <= 0x66) }), check.utf8.count == 32,
                  k == bytes.count
            else { return nil }
            self.init(mode: mode, graceSeconds: grace, check: check)
        }
    }

    /// The record in `stateDirectory`, nil when it is missing, unreadable or malformed.
    static func stored(stateDirectory: String) -> Record? {
        guard let bytes = FileBytes.read(stateDirectory + "/" + fileName, limit: 4096) else { return nil }
        return Record(bytes: bytes)
    }

    /// Records that `configBytes` (read from `configPath`) validated with `environment` in this executable, giving
    /// `mode` and `graceSeconds`; written unless the same is stored already. Failures are ignored (only a shortcut).
    static func record<Bytes: Collection<UInt8>>(configPath: String, configBytes: Bytes, environment: [String: String], mode: String,
                                                 graceSeconds: Int, stateDirectory: String, executable: String? = executableIdentity()) {
        guard let executable else { return }
        let record = Record(configPath: configPath, configBytes: configBytes, variables: tradejobVariables(of: environment),
                            executable: executable, mode: mode, graceSeconds: graceSeconds)
        guard stored(stateDirectory: stateDirectory) != record else { return }
        // Not synced: a record lost in a power loss only makes the next tick validate the configuration again.
        try? AtomicFile.write(record.text, to: stateDirectory + "/" + fileName, sync: false)
    }

    /// Two FNV-1a 64-bit hashes (different offsets) of the input and the results, as 32 hex digits.
    static func check<Bytes: Collection<UInt8>>(configPath: String, configBytes: Bytes, variables: [(name: String, value: String)],
                                                executable: String, mode: String, graceSeconds: Int) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        func add<S: Sequence<UInt8>>(_ bytes: S) {
            for byte in bytes {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                b = (b ^ UInt64(byte ^ 0x5A)) &* 0x0000_0100_0000_01b3
            }
        }
        // Each field's length before its bytes, so that no two different inputs make the same stream.
        func field<S: Collection<UInt8>>(_ bytes: S) {
            add(String(bytes.count).utf8)
            add(CollectionOfOne(UInt8(ascii: ":")))
            add(bytes)
        }
        field(header.utf8)
        field(executable.utf8)
        field(configPath.utf8)
        field(configBytes)
        let sorted = variables.filter { isOverride($0.name) }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        field(String(sorted.count).utf8)
        for variable in sorted {
            field(variable.name.utf8)
            field(variable.value.utf8)
        }
        field(mode.utf8)
        field(String(graceSeconds).utf8)
        return hex(a) + hex(b)
    }

    /// The variables of `environment` the fast path reads: `TRADEJOB…` (any case) and the configuration overrides.
    static func tradejobVariables(of environment: [String: String]) -> [(name: String, value: String)] {
        environment.filter { isTradejobVariable($0.key) || isOverride($0.key) }.map { (name: $0.key, value: $0.value) }
    }

    /// Whether `ConfigLoader` takes the variable `name` as a configuration override: its very test
    /// (`uppercased()` starts with `TRADEJOB__`), without Unicode case tables for an ASCII name.
    static func isOverride(_ name: String) -> Bool {
        guard name.utf8.allSatisfy({ $0 < 0x80 }) else { return name.uppercased().hasPrefix(ConfigLoader.environmentPrefix) }
        var letters = ConfigLoader.environmentPrefix.utf8.makeIterator()
        for byte in name.utf8 {
            guard let letter = letters.next() else { return true }
            let upper = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            guard upper == letter else { return false }
        }
        return letters.next() == nil
    }

    /// Whether the name of the C string `entry` (`NAME=value`) has a non-ASCII byte (it might then be an override
    /// whose upper case starts with `TRADEJOB__`; `isOverride` decides).
    static func mayBeNonASCIIOverride(cName entry: UnsafePointer<CChar>) -> Bool {
        var k = 0
        while entry[k] != 0 && entry[k] != 0x3D {
            if UInt8(bitPattern: entry[k]) >= 0x80 { return true }
            k += 1
        }
        return false
    }

    /// Whether the C string `entry` (a `NAME=value` of `environ`) starts with `TRADEJOB` in any case.
    static func isTradejobVariable(cName entry: UnsafePointer<CChar>) -> Bool {
        var k = 0
        for letter in "TRADEJOB".utf8 {
            let byte = UInt8(bitPattern: entry[k])
            guard byte == letter || byte == letter + 0x20 else { return false }
            k += 1
        }
        return true
    }

    /// Whether `name` starts with `TRADEJOB` in any case (the overrides `TRADEJOB__…` are case-insensitive).
    static func isTradejobVariable(_ name: String) -> Bool {
        var letters = "TRADEJOB".utf8.makeIterator()
        for byte in name.utf8 {
            guard let letter = letters.next() else { return true }
            guard byte == letter || byte == letter + 0x20 else { return false }
        }
        return letters.next() == nil
    }

    /// The running executable as `device:inode:size:mtime`, nil when it cannot be found out.
    static func executableIdentity() -> String? {
        var info = stat()
        guard stat("/proc/self/exe", &info) == 0 else { return nil }
        return String(info.st_dev) + ":" + String(info.st_ino) + ":" + String(info.st_size) + ":" + String(info.st_mtim.tv_sec) + "."
            + String(info.st_mtim.tv_nsec)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        for k in 0..<16 { out[k] = digits[Int((value >> UInt64(60 - 4 * k)) & 0xF)] }
        return String(decoding: out, as: UTF8.self)
    }
}
