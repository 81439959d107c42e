import ArgumentParser
import Foundation
import TradingDomain
import Cycle
import Operations
import Storage

/// `tradejob report --html FILE`: one self-contained HTML page with the equity and drawdown charts, safe-mode periods,
/// per-symbol statistics and the trades.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Write a self-contained HTML report (equity, drawdown, safe mode, trades).")
    @OptionGroup var options: CommonOptions
    @Option(help: "The HTML file to write.") var html: String

    func run() throws {
        guard let (equity, trades) = try options.readState({ ledger in (try ledger.equityHistory(), try ClosedTrades.load(ledger, since: 0)) }) else {
            throw UsageError(message: "no state in \(options.stateDirectory) yet: run `tradejob run` first")
        }
        let page = HTMLReport.render(title: "tradejob report", equity: equity, trades: trades, time: Timestamp.rfc3339)
        try AtomicFile.write(page, to: html)
        print("wrote \(html): \(equity.count) equity points, \(trades.count) trades")
    }
}
