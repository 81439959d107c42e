import Foundation
import Testing
@testable import Strategy
import TradingDomain

/// The planner's decisions from a snapshot, without the binary or a database.
@Suite("Planner")
struct PlannerTests {
    static let hour: Int64 = 3_600_000
    static let off = ProtectionRule(enabled: false, threshold: 0, action: .blockEntries)
    static let protections = ProtectionRules(maxDrawdown: off, dailyLoss: off, losingStreak: off, errorRate: off, symbolCooldownMilliseconds: 0)

    static func rules(strategy: any TradingStrategy = .scoring, partialTakeProfitATR: Double = 0) -> PlanningRules {
        let exits = ExitRules(stopLossATR: 2, takeProfitATR: 4, trailingStop: false, maxHoldingMilliseconds: 0, exitConfidence: 0.5,
                              maxAdjustments: 3, addTriggerATR: 1, addFraction: 0.5, partialTakeProfitATR: partialTakeProfitATR,
                              partialTakeProfitFraction: 0.5)
        return PlanningRules(strategy: strategy, exits: exits, limits: RiskLimits(), protections: protections, minConfidence: 0.6,
                             llmVetoConfidence: 0.8, quoteAsset: "USDT", detailed: true)
    }

    /// A monitored position entered at 100 with ATR 5: stop 90, target 120.
    static func monitored(state: PositionState = .monitoring) -> Position {
        Position(id: 7, symbol: "BTCUSDT", state: state, quantity: 1, entryPrice: 100, initialEntryPrice: 100, cost: 100, stopPrice: 90,
                 takeProfitPrice: 120, highestPrice: 100, atrAtEntry: 5, adjustments: 0, partialTakeProfitDone: false, openedAt: 0,
                 lastCheckedCandle: 0)
    }

    static func candle(_ t: Int64, high: Double, low: Double, close: Double) -> Candle {
        Candle(openTime: t, open: close, high: high, low: low, close: close, volume: 1)
    }

    static func signal(_ direction: SignalDirection, _ confidence: Double, symbol: Symbol = "BTCUSDT", at t: Int64 = hour) -> Signal {
        Signal(symbol: symbol, candleTime: t, direction: direction, confidence: confidence, score: direction == .long ? confidence : -confidence,
               components: [:], indicators: [:], patterns: [:])
    }

    static func snapshot(atr: Double = 5, at t: Int64 = hour) -> MarketSnapshot {
        MarketSnapshot(candleTime: t, close: 100, emaFast: .nan, emaSlow: .nan, rsi: .nan, macdHistogram: .nan, bollingerUpper: .nan,
                       bollingerMiddle: .nan, bollingerLower: .nan, atr: atr, adx: .nan, volatility: .nan, patterns: [:], breakout: 0, regime: 0)
    }

    static func plan(_ position: Position, candles: [Candle], signal: Signal? = nil, working: [OrderStatus] = [], safeMode: Bool = false,
                     entriesBlocked: Bool = false, rules: PlanningRules = rules()) throws -> [PositionCommand] {
        try PositionPlanner.plan(PositionSnapshot(position: position, workingOrders: working, candles: candles[...], signal: signal),
                                 now: 2 * hour, safeMode: safeMode, entriesBlocked: entriesBlocked, rules: rules)
    }

    // MARK: Entries

