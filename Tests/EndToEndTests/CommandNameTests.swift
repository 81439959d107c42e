import ArgumentParser
import Testing
@testable import TradejobCLI

/// Every command names itself: ArgumentParser otherwise derives the name with `String(describing:)` of the type, whose
/// casts and reflection scan every protocol-conformance record of the binary when the command tree is built (about a
/// sixth of `tradejob --help`'s time, `perf record`).
@Suite struct CommandNameTests {
    /// The command tree under `command`, depth first, with each command's path.
    static func tree(_ command: any ParsableCommand.Type, path: String = "") -> [(path: String, command: any ParsableCommand.Type)] {
        let name = command.configuration.commandName ?? "<derived>"
        let here = path.isEmpty ? name : path + " " + name
        return [(here, command)] + command.configuration.subcommands.flatMap { tree($0, path: here) }
    }

    @Test func everyCommandDeclaresItsName() {
        let commands = Self.tree(Tradejob.self)
        #expect(commands.count >= 20, "the tree was not walked: \(commands.map(\.path))")
        let derived = commands.filter { $0.command.configuration.commandName == nil }.map(\.path)
        #expect(derived.isEmpty, "commands without an explicit commandName: \(derived)")
        // Names as users type them: lower case, no spaces (words joined by "-").
        for (path, command) in commands where ObjectIdentifier(command) != ObjectIdentifier(Tradejob.self) {
            let declared = command.configuration.commandName ?? ""
            #expect(declared == declared.lowercased() && !declared.contains(" ") && !declared.isEmpty, "\(path)")
        }
    }
}
