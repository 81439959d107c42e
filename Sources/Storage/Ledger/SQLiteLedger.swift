import Foundation
import GRDB
import TradingDomain

/// The ledger on the job's SQLite state database: each method is the table helper of the same name.
public struct SQLiteLedger: Ledger {
    let db: Database
    init(_ db: Database) { self.db = db }
    public var keepsAudit: Bool { true }

    public func startRun(startedAt: Int64, configHash: String) throws -> RunID { RunID(rawValue: try Runs.start(db, startedAt: startedAt, configHash: configHash)) }
    public func finishRun(id: RunID, endedAt: Int64, outcome: RunOutcome, volatility: Double?, next: (seconds: Int64, reason: String, at: Int64)?,
                          symbolsAnalysed: Int, symbolsFailed: [Symbol], summary: @autoclosure () -> String) throws {
        try Runs.finish(db, id: id.rawValue, endedAt: endedAt, outcome: outcome, volatility: volatility, next: next, symbolsAnalysed: symbolsAnalysed,
                        symbolsFailed: symbolsFailed, summary: summary())
    }
    public func markAbandonedRuns(endedAt: Int64) throws -> [RunID] { try Runs.markAbandoned(db, endedAt: endedAt).map(RunID.init(rawValue:)) }
    public func lastConfigHash() throws -> String? { try Runs.last(db)?.configHash }
    public func consecutiveFailedRuns() throws -> Int { try Runs.consecutiveFailures(db) }
    public func runsByInterval() throws -> [Int64: Int] { try Runs.countByInterval(db) }
    public func fillCount(runID: RunID) throws -> Int {
        try firstValue(db.cachedStatement(sql: "SELECT COUNT(*) FROM fills WHERE run_id = ?"), arguments: [runID.rawValue], table: "fills", column: "COUNT(*)") ?? 0
    }

