import TradingDomain

/// `tradejob run`'s options as plain values: what `RunCommand` holds once ArgumentParser has parsed them.
///
/// `plain(_:)` reads the usual forms by hand, so that a cycle starts without ArgumentParser's discovery of its options
/// (reflection over the command and the first look-ups of many protocol conformances, about 1.7 ms of a cycle). It
/// answers only what it is sure ArgumentParser reads the same way; every other argument list — help, an unknown or
/// repeated option, a missing, empty or dash-led value, a `--now` that `RunCommand.validate` refuses — gets nil and
/// goes to ArgumentParser, which reports it as it always did (`RunArgumentsTests` compares the two on a table).
struct RunArguments: Equatable {
    var config: String?
    var stateDir: String?
    var logLevel: String?
    var logFormat: String?
    var ifDue = false
    var now: String?
    var live = false

    /// The options of `tradejob run …` (`arguments` is the whole command line, the executable first), or nil when the
    /// command is not `run` or the arguments are not all in the plain forms: `--if-due`, `--live`, and `--config`,
    /// `--state-dir`, `--log-level`, `--log-format`, `--now` as `--name value` or `--name=value`, each at most once.
    static func plain(_ arguments: [String]) -> RunArguments? {
        guard arguments.count >= 2, arguments[1] == "run" else { return nil }
        var parsed = RunArguments()
        var k = 2
        while k < arguments.count {
            let argument = arguments[k]
            k += 1
            if argument == "--if-due" || argument == "--live" {
                if argument == "--if-due" {
                    guard !parsed.ifDue else { return nil }
                    parsed.ifDue = true
                } else {
                    guard !parsed.live else { return nil }
                    parsed.live = true
                }
                continue
            }
            let name: Substring, value: String
            if let equals = argument.firstIndex(of: "=") {
                name = argument[..<equals]
                value = String(argument[argument.index(after: equals)...])
            } else {
                guard k < arguments.count else { return nil }
                name = argument[...]
                value = arguments[k]
                k += 1
            }
            // An empty or dash-led value, and the words ArgumentParser treats as a request for help, are its to read.
            guard let first = value.utf8.first, first != UInt8(ascii: "-"), value != "help" else { return nil }
            func fill(_ slot: inout String?) -> Bool {
                guard slot == nil else { return false }
                slot = value
                return true
            }
            let filled: Bool
            switch name {
            case "--config": filled = fill(&parsed.config)
            case "--state-dir": filled = fill(&parsed.stateDir)
            case "--log-level": filled = fill(&parsed.logLevel)
            case "--log-format": filled = fill(&parsed.logFormat)
            case "--now": filled = fill(&parsed.now)
            default: filled = false
            }
            guard filled else { return nil }
        }
        // `RunCommand.validate`'s rule: a `--now` it would refuse is left to it, for its message.
        if let now = parsed.now, Timestamp.parse(now) == nil { return nil }
        return parsed
    }
}

extension RunCommand {
    /// Its options as plain values.
    var arguments: RunArguments {
        RunArguments(config: options.config, stateDir: options.stateDir, logLevel: options.logLevel, logFormat: options.logFormat,
                     ifDue: ifDue, now: now, live: live)
    }
}
