import Foundation
import TradingDomain

/// What the planner sees when it considers new entries this run.
public struct EntrySnapshot: Sendable {
    /// This run's signals.
    public var signals: [Signal]
    /// Symbols with an active position (no second entry).
    public var activeSymbols: Set<Symbol>
    /// The time of each symbol's last exit (for the symbol cooldown).
    public var lastExits: [Symbol: Int64]
    public var safeMode: Bool
    /// Whether this run's reconciliation with the venue succeeded (no new orders otherwise).
    public var reconciled: Bool
    /// Entry blocks in force: protection name → until.
    public var blocks: [String: Int64]

    public init(signals: [Signal], activeSymbols: Set<Symbol>, lastExits: [Symbol: Int64], safeMode: Bool, reconciled: Bool, blocks: [String: Int64]) {
        self.signals = signals
        self.activeSymbols = activeSymbols
        self.lastExits = lastExits
        self.safeMode = safeMode
        self.reconciled = reconciled
        self.blocks = blocks
    }
}

/// One step of the entries, in the order the cycle takes them (strongest signals first, so the limits favour them).
public enum EntryCommand: Sendable, Equatable {
    /// No entry for `symbol`, with the decision text and the confidence as shown (planned only when detailed).
    case skip(symbol: Symbol, reason: String, confidence: String)
    /// Try to enter on `signal`: at the reference price, sized by the strategy (`EntryPlanner.order`).
    case consider(Signal)
}

/// A new position and its entry order, ready to place: the position and its order are committed in one
/// transaction before the request (write-ahead); stops and targets are set again from the fill price.
public struct PlannedEntry: Sendable, Equatable {
    public var position: Position
    public var quantity: Quantity
    public var boundBy: String
    /// The decision text (empty when not detailed).
    public var note: String
}

/// The pure entry decisions: the gates every signal passes (direction, confidence, the models' veto, safe mode,
/// reconciliation, protection blocks, symbol cooldown), then sizing and the new position's draft.
public enum EntryPlanner {
    public static func plan(_ snapshot: EntrySnapshot, now: Int64, rules: PlanningRules) -> [EntryCommand] {
        var commands: [EntryCommand] = []
        let detailed = rules.detailed
        let ordered = snapshot.signals.count < 2 ? snapshot.signals  // (one signal: no sorted copy)
            : snapshot.signals.sorted { $0.confidence > $1.confidence || ($0.confidence == $1.confidence && $0.symbol < $1.symbol) }
        for signal in ordered {
            let symbol = signal.symbol
            if snapshot.activeSymbols.contains(symbol) { continue }
            let conf = detailed ? confidenceText(signal) : ""
            func skip(_ why: @autoclosure () -> String) {
                if detailed { commands.append(.skip(symbol: symbol, reason: why(), confidence: conf)) }
            }
            guard signal.direction == .long else { skip("no entry: signal flat (confidence \(conf))"); continue }
            guard signal.confidence > rules.minConfidence else {
                skip("no entry: confidence \(conf) not above min_confidence \(rules.minConfidence)")
                continue
            }
            if let opinion = signal.opinion, opinion.action == .sell, opinion.confidence >= rules.llmVetoConfidence {
                skip("no entry: vetoed by the models' sell opinion (confidence \(FixedDecimals.text(opinion.confidence, decimals: 2)))")
                continue
            }
            if snapshot.safeMode { skip("no entry: safe mode (confidence \(conf))"); continue }
            if !snapshot.reconciled { skip("no entry: reconciliation failed this run"); continue }
            if let (name, until) = snapshot.blocks.min(by: { $0.key < $1.key }) {
                skip("no entry: protection \(name) blocks entries until \(Timestamp.rfc3339(until)) (confidence \(conf))")
                continue
            }
            if ProtectionEvaluator.symbolCoolingDown(lastExit: snapshot.lastExits[symbol], now: now, rules: rules.protections) {
                skip("no entry: symbol cooldown after the exit at \(Timestamp.rfc3339(snapshot.lastExits[symbol] ?? now))")
                continue
            }
            commands.append(.consider(signal))
        }
        return commands
    }

    /// The confidence as the decision texts show it.
    public static func confidenceText(_ signal: Signal) -> String { FixedDecimals.text(signal.confidence, decimals: 3) }

    /// The entry on `signal` at `price`, sized by the strategy on `account`; `.failure` holds the decision text of a
    /// refusal (nil when not detailed, or when the sizing gave no reason).
    public static func order(_ signal: Signal, snapshot: MarketSnapshot, price: Price, account: AccountState, now: Int64,
                             rules: PlanningRules) throws -> Result<PlannedEntry, RefusedEntry> {
        let conf = rules.detailed ? confidenceText(signal) : ""
        let sizing = try rules.strategy.entrySize(price: price, snapshot: snapshot, account: account, limits: rules.limits)
        guard case let .order(quantity, notional, boundBy) = sizing else {
            if case let .none(reason) = sizing, rules.detailed { return .failure(RefusedEntry(decision: "no entry (confidence \(conf)): \(reason)")) }
            return .failure(RefusedEntry(decision: nil))
        }
        var position = Position(id: 0, symbol: signal.symbol, state: .open, quantity: 0, entryPrice: price, initialEntryPrice: price, cost: 0,
                                stopPrice: nil, takeProfitPrice: nil, highestPrice: nil, atrAtEntry: snapshot.atr.isFinite ? snapshot.atr : 0,
                                adjustments: 0, partialTakeProfitDone: false, openedAt: now, lastCheckedCandle: snapshot.candleTime)
        if let levels = try? rules.strategy.protectiveLevels(for: position, rules: rules.exits) {
            position.stopPrice = levels.stop
            position.takeProfitPrice = levels.takeProfit
        }
        let note = !rules.detailed ? ""
            : "enter: confidence \(conf) > \(rules.minConfidence); \(quantity) ≈ \(notional.text(decimals: 2)) \(rules.quoteAsset) (bound by \(boundBy))"
        return .success(PlannedEntry(position: position, quantity: quantity, boundBy: boundBy, note: note))
    }

    /// An entry the sizing refused, with the decision text (nil when not detailed).
    public struct RefusedEntry: Error, Sendable, Equatable {
        public var decision: String?
    }
}
