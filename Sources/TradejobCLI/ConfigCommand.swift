import ArgumentParser
import Foundation
import TradingDomain
import Settings

/// `tradejob config validate|show|template`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Validate, show or template the configuration.",
                                                    subcommands: [Validate.self, Show.self, Template.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "Report every error in the configuration (exit 78 when invalid).")
        @OptionGroup var options: CommonOptions
        func run() throws {
            let config = try options.loadConfig()
            print("\(config.file): valid (hash \(config.hash))" + (config.overriddenByEnvironment.isEmpty ? "" : "; environment overrides: " + config.overriddenByEnvironment.joined(separator: ", ")))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the effective configuration (after environment overrides), secrets redacted.")
        @OptionGroup var options: CommonOptions
        func run() throws {
            print(ConfigDocument.effective(try options.loadConfig()), terminator: "")
        }
    }

    struct Template: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "template", abstract: "Print a complete configuration: every key, its default and a one-line description.")
        @OptionGroup var options: CommonOptions
        @Flag(name: .long, help: "Plain JSON without the description comments.") var json = false
        func run() throws {
            print(ConfigDocument.template(withComments: !json), terminator: "")
        }
    }
}
