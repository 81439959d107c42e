import Foundation
import TradingDomain

/// A closed trade as reports show it.
public struct ClosedTrade: Sendable, Equatable {
    public var symbol: Symbol
    public var entryTime: Int64
    public var exitTime: Int64
    /// Largest quantity held is not tracked; this is the quantity bought in total.
    public var quantity: Quantity
    public var entryPrice: Price
    public var exitPrice: Price
    public var fees: Money
    public var pnl: Money
    public var exitReason: String

    public init(symbol: Symbol, entryTime: Int64, exitTime: Int64, quantity: Quantity, entryPrice: Price, exitPrice: Price,
                fees: Money, pnl: Money, exitReason: String) {
        self.symbol = symbol
        self.entryTime = entryTime
        self.exitTime = exitTime
        self.quantity = quantity
        self.entryPrice = entryPrice
        self.exitPrice = exitPrice
        self.fees = fees
        self.pnl = pnl
        self.exitReason = exitReason
    }
}

/// Renders closed trades as an aligned table, CSV or JSON (deterministic for the same input).
public enum TradeHistory {
    public enum Format: String, Sendable, CaseIterable { case table, csv, json }

    static let header = ["symbol", "entry_time", "exit_time", "quantity", "entry_price", "exit_price", "fees", "pnl", "exit_reason"]

    static func fields(_ t: ClosedTrade, time: (Int64) -> String) -> [String] {
        [t.symbol.rawValue, time(t.entryTime), time(t.exitTime), t.quantity.description, t.entryPrice.description,
         t.exitPrice.description, t.fees.description, t.pnl.description, t.exitReason]
    }

    public static func render(_ trades: [ClosedTrade], format: Format, time: (Int64) -> String) -> String {
        switch format {
        case .csv:
            return ([header] + trades.map { fields($0, time: time) }).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .json:
            let objects = trades.map { t -> String in
                let f = fields(t, time: time)
                let pairs = zip(header, f).map { key, value -> String in
                    let numeric = ["quantity", "entry_price", "exit_price", "fees", "pnl"].contains(key)
                    return "\"\(key)\": " + (numeric ? value : "\"\(value)\"")
                }
                return "  {" + pairs.joined(separator: ", ") + "}"
            }
            return "[\n" + objects.joined(separator: ",\n") + (objects.isEmpty ? "" : "\n") + "]\n"
        case .table:
            let rows = [header] + trades.map { fields($0, time: time) }
            var widths = header.map(\.count)
            for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
            var out = ""
            for (r, row) in rows.enumerated() {
                out += row.enumerated().map { i, cell in
                    i >= 3 && i <= 7 && r > 0 ? String(repeating: " ", count: widths[i] - cell.count) + cell : cell + String(repeating: " ", count: widths[i] - cell.count)
                }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
            }
            let total = (try? trades.map(\.pnl).total())?.text(decimals: 2) ?? "out of range"
            let wins = trades.filter { $0.pnl > 0 }.count
            out += "\(trades.count) trades, \(wins) won, net P&L \(total)\n"
            return out
        }
    }
}
