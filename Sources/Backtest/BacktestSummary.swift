import Foundation
import TradingDomain

/// Performance figures of a backtest. Returns are per cycle (equity point to equity point); Sharpe and Sortino are
/// annualised with the number of cycles per year implied by the period (risk-free rate 0); CAGR uses the period's
/// length in years of 365.25 days; exposure is the share of cycles that ended holding a position.
public struct BacktestSummary: Sendable {
    public var totalReturn: Double
    /// Buy and hold over the same period (`BacktestResult.buyAndHoldReturn`), to compare the total return with.
    public var buyAndHold: Double
    public var cagr: Double
    public var sharpe: Double
    public var sortino: Double
    public var maxDrawdown: Double
    public var trades: Int
    public var winRate: Double
    public var profitFactor: Double
    public var exposure: Double
    public var fees: Money
    public var safeModeShare: Double
    public var runsPerInterval: [Int64: Int]

    public init(_ r: BacktestResult) {
        let e = r.equity
        let start = r.startingCash.double
        let final = e.lastEquity ?? start
        totalReturn = start > 0 ? final / start - 1 : 0
        buyAndHold = r.buyAndHoldReturn
        let span = Double((e.lastTime ?? 0) - (e.firstTime ?? 0)) / 1000 / 86_400 / 365.25
        cagr = span > 0 && final > 0 && start > 0 ? pow(final / start, 1 / span) - 1 : 0
        let mean = e.returns > 0 ? e.returnSum / Double(e.returns) : 0
        let sd = e.returnDeviation
        let downside = e.returns > 0 ? sqrt(e.downsideSquares / Double(e.returns)) : 0
        let perYear = span > 0 ? Double(e.returns) / span : 0
        sharpe = sd > 0 ? mean / sd * sqrt(perYear) : 0
        sortino = downside > 0 ? mean / downside * sqrt(perYear) : 0
        maxDrawdown = e.maxDrawdown
        trades = r.trades.count
        let wins = r.trades.filter { $0.pnl > 0 }
        winRate = r.trades.isEmpty ? 0 : Double(wins.count) / Double(r.trades.count)
        // Sums in analytics (Double) where fixed point would overflow.
        let gainList = wins.map(\.pnl), lossList = r.trades.filter { $0.pnl < 0 }.map(\.pnl)
        let gains = (try? gainList.total().double) ?? gainList.reduce(0) { $0 + $1.double }
        let losses = -((try? lossList.total().double) ?? lossList.reduce(0) { $0 + $1.double })
        profitFactor = losses > 0 ? gains / losses : (gains > 0 ? .infinity : 0)
        exposure = r.cycles > 0 ? Double(r.cyclesInMarket) / Double(r.cycles) : 0
        fees = (try? r.trades.map(\.fees).total()) ?? Money(raw: .max)
        safeModeShare = e.points > 0 ? Double(e.safeModePoints) / Double(e.points) : 0
        runsPerInterval = r.runsPerInterval
    }

    public var text: String {
        var lines = [
            String(format: "total return   %.4f%%", totalReturn * 100),
            String(format: "buy and hold   %.4f%%", buyAndHold * 100),
            String(format: "CAGR           %.4f%%", cagr * 100),
            String(format: "Sharpe         %.4f", sharpe),
            String(format: "Sortino        %.4f", sortino),
            String(format: "max drawdown   %.4f%%", maxDrawdown * 100),
            "trades         \(trades)",
            String(format: "win rate       %.2f%%", winRate * 100),
            String(format: "profit factor  %.4f", profitFactor),
            String(format: "exposure       %.2f%%", exposure * 100),
            "fees           \(fees.text(decimals: 6))",
            String(format: "safe mode      %.2f%% of cycles", safeModeShare * 100),
        ]
        for (interval, count) in runsPerInterval.sorted(by: { $0.key < $1.key }) { lines.append("runs every \(interval / 60) min: \(count)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The output files.
public enum BacktestFiles {
    /// The trade list with the reference file's columns.
    public static func tradesCSV(_ trades: [BacktestTrade]) -> String {
        var out = "entry_time,exit_time,entry_bar,exit_bar,size,entry_price,exit_price,fees,pnl\n"
        for t in trades {
            out += "\(Timestamp.rfc3339(t.entryTime)),\(Timestamp.rfc3339(t.exitTime)),\(t.entryBar),\(t.exitBar),\(t.size),"
            out += "\(t.entryPrice),\(t.exitPrice),\(t.fees),\(t.pnl)\n"
        }
        return out
    }

    /// One line of the equity curve CSV (`time,equity,cash,safe_mode`).
    public static func equityLine(time: Int64, equity: Money, cash: Money, safeMode: Bool) -> String {
        "\(Timestamp.rfc3339(time)),\(equity),\(cash),\(safeMode ? 1 : 0)\n"
    }
}
