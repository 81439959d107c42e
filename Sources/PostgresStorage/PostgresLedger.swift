import Foundation
import Storage
import TradingDomain

extension SQLRow {
    /// A text column holding one of an enum's values; anything else is a `CorruptRow` naming it.
    func enumValue<E: RawRepresentable & CaseIterable>(_ column: String, table: String, key: String?, as type: E.Type = E.self) throws -> E where E.RawValue == String {
        let text = try optionalText(column, table: table, key: key)
        if let text, let value = E(rawValue: text) { return value }
        throw CorruptRow(table: table, column: column, key: key, value: text, expected: "one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
    }

    func optionalEnum<E: RawRepresentable & CaseIterable>(_ column: String, table: String, key: String?, as type: E.Type = E.self) throws -> E? where E.RawValue == String {
        guard try optionalText(column, table: table, key: key) != nil else { return nil }
        return try enumValue(column, table: table, key: key) as E
    }

    func fixed<T: FixedPointValue>(_ column: String, table: String, key: String?) throws -> T { T(raw: try int64(column, table: table, key: key)) }
    func optionalFixed<T: FixedPointValue>(_ column: String, table: String, key: String?) throws -> T? {
        try optionalInt64(column, table: table, key: key).map { T(raw: $0) }
    }
}

/// The ledger on an account's PostgreSQL schema (the session's `search_path`): each method the SQLite ledger's
/// statement in PostgreSQL's dialect, inside the transaction `PostgresState` opened.
public struct PostgresLedger: Ledger {
    let session: PostgresSession
    init(_ session: PostgresSession) { self.session = session }
    public var keepsAudit: Bool { true }

    func rows(_ sql: String, _ binds: [SQLValue] = []) throws -> [SQLRow] { try session.query(sql, binds) }
    /// A statement whose rows (if any) are not wanted.
    func run(_ sql: String, _ binds: [SQLValue] = []) throws { _ = try session.query(sql, binds) }
    func row(_ sql: String, _ binds: [SQLValue] = []) throws -> SQLRow? { try session.query(sql, binds).first }

    // MARK: Runs

    public func startRun(startedAt: Int64, configHash: String) throws -> RunID {
        guard let r = try row("INSERT INTO runs (started_at, config_hash, outcome) VALUES ($1, $2, $3) RETURNING id",
                              [.int(startedAt), .text(configHash), .text(RunOutcome.running.rawValue)]) else {
            throw PostgresStateError(message: "INSERT INTO runs returned no id")
        }
        return RunID(rawValue: try r.int64("id", table: "runs"))
    }

    public func finishRun(id: RunID, endedAt: Int64, outcome: RunOutcome, volatility: Double?, next: (seconds: Int64, reason: String, at: Int64)?,
                          symbolsAnalysed: Int, symbolsFailed: [Symbol], summary: @autoclosure () -> String) throws {
        try run("""
            UPDATE runs SET ended_at = $1, outcome = $2, volatility = $3, interval_seconds = $4, interval_reason = $5, next_run_at = $6,
            symbols_analysed = $7, symbols_failed = $8, summary = $9 WHERE id = $10
            """, [.int(endedAt), .text(outcome.rawValue), .optional(volatility), .optional(next?.seconds), .optional(next?.reason), .optional(next?.at),
                  .int(Int64(symbolsAnalysed)), .text(symbolsFailed.map(\.rawValue).joined(separator: ",")), .text(summary()), .int(id.rawValue)])
    }

    public func markAbandonedRuns(endedAt: Int64) throws -> [RunID] {
        try rows("UPDATE runs SET ended_at = $1, outcome = $2 WHERE ended_at IS NULL RETURNING id", [.int(endedAt), .text(RunOutcome.crashed.rawValue)])
            .map { RunID(rawValue: try $0.int64("id", table: "runs")) }.sorted()
    }

    /// The newest run's config hash; the whole row is decoded (as SQLite's ledger does), so a damaged run row stops
    /// the cycle before it starts a run.
    public func lastConfigHash() throws -> String? {
        try row("SELECT * FROM runs ORDER BY id DESC LIMIT 1").map(PostgresState.run)?.configHash
    }

    public func consecutiveFailedRuns() throws -> Int {
        var count = 0
        for r in try rows("SELECT outcome, symbols_analysed FROM runs WHERE ended_at IS NOT NULL ORDER BY id DESC LIMIT 100") {
            let outcome: RunOutcome = try r.enumValue("outcome", table: "runs", key: nil)
            let analysed = try r.int("symbols_analysed", table: "runs")
            if outcome == .failed || outcome == .crashed || (outcome == .partial && analysed == 0) { count += 1 }
            else if outcome == .interrupted { continue }
            else { break }
        }
        return count
    }

