import Foundation
import Brokers
import Cycle
import MarketData
import Strategy
import TradingDomain

/// Whether a backtest's decisions use data from their future (freqtrade's `lookahead-analysis`, on the job's own
/// cycle): the backtest runs on the whole history, then again for each sampled decision with every symbol's history
/// cut at the cycle that took it — the bars closed by then, and the bar opening then reduced to its open price (what a
/// live cycle knows). Every decision up to that cycle must come out the same (time, symbol, side, purpose, quantity,
/// fill price), and the analysis read at that cycle must be the same reading.
public struct LookaheadCheck: Sendable {
    public var runner: BacktestRunner
    /// Decisions re-run at most (spread evenly over all of them).
    public var samples: Int
    /// How an analysis of candles is made (injectable so that a test can show a biased one fails).
    public var makeAnalysis: @Sendable ([Symbol: [Candle]], AnalysisParameters, Int) -> PrecomputedAnalysis

    public init(runner: BacktestRunner, samples: Int = 20,
                makeAnalysis: @escaping @Sendable ([Symbol: [Candle]], AnalysisParameters, Int) -> PrecomputedAnalysis = {
                    PrecomputedAnalysis(candles: $0, parameters: $1, lookback: $2)
                }) {
        self.runner = runner
        self.samples = samples
        self.makeAnalysis = makeAnalysis
    }

    /// One re-run: the cycle time cut at and the first difference found (nil: the same).
    public struct Finding: Sendable, Equatable {
        public var cycleTime: Int64
        public var decisions: Int
        public var difference: String?
    }

    /// What the check found.
    public struct Report: Sendable {
        /// Orders placed over the whole history.
        public var decisions: Int
        public var findings: [Finding]
        public var passed: Bool { findings.allSatisfy { $0.difference == nil } }
    }

    public func run() async throws -> Report {
        let step = runner.parameters.timeframe.milliseconds
        let full = try await backtest(runner.candles, to: runner.to)
        // The cycle times that placed orders, evenly sampled.
        var times: [Int64] = []
        for d in full.decisions where times.last != d.time { times.append(d.time) }
        let chosen = Self.spread(times, count: samples)
        var findings: [Finding] = []
        for t in chosen {
            let cut = Self.cut(runner.candles, at: t, step: step)
            let partial = try await backtest(cut, to: t)
            let expected = full.decisions.filter { $0.time <= t }, got = partial.decisions.filter { $0.time <= t }
            var difference: String?
            if let k = zip(expected, got).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                difference = "decision \(k + 1): with the whole history \(expected[k]), with the history cut at \(Timestamp.rfc3339(t)) \(got[k])"
            } else if expected.count != got.count {
                let extra = expected.count > got.count ? expected[got.count] : got[expected.count]
                difference = expected.count > got.count
                    ? "with the history cut at \(Timestamp.rfc3339(t)) the decision \(extra) is not taken"
                    : "with the history cut at \(Timestamp.rfc3339(t)) a decision not taken with the whole history: \(extra)"
            } else if runner.parameters.strategy.readsIndicators {
                difference = analysisDifference(full: runner.candles, cut: cut, at: t, step: step)
            }
            findings.append(Finding(cycleTime: t, decisions: expected.count, difference: difference))
        }
        return Report(decisions: full.decisions.count, findings: findings)
    }

    func backtest(_ candles: [Symbol: [Candle]], to: Int64?) async throws -> BacktestResult {
        var r = runner
        r.candles = candles
        r.to = to
        r.recordsDecisions = true
        if r.parameters.strategy.readsIndicators { r.precomputed = makeAnalysis(candles, r.parameters.analysis, r.parameters.lookback) }
        return try await r.run()
    }

    /// The readings at the newest bar closed by `t`, made from the whole history and from the cut one.
    func analysisDifference(full: [Symbol: [Candle]], cut: [Symbol: [Candle]], at t: Int64, step: Int64) -> String? {
        let p = runner.parameters
        let whole = makeAnalysis(full, p.analysis, p.lookback), partial = makeAnalysis(cut, p.analysis, p.lookback)
        for symbol in full.keys.sorted() {
            guard let series = full[symbol], let cutSeries = cut[symbol] else { continue }
            let closed = ReplayMarket.lowerBound(series, t - step + 1)
            guard closed > 0 else { continue }
            let window = series[max(0, closed - p.lookback)..<closed], cutWindow = cutSeries[max(0, closed - p.lookback)..<min(closed, cutSeries.count)]
            let a = whole.snapshot(symbol: symbol, candles: window, parameters: p.analysis)
            let b = partial.snapshot(symbol: symbol, candles: cutWindow, parameters: p.analysis)
            if a != b {
                return "\(symbol.rawValue): the analysis at \(Timestamp.rfc3339(series[closed - 1].openTime)) differs (whole history \(Self.describe(a)), cut history \(Self.describe(b)))"
            }
        }
        return nil
    }

    static func describe(_ s: MarketSnapshot?) -> String {
        guard let s else { return "none" }
        return String(format: "close %.6g, EMA %.6g/%.6g, RSI %.6g, ATR %.6g", s.close, s.emaFast, s.emaSlow, s.rsi, s.atr)
    }

    /// Every symbol's bars closed by `t`, and the bar opening at `t` (when there is one) reduced to its open price.
    public static func cut(_ candles: [Symbol: [Candle]], at t: Int64, step: Int64) -> [Symbol: [Candle]] {
        candles.mapValues { series in
            let closed = ReplayMarket.lowerBound(series, t - step + 1)
            var kept = Array(series[..<closed])
            if closed < series.count, series[closed].openTime <= t {
                let o = series[closed].open
                kept.append(Candle(openTime: series[closed].openTime, open: o, high: o, low: o, close: o, volume: 0))
            }
            return kept
        }
    }

    /// At most `count` of `items`, evenly spread, the first and the last among them.
    static func spread<T>(_ items: [T], count: Int) -> [T] {
        guard items.count > count, count > 0 else { return count > 0 ? items : [] }
        if count == 1 { return [items[items.count - 1]] }
        return (0..<count).map { items[$0 * (items.count - 1) / (count - 1)] }
    }
}