    public func runStarted(after runID: RunID) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MIN(started_at) FROM runs WHERE id > ?"), arguments: [runID.rawValue])
    }

    public func appendEvent(runID: RunID?, time: Int64, kind: EventKind, symbol: Symbol?, message: @autoclosure () -> String,
                            data: @autoclosure () -> [String: String]?) throws {
        try Events.append(db, runID: runID?.rawValue, time: time, kind: kind, symbol: symbol, message: message(), data: data())
    }
    public func insertSignal(runID: RunID, signal: Signal) throws { try Signals.insert(db, runID: runID.rawValue, signal: signal) }
    public func jobState(_ key: String) throws -> String? { try JobState.get(db, key) }
    public func setJobState(_ key: String, _ value: @autoclosure () -> String) throws { try JobState.set(db, key, value()) }
    public func removeJobState(_ key: String) throws { try JobState.remove(db, key) }
    public func jobStates(prefix: String) throws -> [String: String] { try JobState.all(db, prefix: prefix) }
    /// The equity peak (`job_state`'s `equity.peak`, canonical fixed-point text); text that is not a number is a `CorruptRow`.
    public func equityPeak() throws -> Money? {
        guard let text = try JobState.get(db, "equity.peak") else { return nil }
        guard let peak = try? Money(parsing: text, rounding: .halfEven) else {
            throw CorruptRow(table: "job_state", column: "value", key: "equity.peak", value: text, expected: "a decimal number")
        }
        return peak
    }
    public func setEquityPeak(_ peak: Money?) throws {
        if let peak { try JobState.set(db, "equity.peak", peak.description) } else { try JobState.remove(db, "equity.peak") }
    }

    public func newestCandleTime(symbol: Symbol, timeframe: Timeframe) throws -> Int64? { try Candles.newestOpenTime(db, symbol: symbol, timeframe: timeframe) }
    public func upsertCandles(symbol: Symbol, timeframe: Timeframe, candles: [Candle]) throws {
        try Candles.upsert(db, symbol: symbol, timeframe: timeframe, candles: candles)
    }
    public func candleWindow(symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64) throws -> ArraySlice<Candle> {
        try Candles.window(db, symbol: symbol, timeframe: timeframe, limit: limit, upTo: upTo)[...]
    }
    /// Each batch's candles stored under a savepoint of its own (a batch that fails leaves nothing behind). A batch of
    /// one candle (a cycle's usual case) is one statement, which SQLite applies whole or not at all: no savepoint.
    /// The windows are read through the `candle_blocks` cache (`CandleBlocks`), which this write keeps up to date.
    public func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64) throws -> [Result<ArraySlice<Candle>, any Error>] {
        try collectingStoreCandles(batches, timeframe: timeframe, window: window, upTo: upTo)
    }

    public func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64,
                             each: (Int, Result<ArraySlice<Candle>, any Error>) -> Void) throws {
        for (k, batch) in batches.enumerated() {
            if !batch.candles.isEmpty {
                do {
                    if batch.candles.count == 1 {
                        try Candles.upsert(db, symbol: batch.symbol, timeframe: timeframe, candles: batch.candles)
                    } else {
                        try db.inSavepoint {
                            try Candles.upsert(db, symbol: batch.symbol, timeframe: timeframe, candles: batch.candles)
                            return .commit
                        }
                    }
                } catch let error as DatabaseError where Self.endsTransaction(error) {
                    throw error
                } catch {
                    each(k, .failure(error))
                    continue
                }
            }
            each(k, .success(batch.readsWindow ? try CandleBlocks.window(db, symbol: batch.symbol, timeframe: timeframe, limit: window, upTo: upTo)[...] : []))
        }
    }

    /// Errors after which the transaction cannot go on (a full disk, I/O, a lost lock): they fail the whole write.
    static func endsTransaction(_ error: DatabaseError) -> Bool {
        switch error.resultCode {
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_NOMEM, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_READONLY: return true
        default: return false
        }
    }

    public func insertPosition(_ p: Position) throws -> Int64 { try Positions.insert(db, p) }
    public func updatePosition(_ p: Position) throws { try Positions.update(db, p) }
    public func activePositions() throws -> [Position] { try Positions.active(db) }
    public func position(id: Int64) throws -> Position? { try Positions.find(db, id: id) }
    public func closedPositions(since: Int64) throws -> [Position] { try Positions.closed(db, since: since) }
    public func lastExitBySymbol() throws -> [Symbol: Int64] { try Positions.lastExitBySymbol(db) }
    public func stopLossExits(since: Int64) throws -> [Int64] { try Positions.stopLossExits(db, since: since) }

    public func insertPendingOrder(clientOrderID: ClientOrderID, runID: RunID, positionID: Int64?, symbol: Symbol, side: OrderSide, purpose: OrderPurpose,
                                   leg: Int, attempt: Int, quantity: Quantity, referencePrice: Price, now: Int64) throws {
        _ = try Orders.insertPending(db, clientOrderID: clientOrderID, runID: runID.rawValue, positionID: positionID, symbol: symbol, side: side,
                                     purpose: purpose, leg: leg, attempt: attempt, quantity: quantity, referencePrice: referencePrice, now: now)
    }
    public func updateOrder(clientOrderID: ClientOrderID, status: OrderStatus, venueOrderID: String?, filledQuantity: Quantity?, averagePrice: Price?,
                            reason: String?, now: Int64) throws {
        try Orders.update(db, clientOrderID: clientOrderID, status: status, venueOrderID: venueOrderID, filledQuantity: filledQuantity,
                          averagePrice: averagePrice, reason: reason, now: now)
    }
    public func unresolvedOrders() throws -> [OrderRow] { try Orders.unresolved(db) }
    public func order(clientOrderID: ClientOrderID) throws -> OrderRow? { try Orders.find(db, clientOrderID: clientOrderID) }
    public func order(venueOrderID: String, symbol: Symbol) throws -> OrderRow? { try Orders.find(db, venueOrderID: venueOrderID, symbol: symbol) }
    public func positionOfAdoptedOrders(naming named: Int64, symbol: Symbol) throws -> Int64? {
        try Orders.positionOfAdoptedOrders(db, naming: named, symbol: symbol)
    }
    public func lastAttempt(positionID: Int64, purpose: OrderPurpose, leg: Int) throws -> Int? {
        try Orders.lastAttempt(db, positionID: positionID, purpose: purpose, leg: leg)
    }
    public func orders(positionID: Int64) throws -> [OrderRow] { try Orders.forPosition(db, positionID: positionID) }
    public func insertFill(_ fill: Fill, runID: RunID) throws -> Bool { try Fills.insert(db, fill, runID: runID.rawValue) }
    public func fills(clientOrderID: ClientOrderID) throws -> [Fill] { try Fills.forOrder(db, clientOrderID: clientOrderID) }

    public func balances() throws -> [String: Money] { try Wallet.balances(db) }
    public func setBalance(asset: String, free: Money) throws { try Wallet.set(db, asset: asset, free: free) }
    public func walletIsEmpty() throws -> Bool { try Wallet.isEmpty(db) }
    public func recordEquity(time: Int64, runID: RunID, equity: Money, cash: Money, safeMode: Bool) throws {
        try EquityHistory.record(db, time: time, runID: runID.rawValue, equity: equity, cash: cash, safeMode: safeMode)
    }
    public func firstEquity(since: Int64) throws -> Money? { try EquityHistory.first(db, since: since) }

    public func totalBreakerOpenings() throws -> Int { try VenueStates.totalBreakerOpenings(db) }
    public func paperOrder(clientOrderID: ClientOrderID) throws -> PaperOrderRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM paper_orders WHERE client_order_id = ?"), arguments: [clientOrderID]) else { return nil }
        let (table, key) = ("paper_orders", clientOrderID.rawValue)
        return try PaperOrderRecord(clientOrderID: clientOrderID, symbol: (try row.decoded("symbol", table: "paper_orders")), side: decodeEnum(row, "side", table: table, key: key),
                                status: decodeEnum(row, "status", table: table, key: key), quantity: fixed(row, "quantity", table: table, key: key),
                                price: optionalFixed(row, "price", table: table, key: key), fee: optionalFixed(row, "fee", table: table, key: key), feeAsset: (try row.decoded("fee_asset", table: "paper_orders")),
                                tradeID: (try row.decoded("trade_id", table: "paper_orders")), time: (try row.decoded("time", table: "paper_orders")), reason: (try row.decoded("reason", table: "paper_orders")))
    }
    public func insertPaperOrder(_ o: PaperOrderRecord) throws {
        try db.cachedStatement(sql: """
            INSERT INTO paper_orders (client_order_id, symbol, side, status, quantity, price, fee, fee_asset, trade_id, time, reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [o.clientOrderID, o.symbol, o.side.rawValue, o.status.rawValue, o.quantity.raw, o.price?.raw, o.fee?.raw,
                             o.feeAsset, o.tradeID, o.time, o.reason])
    }
}

/// The job's state store: one SQLite transaction per `read`/`write`.
public struct SQLiteStateStore: StateStore {
    let database: DatabaseQueue
    init(_ database: DatabaseQueue) { self.database = database }
    public var keepsAudit: Bool { true }
    /// True: the candle write (`writeAside`) runs on the database's own thread, so the windows it reads are analysed
    /// meanwhile (false: after it, the plain order the tests compare with).
    public var pipelinesWindows = true
    /// On the caller's thread, as `write`.
    public func read<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        try readNow(body)
    }
    /// On the caller's thread (the connection is taken with `DispatchQueue.sync`): GRDB's async form hopped to the
    /// database's thread and back, two thread wake-ups per section (a cycle makes about twenty). A section never
    /// waits for another task, so the caller's thread is busy only while SQLite works.
    public func write<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        try writeNow(body)
    }
    public func writeAside<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        try await database.write { db in try body(SQLiteLedger(db)) }
    }
    public func writeNow<T>(_ body: (any Ledger) throws -> T) throws -> T {
        try database.write { db in try body(SQLiteLedger(db)) }
    }
    func readNow<T>(_ body: (any Ledger) throws -> T) throws -> T {
        try database.readTransaction { db in try body(SQLiteLedger(db)) }
    }
}