    public func runsByInterval() throws -> [Int64: Int] {
        var result: [Int64: Int] = [:]
        for r in try rows("SELECT interval_seconds, COUNT(*) AS n FROM runs WHERE interval_seconds IS NOT NULL GROUP BY interval_seconds") {
            result[try r.int64("interval_seconds", table: "runs")] = try r.int("n", table: "runs")
        }
        return result
    }

    public func fillCount(runID: RunID) throws -> Int {
        try row("SELECT COUNT(*) AS n FROM fills WHERE run_id = $1", [.int(runID.rawValue)])?.int("n", table: "fills") ?? 0
    }

    public func runStarted(after runID: RunID) throws -> Int64? {
        try row("SELECT MIN(started_at) AS t FROM runs WHERE id > $1", [.int(runID.rawValue)])?.optionalInt64("t", table: "runs")
    }

    // MARK: Events, signals, job state

    public func appendEvent(runID: RunID?, time: Int64, kind: EventKind, symbol: Symbol?, message: @autoclosure () -> String,
                            data: @autoclosure () -> [String: String]?) throws {
        try run("INSERT INTO events (run_id, time, kind, symbol, message, data) VALUES ($1, $2, $3, $4, $5, $6)",
                 [.optional(runID?.rawValue), .int(time), .text(kind.rawValue), .optional(symbol?.rawValue), .text(message()), .optional(data().map(CompactJSON.object))])
    }

