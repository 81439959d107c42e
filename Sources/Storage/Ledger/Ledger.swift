import Foundation
import TradingDomain

/// Everything the trading cycle and the paper broker read and write, inside one transaction of a `StateStore`.
///
/// Two implementations: `SQLiteLedger` (the job's state database, every method one statement) and `MemoryLedger`
/// (backtests: the same state in memory, no event log). The cycle is written against this protocol only, so a
/// backtest runs the very code the job runs.
public protocol Ledger {
    /// Whether the audit trail (events, stored signals, decision texts) is kept. False for backtests, which skip
    /// building those texts altogether.
    var keepsAudit: Bool { get }

    // MARK: Runs
    func startRun(startedAt: Int64, configHash: String) throws -> RunID
    func finishRun(id: RunID, endedAt: Int64, outcome: RunOutcome, volatility: Double?, next: (seconds: Int64, reason: String, at: Int64)?,
                   symbolsAnalysed: Int, symbolsFailed: [Symbol], summary: @autoclosure () -> String) throws
    /// Marks runs that never finished as crashed; returns their ids.
    func markAbandonedRuns(endedAt: Int64) throws -> [RunID]
    /// The config hash of the newest run.
    func lastConfigHash() throws -> String?
    /// See `Runs.consecutiveFailures`.
    func consecutiveFailedRuns() throws -> Int
    func runsByInterval() throws -> [Int64: Int]
    func fillCount(runID: RunID) throws -> Int
    /// When the first run after `runID` started (nil when none did): by then the process of run `runID` was gone.
    func runStarted(after runID: RunID) throws -> Int64?

    // MARK: Events, signals, job state
    func appendEvent(runID: RunID?, time: Int64, kind: EventKind, symbol: Symbol?, message: @autoclosure () -> String,
                     data: @autoclosure () -> [String: String]?) throws
    func insertSignal(runID: RunID, signal: Signal) throws
    func jobState(_ key: String) throws -> String?
    func setJobState(_ key: String, _ value: @autoclosure () -> String) throws
    func removeJobState(_ key: String) throws
    func jobStates(prefix: String) throws -> [String: String]
    /// The equity peak the drawdown protection measures from (job state `equity.peak`); nil clears it.
    func equityPeak() throws -> Money?
    func setEquityPeak(_ peak: Money?) throws

