import Foundation
import Backtest
import TradingDomain

/// What `tradejob optimize` maximises.
public enum Objective: String, CaseIterable, Sendable {
    /// Annualised Sharpe ratio of the per-cycle equity returns (the backtest summary's).
    case sharpe
    /// Annualised Sortino ratio (the backtest summary's).
    case sortino
    /// CAGR over the maximum drawdown.
    case calmar
    /// Total return.
    case profit
    /// System quality number: √trades × mean trade P&L / its sample standard deviation.
    case sqn

    /// The objective's value for `metrics` (higher is better).
    public func score(_ metrics: TrialMetrics) -> Double {
        switch self {
        case .sharpe: return metrics.sharpe
        case .sortino: return metrics.sortino
        case .calmar: return metrics.calmar
        case .profit: return metrics.totalReturn
        case .sqn: return metrics.sqn
        }
    }
}

extension TrialMetrics {
    /// The figures of a backtest: the summary's, plus Calmar and SQN.
    public init(_ result: BacktestResult) {
        let summary = BacktestSummary(result)
        let sqn = Self.systemQuality(result.trades.map(\.pnl.double))
        self.init(totalReturn: summary.totalReturn, cagr: summary.cagr, sharpe: summary.sharpe, sortino: summary.sortino,
                  calmar: summary.maxDrawdown > 0 ? summary.cagr / summary.maxDrawdown : 0, maxDrawdown: summary.maxDrawdown,
                  sqn: sqn, trades: summary.trades, winRate: summary.winRate,
                  profitFactor: summary.profitFactor.isFinite ? summary.profitFactor : Double.greatestFiniteMagnitude,
                  buyAndHold: result.buyAndHoldReturn)
    }

    /// √n × mean / sample standard deviation of the trades' P&L (0 with fewer than two trades or no spread).
    public static func systemQuality(_ pnl: [Double]) -> Double {
        guard pnl.count > 1 else { return 0 }
        let mean = pnl.reduce(0, +) / Double(pnl.count)
        let variance = pnl.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(pnl.count - 1)
        return variance > 0 ? Double(pnl.count).squareRoot() * mean / variance.squareRoot() : 0
    }
}