    public func insertSignal(runID: RunID, signal: Signal) throws {
        let json = Signals.jsonColumns(signal)
        try run("""
            INSERT INTO signals (run_id, symbol, candle_time, direction, confidence, score, components, indicators, patterns, opinion)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [.int(runID.rawValue), .text(signal.symbol.rawValue), .int(signal.candleTime), .text(signal.direction.rawValue), .double(signal.confidence),
                  .double(signal.score), .text(json.components), .text(json.indicators), .text(json.patterns), .optional(json.opinion)])
    }

    public func jobState(_ key: String) throws -> String? {
        try row("SELECT value FROM job_state WHERE key = $1", [.text(key)])?.text("value", table: "job_state", key: key)
    }

    public func setJobState(_ key: String, _ value: @autoclosure () -> String) throws {
        try run("INSERT INTO job_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [.text(key), .text(value())])
    }

    public func removeJobState(_ key: String) throws { try run("DELETE FROM job_state WHERE key = $1", [.text(key)]) }

    public func jobStates(prefix: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for r in try rows("SELECT key, value FROM job_state WHERE starts_with(key, $1)", [.text(prefix)]) {
            result[try r.text("key", table: "job_state")] = try r.text("value", table: "job_state")
        }
        return result
    }

    public func equityPeak() throws -> Money? {
        guard let text = try jobState("equity.peak") else { return nil }
        guard let peak = try? Money(parsing: text, rounding: .halfEven) else {
            throw CorruptRow(table: "job_state", column: "value", key: "equity.peak", value: text, expected: "a decimal number")
        }
        return peak
    }

    public func setEquityPeak(_ peak: Money?) throws {
        if let peak { try setJobState("equity.peak", peak.description) } else { try removeJobState("equity.peak") }
    }

    // MARK: Candles

    public func newestCandleTime(symbol: Symbol, timeframe: Timeframe) throws -> Int64? {
        try row("SELECT MAX(open_time) AS t FROM candles WHERE symbol = $1 AND timeframe = $2", [.text(symbol.rawValue), .text(timeframe.name)])?
            .optionalInt64("t", table: "candles")
    }

    public func upsertCandles(symbol: Symbol, timeframe: Timeframe, candles: [Candle]) throws {
        // In chunks of one statement each (a first run backfills hundreds of candles per symbol).
        let perStatement = 500
        var start = 0
        while start < candles.count {
            let chunk = candles[start..<min(start + perStatement, candles.count)]
            var sql = "INSERT INTO candles (symbol, timeframe, open_time, open, high, low, close, volume) VALUES "
            var binds: [SQLValue] = [.text(symbol.rawValue), .text(timeframe.name)]
            binds.reserveCapacity(2 + chunk.count * 6)
            for (k, c) in chunk.enumerated() {
                let base = 3 + k * 6
                sql += (k == 0 ? "" : ", ") + "($1, $2, $\(base), $\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5))"
                binds += [.int(c.openTime), .double(c.open), .double(c.high), .double(c.low), .double(c.close), .double(c.volume)]
            }
            sql += " ON CONFLICT (symbol, timeframe, open_time) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, volume = excluded.volume"
            try run(sql, binds)
            start += perStatement
        }
    }

    public func candleWindow(symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64) throws -> ArraySlice<Candle> {
        let found = try rows("""
            SELECT open_time, open, high, low, close, volume FROM candles WHERE symbol = $1 AND timeframe = $2 AND open_time <= $3
            ORDER BY open_time DESC LIMIT $4
            """, [.text(symbol.rawValue), .text(timeframe.name), .int(upTo), .int(Int64(limit))])
        var result: [Candle] = []
        result.reserveCapacity(found.count)
        // By column position (the select list above): a window is hundreds of rows, a name lookup per cell adds up.
        for r in found.reversed() {
            result.append(Candle(openTime: try r.int64(at: 0, table: "candles"), open: try r.double(at: 1, table: "candles"), high: try r.double(at: 2, table: "candles"),
                                 low: try r.double(at: 3, table: "candles"), close: try r.double(at: 4, table: "candles"), volume: try r.double(at: 5, table: "candles")))
        }
        return result[...]
    }

    /// Each batch under a savepoint of its own: a batch that fails leaves nothing behind and the transaction goes on.
    public func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64) throws -> [Result<ArraySlice<Candle>, any Error>] {
        try collectingStoreCandles(batches, timeframe: timeframe, window: window, upTo: upTo)
    }

    public func storeCandles(_ batches: [CandleBatch], timeframe: Timeframe, window: Int, upTo: Int64,
                             each: (Int, Result<ArraySlice<Candle>, any Error>) -> Void) throws {
        for (k, batch) in batches.enumerated() {
            if !batch.candles.isEmpty {
                try session.execute("SAVEPOINT candles")
                do {
                    try upsertCandles(symbol: batch.symbol, timeframe: timeframe, candles: batch.candles)
                    try session.execute("RELEASE SAVEPOINT candles")
                } catch let error as PostgresStateError where error.sqlState == nil {
                    throw error  // the connection is gone: the whole write fails
                } catch {
                    try session.execute("ROLLBACK TO SAVEPOINT candles")
                    each(k, .failure(error))
                    continue
                }
            }
            each(k, .success(batch.readsWindow ? try candleWindow(symbol: batch.symbol, timeframe: timeframe, limit: window, upTo: upTo) : []))
        }
    }

    // MARK: Positions

    static let positionColumns = """
        symbol, state, quantity, entry_price, initial_entry_price, cost, stop_price, take_profit_price, highest_price, atr_at_entry, adjustments,
        partial_take_profit_done, opened_at, last_checked_candle, realized_pnl, fees
        """

    func positionValues(_ p: Position) -> [SQLValue] {
        [.text(p.symbol.rawValue), .text(p.state.rawValue), .int(p.quantity.raw), .int(p.entryPrice.raw), .int(p.initialEntryPrice.raw), .int(p.cost.raw),
         .optional(p.stopPrice?.raw), .optional(p.takeProfitPrice?.raw), .optional(p.highestPrice?.raw), .double(p.atrAtEntry), .int(Int64(p.adjustments)),
         .bool(p.partialTakeProfitDone), .int(p.openedAt), .int(p.lastCheckedCandle), .int(p.realizedPnL.raw), .int(p.fees.raw)]
    }

    public func insertPosition(_ p: Position) throws -> Int64 {
        guard let r = try row("INSERT INTO positions (\(Self.positionColumns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
                              positionValues(p)) else { throw PostgresStateError(message: "INSERT INTO positions returned no id") }
        return try r.int64("id", table: "positions")
    }

    public func updatePosition(_ p: Position) throws {
        try run("""
            UPDATE positions SET state = $1, quantity = $2, entry_price = $3, initial_entry_price = $4, cost = $5, stop_price = $6,
            take_profit_price = $7, highest_price = $8, atr_at_entry = $9, adjustments = $10, partial_take_profit_done = $11,
            last_checked_candle = $12, closed_at = $13, exit_price = $14, exit_reason = $15, realized_pnl = $16, fees = $17 WHERE id = $18
            """, [.text(p.state.rawValue), .int(p.quantity.raw), .int(p.entryPrice.raw), .int(p.initialEntryPrice.raw), .int(p.cost.raw),
                  .optional(p.stopPrice?.raw), .optional(p.takeProfitPrice?.raw), .optional(p.highestPrice?.raw), .double(p.atrAtEntry),
                  .int(Int64(p.adjustments)), .bool(p.partialTakeProfitDone), .int(p.lastCheckedCandle), .optional(p.closedAt), .optional(p.exitPrice?.raw),
                  .optional(p.exitReason?.rawValue), .int(p.realizedPnL.raw), .int(p.fees.raw), .int(p.id)])
    }

    static func position(_ r: SQLRow) throws -> Position {
        let t = "positions"
        let id = try r.int64("id", table: t), key = "\(id)"
        return Position(id: id, symbol: Symbol(rawValue: try r.text("symbol", table: t, key: key)), state: try r.enumValue("state", table: t, key: key),
                        quantity: try r.fixed("quantity", table: t, key: key), entryPrice: try r.fixed("entry_price", table: t, key: key),
                        initialEntryPrice: try r.fixed("initial_entry_price", table: t, key: key), cost: try r.fixed("cost", table: t, key: key),
                        stopPrice: try r.optionalFixed("stop_price", table: t, key: key), takeProfitPrice: try r.optionalFixed("take_profit_price", table: t, key: key),
                        highestPrice: try r.optionalFixed("highest_price", table: t, key: key), atrAtEntry: try r.double("atr_at_entry", table: t, key: key),
                        adjustments: try r.int("adjustments", table: t, key: key), partialTakeProfitDone: try r.bool("partial_take_profit_done", table: t, key: key),
                        openedAt: try r.int64("opened_at", table: t, key: key), lastCheckedCandle: try r.int64("last_checked_candle", table: t, key: key),
                        closedAt: try r.optionalInt64("closed_at", table: t, key: key), exitPrice: try r.optionalFixed("exit_price", table: t, key: key),
                        exitReason: try r.optionalEnum("exit_reason", table: t, key: key),
                        realizedPnL: try r.fixed("realized_pnl", table: t, key: key), fees: try r.fixed("fees", table: t, key: key))
    }

    public func activePositions() throws -> [Position] { try rows("SELECT * FROM positions WHERE state != 'CLOSED' ORDER BY id").map(Self.position) }
    public func position(id: Int64) throws -> Position? { try row("SELECT * FROM positions WHERE id = $1", [.int(id)]).map(Self.position) }
    public func closedPositions(since: Int64) throws -> [Position] {
        try rows("SELECT * FROM positions WHERE state = 'CLOSED' AND closed_at >= $1 ORDER BY closed_at, id", [.int(since)]).map(Self.position)
    }

    public func lastExitBySymbol() throws -> [Symbol: Int64] {
        var result: [Symbol: Int64] = [:]
        for r in try rows("""
            SELECT symbol, MAX(closed_at) AS t FROM positions WHERE closed_at IS NOT NULL AND COALESCE(exit_reason, '') != 'entry_failed' GROUP BY symbol
            """) {
            result[Symbol(rawValue: try r.text("symbol", table: "positions"))] = try r.int64("t", table: "positions")
        }
        return result
    }

    public func stopLossExits(since: Int64) throws -> [Int64] {
        try rows("SELECT closed_at FROM positions WHERE exit_reason IN ('stop_loss', 'trailing_stop') AND closed_at >= $1 ORDER BY closed_at", [.int(since)])
            .map { try $0.int64("closed_at", table: "positions") }
    }

    // MARK: Orders and fills

    public func insertPendingOrder(clientOrderID: ClientOrderID, runID: RunID, positionID: Int64?, symbol: Symbol, side: OrderSide, purpose: OrderPurpose,
                                   leg: Int, attempt: Int, quantity: Quantity, referencePrice: Price, now: Int64) throws {
        try run("""
            INSERT INTO orders (client_order_id, run_id, position_id, symbol, side, type, purpose, leg, attempt, quantity, price, status, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, 'MARKET', $6, $7, $8, $9, $10, 'PENDING_SUBMIT', $11, $11)
            """, [.text(clientOrderID.rawValue), .int(runID.rawValue), .optional(positionID), .text(symbol.rawValue), .text(side.rawValue), .text(purpose.rawValue),
                  .int(Int64(leg)), .int(Int64(attempt)), .int(quantity.raw), .int(referencePrice.raw), .int(now)])
    }

    public func updateOrder(clientOrderID: ClientOrderID, status: OrderStatus, venueOrderID: String?, filledQuantity: Quantity?, averagePrice: Price?,
                            reason: String?, now: Int64) throws {
        if let stored = try row("SELECT status FROM orders WHERE client_order_id = $1 FOR UPDATE", [.text(clientOrderID.rawValue)]) {
            let from: OrderStatus = try stored.enumValue("status", table: "orders", key: clientOrderID.rawValue)
            try OrderStatusTransitions.check(clientOrderID: clientOrderID, from: from, to: status)
        }
        try run("""
            UPDATE orders SET status = $1, venue_order_id = COALESCE($2, venue_order_id), filled_quantity = COALESCE($3, filled_quantity),
            average_price = COALESCE($4, average_price),
            reason = CASE WHEN $5::TEXT IS NOT NULL THEN $5 WHEN status != $1 THEN NULL ELSE reason END, updated_at = $6 WHERE client_order_id = $7
            """, [.text(status.rawValue), .optional(venueOrderID), .optional(filledQuantity?.raw), .optional(averagePrice?.raw), .optional(reason), .int(now),
                  .text(clientOrderID.rawValue)])
    }

    static func order(_ r: SQLRow) throws -> OrderRow {
        let t = "orders"
        let key = try r.text("client_order_id", table: t)
        return OrderRow(id: try r.int64("id", table: t, key: key), clientOrderID: ClientOrderID(rawValue: key), runID: RunID(rawValue: try r.int64("run_id", table: t, key: key)),
                        positionID: try r.optionalInt64("position_id", table: t, key: key), symbol: Symbol(rawValue: try r.text("symbol", table: t, key: key)),
                        side: try r.enumValue("side", table: t, key: key), purpose: try r.enumValue("purpose", table: t, key: key),
                        leg: try r.int("leg", table: t, key: key), attempt: try r.int("attempt", table: t, key: key), quantity: try r.fixed("quantity", table: t, key: key),
                        status: try r.enumValue("status", table: t, key: key), venueOrderID: try r.optionalText("venue_order_id", table: t, key: key),
                        filledQuantity: try r.fixed("filled_quantity", table: t, key: key), averagePrice: try r.optionalFixed("average_price", table: t, key: key),
                        reason: try r.optionalText("reason", table: t, key: key), createdAt: try r.int64("created_at", table: t, key: key),
                        updatedAt: try r.int64("updated_at", table: t, key: key))
    }

    public func unresolvedOrders() throws -> [OrderRow] {
        try rows("SELECT * FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN', 'NEW', 'PARTIALLY_FILLED') ORDER BY id").map(Self.order)
    }
    public func order(clientOrderID: ClientOrderID) throws -> OrderRow? {
        try row("SELECT * FROM orders WHERE client_order_id = $1", [.text(clientOrderID.rawValue)]).map(Self.order)
    }
    public func order(venueOrderID: String, symbol: Symbol) throws -> OrderRow? {
        try row("SELECT * FROM orders WHERE venue_order_id = $1 AND symbol = $2", [.text(venueOrderID), .text(symbol.rawValue)]).map(Self.order)
    }
    public func positionOfAdoptedOrders(naming named: Int64, symbol: Symbol) throws -> Int64? {
        try row("""
            SELECT position_id FROM orders WHERE symbol = $1 AND starts_with(client_order_id, $2) AND position_id IS NOT NULL AND position_id <> $3
            ORDER BY id DESC LIMIT 1
            """, [.text(symbol.rawValue), .text("tj-\(named)-"), .int(named)])?.optionalInt64("position_id", table: "orders")
    }
    public func lastAttempt(positionID: Int64, purpose: OrderPurpose, leg: Int) throws -> Int? {
        try row("SELECT MAX(attempt) AS a FROM orders WHERE position_id = $1 AND purpose = $2 AND leg = $3", [.int(positionID), .text(purpose.rawValue), .int(Int64(leg))])?
            .optionalInt64("a", table: "orders").map(Int.init)
    }
    public func orders(positionID: Int64) throws -> [OrderRow] {
        try rows("SELECT * FROM orders WHERE position_id = $1 ORDER BY id", [.int(positionID)]).map(Self.order)
    }

    public func insertFill(_ fill: Fill, runID: RunID) throws -> Bool {
        try !rows("""
            INSERT INTO fills (client_order_id, trade_id, symbol, side, quantity, price, fee, fee_asset, time, run_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (symbol, trade_id) DO NOTHING RETURNING id
            """, [.text(fill.clientOrderID.rawValue), .text(fill.tradeID.rawValue), .text(fill.symbol.rawValue), .text(fill.side.rawValue), .int(fill.quantity.raw),
                  .int(fill.price.raw), .int(fill.fee.raw), .text(fill.feeAsset), .int(fill.time), .int(runID.rawValue)]).isEmpty
    }

    public func fills(clientOrderID: ClientOrderID) throws -> [Fill] {
        try rows("SELECT * FROM fills WHERE client_order_id = $1 ORDER BY id", [.text(clientOrderID.rawValue)]).map { r in
            let t = "fills", key = "\(try r.int64("id", table: t))"
            return Fill(clientOrderID: ClientOrderID(rawValue: try r.text("client_order_id", table: t, key: key)), tradeID: TradeID(rawValue: try r.text("trade_id", table: t, key: key)),
                        symbol: Symbol(rawValue: try r.text("symbol", table: t, key: key)), side: try r.enumValue("side", table: t, key: key),
                        quantity: try r.fixed("quantity", table: t, key: key), price: try r.fixed("price", table: t, key: key), fee: try r.fixed("fee", table: t, key: key),
                        feeAsset: try r.text("fee_asset", table: t, key: key), time: try r.int64("time", table: t, key: key))
        }
    }

    // MARK: Wallet and equity

    public func balances() throws -> [String: Money] {
        var result: [String: Money] = [:]
        for r in try rows("SELECT asset, free FROM wallet") {
            let asset = try r.text("asset", table: "wallet")
            result[asset] = try r.fixed("free", table: "wallet", key: asset)
        }
        return result
    }

    public func setBalance(asset: String, free: Money) throws {
        try run("INSERT INTO wallet (asset, free) VALUES ($1, $2) ON CONFLICT (asset) DO UPDATE SET free = excluded.free", [.text(asset), .int(free.raw)])
    }

    public func walletIsEmpty() throws -> Bool { try row("SELECT 1 AS one FROM wallet LIMIT 1") == nil }

    public func recordEquity(time: Int64, runID: RunID, equity: Money, cash: Money, safeMode: Bool) throws {
        try run("""
            INSERT INTO equity (time, run_id, equity, cash, safe_mode) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (time, run_id) DO UPDATE SET equity = excluded.equity, cash = excluded.cash, safe_mode = excluded.safe_mode
            """, [.int(time), .int(runID.rawValue), .int(equity.raw), .int(cash.raw), .bool(safeMode)])
    }

    public func firstEquity(since: Int64) throws -> Money? {
        try row("SELECT equity FROM equity WHERE time >= $1 ORDER BY time, run_id LIMIT 1", [.int(since)])?.fixed("equity", table: "equity", key: nil)
    }

    // MARK: Venue and paper broker

    public func totalBreakerOpenings() throws -> Int {
        try row("SELECT COALESCE(SUM(breaker_openings), 0)::BIGINT AS n FROM venue_state")?.int("n", table: "venue_state") ?? 0
    }

    public func paperOrder(clientOrderID: ClientOrderID) throws -> PaperOrderRecord? {
        guard let r = try row("SELECT * FROM paper_orders WHERE client_order_id = $1", [.text(clientOrderID.rawValue)]) else { return nil }
        let t = "paper_orders", key = clientOrderID.rawValue
        return PaperOrderRecord(clientOrderID: clientOrderID, symbol: Symbol(rawValue: try r.text("symbol", table: t, key: key)), side: try r.enumValue("side", table: t, key: key),
                                status: try r.enumValue("status", table: t, key: key), quantity: try r.fixed("quantity", table: t, key: key),
                                price: try r.optionalFixed("price", table: t, key: key), fee: try r.optionalFixed("fee", table: t, key: key),
                                feeAsset: try r.optionalText("fee_asset", table: t, key: key), tradeID: try r.optionalText("trade_id", table: t, key: key).map(TradeID.init(rawValue:)),
                                time: try r.int64("time", table: t, key: key), reason: try r.optionalText("reason", table: t, key: key))
    }

    public func insertPaperOrder(_ o: PaperOrderRecord) throws {
        try run("""
            INSERT INTO paper_orders (client_order_id, symbol, side, status, quantity, price, fee, fee_asset, trade_id, time, reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, [.text(o.clientOrderID.rawValue), .text(o.symbol.rawValue), .text(o.side.rawValue), .text(o.status.rawValue), .int(o.quantity.raw),
                  .optional(o.price?.raw), .optional(o.fee?.raw), .optional(o.feeAsset), .optional(o.tradeID?.rawValue), .int(o.time), .optional(o.reason)])
    }
}