    // MARK: Candles
    func newestCandleTime(symbol: Symbol, timeframe: Timeframe) throws -> Int64?
    func upsertCandles(symbol: Symbol, timeframe: Timeframe, candles: [Candle]) throws
    /// The newest `limit` candles with open time ≤ `upTo`, oldest first.
    func candleWindow(symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64) throws -> ArraySlice<Candle>
    /// Stores each batch's candles and reads back its symbol's newest `window` candles with open time ≤ `upTo`, oldest
    /// first (empty for a batch that does not `readsWindow`), in the order of `batches`. A batch whose candles cannot be
    /// stored gets its error and stores nothing; the others are not affected.
    func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64) throws -> [Result<ArraySlice<Candle>, any Error>]
    /// `storeCandles`, each batch's outcome handed to `each` with the batch's index as soon as it is known, in the order
    /// of `batches` (the caller may start on a window while the later ones are read).
    func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64,
                      each: (Int, Result<ArraySlice<Candle>, any Error>) -> Void) throws

    // MARK: Positions
    func insertPosition(_ p: Position) throws -> Int64
    func updatePosition(_ p: Position) throws
    /// Positions not yet closed, oldest first.
    func activePositions() throws -> [Position]
    func position(id: Int64) throws -> Position?
    /// Closed positions closed at or after `since`, oldest first.
    func closedPositions(since: Int64) throws -> [Position]
    /// The newest close time per symbol of positions that held something (failed entries start no cooldown).
    func lastExitBySymbol() throws -> [Symbol: Int64]
    /// Close times of stop-loss exits since `since`.
    func stopLossExits(since: Int64) throws -> [Int64]

    // MARK: Orders and fills
    func insertPendingOrder(clientOrderID: ClientOrderID, runID: RunID, positionID: Int64?, symbol: Symbol, side: OrderSide, purpose: OrderPurpose,
                            leg: Int, attempt: Int, quantity: Quantity, referencePrice: Price, now: Int64) throws
    /// Stores the order's new status and venue facts. Throws `IllegalOrderStatusMove` (and changes nothing) when
    /// `OrderStatusTransitions` does not allow the move from the stored status.
    func updateOrder(clientOrderID: ClientOrderID, status: OrderStatus, venueOrderID: String?, filledQuantity: Quantity?, averagePrice: Price?,
                     reason: String?, now: Int64) throws
    func unresolvedOrders() throws -> [OrderRow]
    func order(clientOrderID: ClientOrderID) throws -> OrderRow?
    func order(venueOrderID: String, symbol: Symbol) throws -> OrderRow?
    /// The position under which the newest order of `symbol` whose client id names position `named` (`tj-<named>-…`)
    /// was filed elsewhere than that position: where an adopted order of a lost position went, so that the lost
    /// position's next orders join it. Nil when there is none.
    func positionOfAdoptedOrders(naming named: Int64, symbol: Symbol) throws -> Int64?
    func lastAttempt(positionID: Int64, purpose: OrderPurpose, leg: Int) throws -> Int?
    func orders(positionID: Int64) throws -> [OrderRow]
    /// The position's oldest order whose outcome is not final, other than `excluding` (nil when there is none).
    func workingOrder(positionID: Int64, excluding: ClientOrderID?) throws -> OrderRow?
    /// Records `fill` once (by symbol and trade id); false when it was already recorded.
    func insertFill(_ fill: Fill, runID: RunID) throws -> Bool
    func fills(clientOrderID: ClientOrderID) throws -> [Fill]

    // MARK: Wallet and equity
    func balances() throws -> [String: Money]
    /// One asset's free balance (nil: the wallet has no such asset).
    func balance(asset: String) throws -> Money?
    func setBalance(asset: String, free: Money) throws
    func walletIsEmpty() throws -> Bool
    func recordEquity(time: Int64, runID: RunID, equity: Money, cash: Money, safeMode: Bool) throws
    /// The first equity recorded at or after `since`.
    func firstEquity(since: Int64) throws -> Money?

    // MARK: Venue and paper broker
    func totalBreakerOpenings() throws -> Int
    func paperOrder(clientOrderID: ClientOrderID) throws -> PaperOrderRecord?
    func insertPaperOrder(_ order: PaperOrderRecord) throws
}

/// One point of the equity curve (the `equity` table, the memory ledger's day, a backtest's chart sample).
public struct EquityPoint: Sendable, Equatable {
    public var time: Int64
    public var equity: Money
    public var cash: Money
    public var safeMode: Bool
    public init(time: Int64, equity: Money, cash: Money, safeMode: Bool) {
        self.time = time
        self.equity = equity
        self.cash = cash
        self.safeMode = safeMode
    }
}

/// An order in the paper broker's own book (`paper_orders`): the venue side of paper trading.
public struct PaperOrderRecord: Sendable, Equatable {
    public var clientOrderID: ClientOrderID
    public var symbol: Symbol
    public var side: OrderSide
    public var status: OrderStatus
    public var quantity: Quantity
    public var price: Price?
    public var fee: Money?
    public var feeAsset: String?
    public var tradeID: TradeID?
    public var time: Int64
    public var reason: String?
    public init(clientOrderID: ClientOrderID, symbol: Symbol, side: OrderSide, status: OrderStatus, quantity: Quantity, price: Price? = nil,
                fee: Money? = nil, feeAsset: String? = nil, tradeID: TradeID? = nil, time: Int64, reason: String? = nil) {
        self.clientOrderID = clientOrderID
        self.symbol = symbol
        self.side = side
        self.status = status
        self.quantity = quantity
        self.price = price
        self.fee = fee
        self.feeAsset = feeAsset
        self.tradeID = tradeID
        self.time = time
        self.reason = reason
    }
}

