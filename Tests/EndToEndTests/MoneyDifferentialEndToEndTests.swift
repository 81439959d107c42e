import Foundation
import Testing

/// The default strategy's backtests against the outputs the `Decimal` version of tradejob wrote for the same inputs
/// (Tests/BacktestTests/Fixtures/decimal-v1, recorded with that version's debug binary before the money moved to
/// fixed point). The same trades, bars and times. On the committed CSV fixture (prices with at most 8 decimals) trades
/// and equity move by at most one unit of 1e-8 per step (row so far) and the summary's figures by at most one unit of
/// their last printed digit. The simulated market's prices are doubles with up to 17 significant digits, which the
/// `Decimal` version carried whole into sizing and now enter at 1e-8 (`Price(double:)`, one unit per price): a quantity
/// sized as notional ÷ price moves by up to its relative price rounding (1e-8 ÷ price, 3e-8 at the market's 0.32),
/// and that carries into fees, P&L and equity: within a relative 1e-6 there (measured: 3e-7 on equity, 6e-5 on one
/// trade's P&L of 1.3, a small difference of large amounts, so P&L is compared against the trade's notional).
@Suite("Fixed-point money against the Decimal version", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct MoneyDifferentialEndToEndTests {
    static let fixtures = Harness.repository.appendingPathComponent("Tests/BacktestTests/Fixtures")
    static let recorded = fixtures.appendingPathComponent("decimal-v1")

    /// Compares CSV files row by row: non-numeric fields equal, numbers within 1e-8 × row + `relative` × `scale(row)`.
    static func compareCSV(_ ours: String, _ recorded: String, name: String, relative: Double = 0) {
        // The buy-and-hold row came after these summaries were recorded.
        let a = ours.split(separator: "\n").filter { !$0.hasPrefix("buy and hold") }, b = recorded.split(separator: "\n")
        #expect(a.count == b.count, "\(name): \(a.count) rows, recorded \(b.count)")
        #expect(a.first == b.first, "\(name): header")
        for (row, (x, y)) in zip(a, b).enumerated().dropFirst() {
            let f = x.split(separator: ",", omittingEmptySubsequences: false), g = y.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count == g.count else { Issue.record("\(name) row \(row): \(x) vs \(y)"); continue }
            for (u, v) in zip(f, g) where u != v {
                guard u.contains("."), let p = Double(u), let q = Double(v) else { Issue.record("\(name) row \(row): \(x) vs \(y)"); continue }
                // the largest number of the row stands for its scale (a trade's P&L against its size × price)
                let scale = g.compactMap { Double($0) }.map(abs).max() ?? 0
                #expect(abs(p - q) <= 1e-8 * Double(row) + relative * scale + 1e-12, "\(name) row \(row): \(x) vs \(y)")
            }
        }
    }

    /// Summary lines: the same labels; numbers within one unit of their last printed digit.
    static func compareSummary(_ ours: String, _ recorded: String, relative: Double = 0) {
        // The buy-and-hold row came after these summaries were recorded.
        let a = ours.split(separator: "\n").filter { !$0.hasPrefix("buy and hold") }, b = recorded.split(separator: "\n")
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) where x != y {
            func parts(_ line: Substring) -> (label: String, number: Double?, unit: Double) {
                let tokens = line.split(separator: " ")
                guard let numberToken = tokens.first(where: { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "%"))) != nil }) else {
                    return (String(line), nil, 0)
                }
                let text = numberToken.trimmingCharacters(in: CharacterSet(charactersIn: "%"))
                let decimals = text.split(separator: ".").dropFirst().first?.count ?? 0
                return (line.replacingOccurrences(of: numberToken, with: "#"), Double(text), pow(10, -Double(decimals)))
            }
            let p = parts(x), q = parts(y)
            #expect(p.label == q.label, "\(x) vs \(y)")
            if let m = p.number, let n = q.number { #expect(abs(m - n) <= max(p.unit, q.unit) * 1.000001 + relative * abs(n), "\(x) vs \(y)") } else { Issue.record("\(x) vs \(y)") }
        }
    }

    /// The `Decimal` version annualised the volatility with the configuration's bars (15 minutes: 35,040 a year)
    /// whatever the input's timeframe; it now uses the backtest's (SYN's daily bars: 365 a year), which scales every
    /// volatility by √(365 / 35,040). The run-cadence thresholds scaled by the same factor (0.8 and 0.3 before) give the
    /// recorded runs' decisions, so the comparison still holds the money arithmetic alone to the recorded outputs.
    static let dailyAsRecorded = #"{"volatility": {"high": 0.08164965809277261, "low": 0.030618621784789725}}"#

    func backtest(_ arguments: [String], recorded prefix: String, config: String = "{}", equity: Bool = true, relative: Double = 0) throws {
        let h = try Harness(config: config)
        defer { h.remove() }
        let trades = h.root.appendingPathComponent("t.csv").path, equityFile = h.root.appendingPathComponent("e.csv").path
        let r = try h.run(["backtest"] + arguments + ["--trades-out", trades] + (equity ? ["--equity-out", equityFile] : []))
        #expect(r.code == 0, "\(r.stderr)")
        func recorded(_ suffix: String) throws -> String {
            try String(contentsOf: Self.recorded.appendingPathComponent(prefix + suffix), encoding: .utf8)
        }
        Self.compareSummary(r.stdout, try recorded(".summary.txt"), relative: relative)
        Self.compareCSV(try String(contentsOfFile: trades, encoding: .utf8), try recorded(".trades.csv"), name: prefix + " trades", relative: relative)
        if equity {
            Self.compareCSV(try String(contentsOfFile: equityFile, encoding: .utf8), try recorded(".equity.csv"), name: prefix + " equity", relative: relative)
        }
    }

    @Test func defaultStrategyAtEveryCandleOfTheCommittedFixture() throws {
        try backtest(["--csv", Self.fixtures.appendingPathComponent("SYN.csv").path, "--every-candle"], recorded: "SYN.default.every",
                     config: Self.dailyAsRecorded)
    }

    @Test func defaultStrategyOnItsScheduleOverTheCommittedFixture() throws {
        try backtest(["--csv", Self.fixtures.appendingPathComponent("SYN.csv").path], recorded: "SYN.default", config: Self.dailyAsRecorded, equity: false)
    }

    @Test func defaultStrategyOnTheSimulatedMarket() throws {
        try backtest(["--simulated", "--from", "2026-01-01T00:00:00Z", "--to", "2026-02-15T00:00:00Z"], recorded: "simulated.default", relative: 1e-6)
    }
}
