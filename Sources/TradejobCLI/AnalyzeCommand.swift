import ArgumentParser
import Foundation
import TechnicalAnalysis

/// `tradejob analyze --csv FILE`: every golden-file column per bar, as CSV on stdout.
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "analyze", abstract: "Compute every indicator and candlestick pattern per bar of an OHLCV CSV.")
    @OptionGroup var options: CommonOptions
    @Option(help: "OHLCV CSV (header time,open,high,low,close,volume).") var csv: String?
    @Option(help: "Analyse the stored candles of this symbol instead.") var symbol: String?

    func run() throws {
        throw UsageError(message: "analyze: not available yet")
    }
}