/// Where the ledger lives: each `read`/`write` is one transaction (SQLite) or one locked section (memory).
public protocol StateStore: Sendable {
    /// Whether its ledgers keep the audit trail (see `Ledger.keepsAudit`).
    var keepsAudit: Bool { get }
    func read<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T
    /// Synchronous write (set-up code outside the cycle, e.g. funding the paper wallet).
    func writeNow<T>(_ body: (any Ledger) throws -> T) throws -> T
    /// Whether the cycle analyses each symbol's window as soon as the write that stores the new candles has read it,
    /// while that write goes on (its results are used only once it commits), instead of after it. Worth it when
    /// `writeAside` runs on a thread of its own (SQLite); the outcome is the same either way.
    var pipelinesWindows: Bool { get }
    /// `write` run on a thread of the store's own while the caller's task waits (suspended, its thread free for other
    /// tasks): the cycle's pipelined candle write, whose windows are analysed meanwhile. By default `write` itself.
    func writeAside<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T
    /// The store itself when it is the in-memory one, whose sections are called directly (`StateSections`); nil for
    /// any other. (A requirement rather than a cast: a cast looks up conformances at run time on its first use.)
    var memoryStore: MemoryStateStore? { get }
}

extension StateStore {
    public var pipelinesWindows: Bool { false }
    public func writeAside<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T { try await write(body) }
    public var memoryStore: MemoryStateStore? { nil }
}

/// One symbol's new candles, to be stored (`Ledger.storeCandles`).
public struct CandleBatch: Sendable {
    public var symbol: Symbol
    public var candles: [Candle]
    /// Whether `storeCandles` reads the symbol's window back.
    public var readsWindow: Bool
    public init(symbol: Symbol, candles: [Candle], readsWindow: Bool = true) {
        self.symbol = symbol
        self.candles = candles
        self.readsWindow = readsWindow
    }
}

extension Ledger {
    /// The first of `orders(positionID:)` that is not final and not `excluding`.
    public func workingOrder(positionID: Int64, excluding: ClientOrderID?) throws -> OrderRow? {
        try orders(positionID: positionID).first { !$0.status.isFinal && $0.clientOrderID != excluding }
    }

    /// `balances()[asset]`.
    public func balance(asset: String) throws -> Money? { try balances()[asset] }

    /// `storeCandles` as `upsertCandles` then `candleWindow` for each batch.
    public func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64) throws -> [Result<ArraySlice<Candle>, any Error>] {
        batches.map { batch in
            Result {
                if !batch.candles.isEmpty { try upsertCandles(symbol: batch.symbol, timeframe: timeframe, candles: batch.candles) }
                return batch.readsWindow ? try candleWindow(symbol: batch.symbol, timeframe: timeframe, limit: window, upTo: upTo) : []
            }
        }
    }

    /// The array form of `storeCandles(_:timeframe:window:upTo:each:)`, for ledgers whose own work is the `each:` form.
    public func collectingStoreCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64) throws -> [Result<ArraySlice<Candle>, any Error>] {
        var results: [Result<ArraySlice<Candle>, any Error>] = []
        results.reserveCapacity(batches.count)
        try storeCandles(batches, timeframe: timeframe, window: window, upTo: upTo) { _, outcome in results.append(outcome) }
        return results
    }

    /// `storeCandles`, the outcomes handed over once all are known.
    public func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64,
                             each: (Int, Result<ArraySlice<Candle>, any Error>) -> Void) throws {
        for (k, outcome) in try storeCandles(batches, timeframe: timeframe, window: window, upTo: upTo).enumerated() { each(k, outcome) }
    }

    /// Appends an event (the message and data are built only when the ledger keeps the audit trail).
    public func record(runID: RunID?, time: Int64, kind: EventKind, symbol: Symbol? = nil, message: @autoclosure () -> String,
                       data: @autoclosure () -> [String: String]? = nil) throws {
        guard keepsAudit else { return }
        try appendEvent(runID: runID, time: time, kind: kind, symbol: symbol, message: message(), data: data())
    }

    /// Stores the job's state (`job.state`).
    public func setJobStatus(_ status: JobStatus) throws { try setJobState(JobStatus.key, status.rawValue) }
}
