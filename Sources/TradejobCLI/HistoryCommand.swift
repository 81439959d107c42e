import ArgumentParser
import Foundation
import Cycle
import Operations
import Storage
import TradingDomain

/// `tradejob history [--format table|csv|json] [--since RFC3339]`: closed trades.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "List closed trades: entry, exit, quantity, fees, P&L and exit reason.")
    @OptionGroup var options: CommonOptions
    @Option(help: "table, csv or json.") var format: String = "table"
    @Option(help: "Only trades closed at or after this time (RFC 3339).") var since: String?

    func validate() throws {
        guard TradeHistory.Format(rawValue: format) != nil else { throw ValidationError("--format: got \"\(format)\", expected table, csv or json") }
        if let since, Timestamp.parse(since) == nil { throw ValidationError("--since: got \"\(since)\", expected an RFC 3339 time") }
    }

    func run() throws {
        let format = TradeHistory.Format(rawValue: format) ?? .table
        let from = since.flatMap(Timestamp.parse) ?? 0
        let trades = try options.readState { ledger in try ClosedTrades.load(ledger, since: from) } ?? []
        print(TradeHistory.render(trades, format: format, time: Timestamp.rfc3339), terminator: "")
    }
}

/// Closed positions as trades (entries that never filled are left out).
enum ClosedTrades {
    static func load(_ ledger: any Ledger, since: Int64) throws -> [ClosedTrade] {
        try ledger.closedPositions(since: since).filter { $0.exitReason != .entryFailed }.map { p in
            let fills = try ledger.orders(positionID: p.id).flatMap { try ledger.fills(clientOrderID: $0.clientOrderID) }
            let bought = try fills.filter { $0.side == .buy }.totalQuantity()
            return ClosedTrade(symbol: p.symbol, entryTime: p.openedAt, exitTime: p.closedAt ?? p.openedAt, quantity: bought,
                               entryPrice: p.initialEntryPrice, exitPrice: p.exitPrice ?? 0, fees: p.fees, pnl: p.realizedPnL,
                               exitReason: p.exitReason?.rawValue ?? "")
        }
    }
}