    @Test func aStrongLongSignalIsEnteredWithRiskSizingAndATRLevels() throws {
        let rules = Self.rules()
        let snapshot = EntrySnapshot(signals: [Self.signal(.long, 0.8), Self.signal(.flat, 0.7, symbol: "ETHUSDT")], activeSymbols: [],
                                     lastExits: [:], safeMode: false, reconciled: true, blocks: [:])
        let commands = EntryPlanner.plan(snapshot, now: 2 * Self.hour, rules: rules)
        #expect(commands == [.consider(Self.signal(.long, 0.8)),
                             .skip(symbol: "ETHUSDT", reason: "no entry: signal flat (confidence 0.700)", confidence: "0.700")])

        let account = AccountState(equity: 10_000, cash: 10_000, exposure: 0, openPositions: 0)
        let entry = try EntryPlanner.order(Self.signal(.long, 0.8), snapshot: Self.snapshot(), price: 100, account: account, now: 2 * Self.hour,
                                           rules: rules).get()
        // 1% of 10,000 at risk over a stop 2 ATR (10) below 100: 10 units.
        #expect(entry.quantity == 10)
        #expect(entry.boundBy == "risk_per_trade")
        #expect(entry.position.state == .open && entry.position.quantity == 0 && entry.position.openedAt == 2 * Self.hour)
        #expect(entry.position.stopPrice == 90 && entry.position.takeProfitPrice == 120)
        #expect(entry.note == "enter: confidence 0.800 > 0.6; 10 ≈ 1000 USDT (bound by risk_per_trade)")
    }

    @Test func entriesPassEveryGate() {
        let rules = Self.rules()
        let long = Self.signal(.long, 0.9)
        func plan(activeSymbols: Set<Symbol> = [], safeMode: Bool = false, reconciled: Bool = true, blocks: [String: Int64] = [:]) -> [EntryCommand] {
            EntryPlanner.plan(EntrySnapshot(signals: [long], activeSymbols: activeSymbols, lastExits: [:], safeMode: safeMode, reconciled: reconciled,
                                            blocks: blocks), now: 0, rules: rules)
        }
        #expect(plan(activeSymbols: ["BTCUSDT"]) == [])
        #expect(plan(safeMode: true) == [.skip(symbol: "BTCUSDT", reason: "no entry: safe mode (confidence 0.900)", confidence: "0.900")])
        #expect(plan(reconciled: false) == [.skip(symbol: "BTCUSDT", reason: "no entry: reconciliation failed this run", confidence: "0.900")])
        #expect(plan(blocks: ["daily_loss": Self.hour]) == [.skip(symbol: "BTCUSDT", reason: "no entry: protection daily_loss blocks entries until 1970-01-01T01:00:00Z (confidence 0.900)", confidence: "0.900")])
    }

    // MARK: Positions

    @Test func aCandleThroughTheStopExits() throws {
        let commands = try Self.plan(Self.monitored(), candles: [Self.candle(Self.hour, high: 101, low: 85, close: 88)])
        var closing = Self.monitored()
        closing.lastCheckedCandle = Self.hour
        closing.state = .closing
        closing.exitReason = .stopLoss
        #expect(commands == [.exit(PlannedExit(position: closing, from: .monitoring, reason: .stopLoss,
                                               note: "exit: stop_loss at level 90 on candle 1970-01-01T01:00:00Z", cancelWorkingFirst: false))])
    }

    @Test func anExitWithAnEntryStillWorkingCancelsItFirst() throws {
        let candles = [Self.candle(Self.hour, high: 101, low: 85, close: 88)]
        guard case let .exit(exit)? = try Self.plan(Self.monitored(), candles: candles, working: [.partiallyFilled]).first else {
            Issue.record("expected an exit")
            return
        }
        #expect(exit.cancelWorkingFirst)
        // An order whose outcome is not known yet is asked first: nothing this run.
        #expect(try Self.plan(Self.monitored(), candles: candles, working: [.unknown]) == [])
    }

    @Test func aCloseFarAboveTheBasisTakesPartOfTheProfit() throws {
        let rules = Self.rules(partialTakeProfitATR: 2.5)
        let commands = try Self.plan(Self.monitored(), candles: [Self.candle(Self.hour, high: 116, low: 110, close: 115)], rules: rules)
        var held = Self.monitored()
        held.lastCheckedCandle = Self.hour
        held.highestPrice = 116
        #expect(commands == [.adjust(PlannedAdjustment(held: held, adjustment: .partialTakeProfit(quantity: Quantity("0.5") ?? 0, reason: "close 115 ≥ basis + 2.5 ATR")))])

        guard case let .adjust(planned)? = commands.first else { return }
        #expect(!planned.needsAccount)
        let sized = try PositionPlanner.size(planned, price: 115, account: nil, rules: rules).get()
        #expect(sized.side == .sell && sized.purpose == .partialTakeProfit && sized.quantity == Quantity("0.5"))
        #expect(sized.from == .monitoring && sized.position.state == .adjusting && sized.position.adjustments == 1)
        #expect(sized.note == "adjustment 1/3: PARTIAL_TP 0.5 — close 115 ≥ basis + 2.5 ATR")
    }

    /// Without the audit trail (`detailed` false, as in backtests) the same commands are planned; only the texts,
    /// the adjustment's reason among them, are left empty.
    @Test func undetailedPlansAreTheDetailedOnesWithoutTexts() throws {
        func bare(_ commands: [PositionCommand]) -> [PositionCommand] {
            commands.map { command in
                switch command {
                case let .transition(p, from, _): return .transition(p, from: from, note: "")
                case let .closeEmpty(p, from, _): return .closeEmpty(p, from: from, note: "")
                case let .exit(e): var e = e; e.note = ""; return .exit(e)
                case let .adjust(a):
                    switch a.adjustment {
                    case let .add(q, _): return .adjust(PlannedAdjustment(held: a.held, adjustment: .add(quantity: q, reason: "")))
                    case let .partialTakeProfit(q, _): return .adjust(PlannedAdjustment(held: a.held, adjustment: .partialTakeProfit(quantity: q, reason: "")))
                    }
                case let .hold(p, _): return .hold(p, decision: nil)
                case .retryExit: return command
                }
            }
        }
        var adjusted = 0
        for partial in [0.0, 2.5] {
            let detailed = Self.rules(partialTakeProfitATR: partial)
            var undetailed = detailed
            undetailed.detailed = false
            for close in stride(from: 88.0, through: 125.0, by: 0.5) {
                let candles = [Self.candle(Self.hour, high: close + 1, low: close - 1, close: close)]
                for signal in [nil, Self.signal(.long, 0.8), Self.signal(.long, 0.55), Self.signal(.flat, 0.7)] {
                    for adjustments in 0...3 {
                        var position = Self.monitored()
                        position.adjustments = adjustments
                        let full = try Self.plan(position, candles: candles, signal: signal, rules: detailed)
                        let plain = try Self.plan(position, candles: candles, signal: signal, rules: undetailed)
                        #expect(plain == bare(full), "close \(close), \(String(describing: signal)), \(adjustments) adjustments")
                        if case .adjust? = full.first { adjusted += 1 }
                    }
                }
            }
        }
        #expect(adjusted > 20)
    }

    @Test func aStrongSignalAboveTheTriggerAddsWithinTheLimits() throws {
        let rules = Self.rules()
        let candles = [Self.candle(Self.hour, high: 107, low: 104, close: 106)]
        let commands = try Self.plan(Self.monitored(), candles: candles, signal: Self.signal(.long, 0.8), rules: rules)
        guard case let .adjust(planned)? = commands.first, commands.count == 1 else {
            Issue.record("expected one adjustment, got \(commands)")
            return
        }
        #expect(planned.adjustment == .add(quantity: Quantity("0.5") ?? 0, reason: "close 106 ≥ entry + 1.0×1 ATR, signal long 0.80"))
        #expect(planned.needsAccount)
        let account = AccountState(equity: 10_000, cash: 9_894, exposure: 106, openPositions: 1)
        let sized = try PositionPlanner.size(planned, price: 106, account: account, rules: rules).get()
        #expect(sized.side == .buy && sized.purpose == .add && sized.quantity == Quantity("0.5") && sized.position.state == .adjusting)

        // No adds while entries are blocked: the position is held.
        var held = Self.monitored()
        held.lastCheckedCandle = Self.hour
        held.highestPrice = 107
        #expect(try Self.plan(Self.monitored(), candles: candles, signal: Self.signal(.long, 0.8), entriesBlocked: true, rules: rules)
                == [.hold(held, decision: "hold position (monitoring)")])
    }

    @Test func nothingToDoHoldsThePositionAsChecked() throws {
        let candles = [Self.candle(Self.hour, high: 102, low: 98, close: 101)]
        var held = Self.monitored()
        held.lastCheckedCandle = Self.hour
        held.highestPrice = 102
        #expect(try Self.plan(Self.monitored(), candles: candles) == [.hold(held, decision: "hold position (monitoring)")])
        // An OPEN position starts monitoring first; in safe mode nothing is planned (the emergency closure acts).
        var open = Self.monitored(state: .open)
        open.highestPrice = 100
        #expect(try Self.plan(open, candles: candles) == [.transition(Self.monitored(), from: .open, note: "monitoring stops and targets"),
                                                          .hold(held, decision: "hold position (monitoring)")])
        #expect(try Self.plan(Self.monitored(), candles: candles, safeMode: true) == [])
    }

    @Test func anEntryThatNeverFilledIsClosed() throws {
        var empty = Self.monitored(state: .open)
        empty.quantity = 0
        #expect(try Self.plan(empty, candles: [], working: [.pendingSubmit]) == [])
        guard case let .closeEmpty(closed, from, _)? = try Self.plan(empty, candles: []).first else {
            Issue.record("expected the record closed")
            return
        }
        #expect(from == .open && closed.state == .closed && closed.exitReason == .entryFailed && closed.closedAt == 2 * Self.hour)
    }

    @Test func safeModeSellsWhatIsHeldAndClosesEmptyRecords() throws {
        var closing = Self.monitored()
        closing.state = .closing
        closing.exitReason = .safeMode
        #expect(try PositionPlanner.emergencyClosure(Self.monitored(), working: false, now: 5, maxAdjustments: 3)
                == .sell(closing, from: .monitoring, transition: true))
        #expect(try PositionPlanner.emergencyClosure(closing, working: false, now: 5, maxAdjustments: 3) == .sell(closing, from: .closing, transition: false))
        #expect(try PositionPlanner.emergencyClosure(Self.monitored(), working: true, now: 5, maxAdjustments: 3) == .waitForWorkingOrder)
        #expect(try PositionPlanner.emergencyClosure(nil, working: false, now: 5, maxAdjustments: 3) == .closed)
        var empty = Self.monitored()
        empty.quantity = 0
        guard case let .closeEmpty(record, from, _) = try PositionPlanner.emergencyClosure(empty, working: false, now: 5, maxAdjustments: 3) else {
            Issue.record("expected the empty record closed")
            return
        }
        #expect(from == .monitoring && record.state == .closed && record.exitReason == .safeMode && record.closedAt == 5)
    }

    // MARK: SMA cross

    static func closes(_ values: [Double]) -> [Candle] {
        values.enumerated().map { i, c in candle(Int64(i) * hour, high: c, low: c, close: c) }
    }

    static let settings = StrategySettings(analysis: AnalysisParameters(), weights: ScoringWeights(), volatilityWindow: 2, barsPerYear: 365,
                                           detailed: true)

    @Test func smaCrossUpEntersTheFixedQuantity() throws {
        let strategy = SMACrossStrategy(fast: 2, slow: 3, quantity: 3)
        let rules = Self.rules(strategy: strategy)
        // SMA(2) 9.5 < SMA(3) 9.67, then 10.5 > 10.33: a cross up.
        let reading = strategy.read(symbol: "SPY", candles: Self.closes([10, 10, 10, 9, 12])[...], analyzer: WindowAnalyzer(), settings: Self.settings)
        let signal = try #require(reading.signal)
        #expect(signal.direction == .long && signal.confidence == 1 && reading.problem == nil)
        let snapshot = try #require(reading.snapshot)
        #expect(snapshot.close == 12 && snapshot.atr.isNaN)

        let commands = EntryPlanner.plan(EntrySnapshot(signals: [signal], activeSymbols: [], lastExits: [:], safeMode: false, reconciled: true, blocks: [:]),
                                         now: 5 * Self.hour, rules: rules)
        #expect(commands == [.consider(signal)])
        let account = AccountState(equity: 1_000, cash: 1_000, exposure: 0, openPositions: 0)
        let entry = try EntryPlanner.order(signal, snapshot: snapshot, price: 12, account: account, now: 5 * Self.hour, rules: rules).get()
        #expect(entry.quantity == 3 && entry.boundBy == "fixed_quantity")
        #expect(entry.position.stopPrice == nil && entry.position.takeProfitPrice == nil)
        // Without the cash for the fixed quantity: no entry.
        let poor = AccountState(equity: 30, cash: 30, exposure: 0, openPositions: 0)
        #expect(throws: EntryPlanner.RefusedEntry(decision: "no entry (confidence 1.000): cash: cannot pay for the fixed quantity")) {
            try EntryPlanner.order(signal, snapshot: snapshot, price: 12, account: poor, now: 5 * Self.hour, rules: rules).get()
        }
    }

    @Test func smaCrossDownExitsAndNoCrossHolds() throws {
        let strategy = SMACrossStrategy(fast: 2, slow: 3, quantity: 3)
        let rules = Self.rules(strategy: strategy)
        var position = Self.monitored()
        position.stopPrice = nil
        position.takeProfitPrice = nil
        // SMA(2) 10.5 > SMA(3) 10.33, then 9.5 < 9.67: a cross down.
        let down = Self.closes([10, 10, 10, 11, 8])
        let signal = try #require(strategy.read(symbol: "BTCUSDT", candles: down[...], analyzer: WindowAnalyzer(), settings: Self.settings).signal)
        #expect(signal.direction == .flat && signal.confidence == 1)
        let commands = try Self.plan(position, candles: down, signal: signal, rules: rules)
        guard case let .exit(exit)? = commands.first, commands.count == 1 else {
            Issue.record("expected an exit, got \(commands)")
            return
        }
        #expect(exit.reason == .signalReversed && exit.position.state == .closing)

        // No cross (confidence 0): held, and the strategy makes no adjustments (no decision text either).
        let flatline = Self.closes([10, 10, 10, 10, 10])
        let quiet = try #require(strategy.read(symbol: "BTCUSDT", candles: flatline[...], analyzer: WindowAnalyzer(), settings: Self.settings).signal)
        #expect(quiet.confidence == 0)
        let held = try Self.plan(position, candles: flatline, signal: quiet, rules: rules)
        guard case let .hold(_, decision)? = held.first, held.count == 1 else {
            Issue.record("expected the position held, got \(held)")
            return
        }
        #expect(decision == nil)
    }

    // MARK: Protections

    @Test func protectionsBlockOnceAndEnterSafeModeOnce() {
        let streak = ProtectionTrip(name: .losingStreak, action: .blockEntries, until: 10, reason: "3 stop-loss exits")
        let drawdown = ProtectionTrip(name: .maxDrawdown, action: .safeMode, until: 0, reason: "drawdown")
        let errors = ProtectionTrip(name: .errorRate, action: .safeMode, until: 0, reason: "failures")
        #expect(ProtectionPlanner.plan([streak, drawdown, errors], blocks: [:], safeModeActive: false, equityUncertain: false)
                == [.blockEntries(streak), .enterSafeMode(drawdown)])
        // A block already in force as long, safe mode already on, equity not judged while uncertain.
        #expect(ProtectionPlanner.plan([streak, errors], blocks: ["losing_streak": 10], safeModeActive: true, equityUncertain: false) == [])
        #expect(ProtectionPlanner.plan([drawdown, errors], blocks: [:], safeModeActive: false, equityUncertain: true) == [.enterSafeMode(errors)])
    }
}
