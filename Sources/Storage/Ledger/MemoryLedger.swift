import Foundation
import Synchronization
import TradingDomain

/// The ledger in memory, for backtests: the same state the SQLite ledger keeps, indexed for the cycle's questions,
/// without the audit trail (no events, no stored signals, no run rows beyond the counters the cycle reads). What it
/// holds grows with trades, never with the number of cycles (equity points are kept for the current UTC day); candles
/// are kept all, or only the newest ones when a retention is given.
public final class MemoryLedger: Ledger {
    public var keepsAudit: Bool { false }
    /// How many of the newest candles per series are sure to be kept (nil: all). Backtests keep what the cycle's
    /// window needs: their history is already in memory once, in the replayed market.
    let candleRetention: Int?

    public init(candleRetention: Int? = nil) { self.candleRetention = candleRetention.map { max(1, $0) } }

    // The state below is read and written only inside a section of the store, one at a time (`MemoryStateStore`'s
    // lock), so the run-time exclusivity checks are left out (`@exclusivity(unchecked)`): they cost more than most
    // of the calls they guard.

    // Runs: only what the cycle asks back.
    @exclusivity(unchecked) private var nextRunID: RunID = 1
    @exclusivity(unchecked) private var unfinishedRuns: [RunID] = []
    @exclusivity(unchecked) private var configHash: String?
    @exclusivity(unchecked) private var failureStreak = 0
    /// Runs per next-run interval (a handful of intervals: a short list, searched in order).
    @exclusivity(unchecked) private var intervalCounts: [(seconds: Int64, runs: Int)] = []
    @exclusivity(unchecked) private var fillsByRun: (runID: RunID, count: Int) = (0, 0)

    @exclusivity(unchecked) private var state: [String: String] = [:]
    @exclusivity(unchecked) private var peak: Money?
    /// Candles per symbol and timeframe, in a box so that appending does not copy.
    private final class Series {
        let seconds: Int64
        var candles: [Candle] = []
        init(seconds: Int64) { self.seconds = seconds }
    }
    /// Per symbol, one series per timeframe.
    @exclusivity(unchecked) private var candles = SymbolTable<[Series]>()

    /// Every position by id (ids are 1, 2, 3, … in insertion order: position id is at index id − 1).
    @exclusivity(unchecked) private var positions = SegmentedArray<Position>()
    /// The active positions (not closed) in insertion order, the same values as in `positions`: the cycle asks for them
    /// every run, so they are kept as a list instead of built.
    @exclusivity(unchecked) private var active: [Position] = []
    @exclusivity(unchecked) private var closedIDs: [Int64] = []
    @exclusivity(unchecked) private var lastExits: [Symbol: Int64] = [:]
    @exclusivity(unchecked) private var stopExits: [Int64] = []
    @exclusivity(unchecked) private var nextPositionID: Int64 = 1

    /// Orders in the order inserted (a list grows by appending, where a table of whole rows would be moved at every
    /// resize). An order whose client order id names its own position (`tj-<position>-…`, as `ClientOrderID.make` writes
    /// it: every order the cycle writes) is found among that position's orders; any other through `orderSlot`.
    @exclusivity(unchecked) private var orderRows = SegmentedArray<OrderRow>()
    @exclusivity(unchecked) private var orderSlot: [ClientOrderID: Int] = [:]
    /// The order last inserted or found: an order's steps (write-ahead, fill, status) ask for the same one in a row.
    @exclusivity(unchecked) private var recentOrder: (id: ClientOrderID, slot: Int)?
    /// Each position's orders (slots in `orderRows`), oldest first: at index id − 1 for the ledger's positions (beside
    /// `positions`), in `otherOrderSlots` for an id it does not hold.
    @exclusivity(unchecked) private var orderSlotsByPosition: [[Int]] = []
    @exclusivity(unchecked) private var otherOrderSlots: [Int64: [Int]] = [:]
    @exclusivity(unchecked) private var unresolvedSlots: [Int] = []
    @exclusivity(unchecked) private var nextOrderID: Int64 = 1
    /// Fills per order slot, and fills of orders the ledger does not hold (by client order id).
    @exclusivity(unchecked) private var orderFills: [[Fill]] = []
    @exclusivity(unchecked) private var otherFills: [ClientOrderID: [Fill]] = [:]
    /// The venue's trade ids per symbol (a trade is booked once).
    @exclusivity(unchecked) private var tradeKeys = TradeIndex()

    /// The wallet: a handful of assets, searched in order (cheaper than hashing the asset's name at every order).
    @exclusivity(unchecked) private var wallet: [(asset: String, free: Money)] = []
    @exclusivity(unchecked) private var equity: [EquityPoint] = []
    @exclusivity(unchecked) private var paperOrders = SegmentedArray<PaperOrderRecord>()
    /// Per order slot, the index of its paper order in `paperOrders` (-1: none); a paper order for a client order id
    /// the ledger does not hold (yet) is found in `otherPaperOrders`. Each paper order is in exactly one of the two.
    @exclusivity(unchecked) private var paperOrderBySlot: [Int] = []
    @exclusivity(unchecked) private var otherPaperOrders: [ClientOrderID: Int] = [:]

    // MARK: Runs
    public func startRun(startedAt: Int64, configHash: String) throws -> RunID {
        let id = nextRunID
        nextRunID = RunID(rawValue: nextRunID.rawValue + 1)
        unfinishedRuns.append(id)
        self.configHash = configHash
        return id
    }
    public func finishRun(id: RunID, endedAt: Int64, outcome: RunOutcome, volatility: Double?, next: (seconds: Int64, reason: String, at: Int64)?,
                          symbolsAnalysed: Int, symbolsFailed: [Symbol], summary: @autoclosure () -> String) throws {
        if unfinishedRuns.last == id { unfinishedRuns.removeLast() } else { unfinishedRuns.removeAll { $0 == id } }
        countOutcome(outcome, analysed: symbolsAnalysed)
        if let next {
            if let i = intervalCounts.firstIndex(where: { $0.seconds == next.seconds }) { intervalCounts[i].runs += 1 } else { intervalCounts.append((next.seconds, 1)) }
        }
    }
    /// One idle cycle of a backtest recorded at once: what `startRun`, `recordEquity`, raising the equity peak to
    /// `equity` when it is above it, and `finishRun` (outcome ok, next run in `intervalSeconds`) leave, without the
    /// steps in between (`IdleCycles.recordStretch`; `MemoryLedgerTests` compares the two).
    public func recordIdleRun(time: Int64, configHash: String, equity e: Money, cash: Money, intervalSeconds: Int64) {
        nextRunID = RunID(rawValue: nextRunID.rawValue + 1)
        if self.configHash != configHash { self.configHash = configHash }
        failureStreak = 0
        if let i = intervalCounts.firstIndex(where: { $0.seconds == intervalSeconds }) { intervalCounts[i].runs += 1 } else { intervalCounts.append((intervalSeconds, 1)) }
        appendEquity(EquityPoint(time: time, equity: e, cash: cash, safeMode: false))
        if peak.map({ e > $0 }) ?? true { peak = e }
    }
    private func countOutcome(_ outcome: RunOutcome, analysed: Int) {
        if outcome == .failed || outcome == .crashed || (outcome == .partial && analysed == 0) { failureStreak = min(failureStreak + 1, 100) }
        else if outcome != .interrupted { failureStreak = 0 }
    }
    public func markAbandonedRuns(endedAt: Int64) throws -> [RunID] {
        guard !unfinishedRuns.isEmpty else { return [] }  // (the list keeps its storage for the next run)
        let ids = unfinishedRuns
        unfinishedRuns = []
        for _ in ids { countOutcome(.crashed, analysed: 0) }
        return ids
    }
    public func lastConfigHash() throws -> String? { configHash }
    public func consecutiveFailedRuns() throws -> Int { failureStreak }
    public func runsByInterval() throws -> [Int64: Int] { Dictionary(uniqueKeysWithValues: intervalCounts.map { ($0.seconds, $0.runs) }) }
    public func fillCount(runID: RunID) throws -> Int { fillsByRun.runID == runID ? fillsByRun.count : 0 }

    // MARK: Events, signals, job state
    public func appendEvent(runID: RunID?, time: Int64, kind: EventKind, symbol: Symbol?, message: @autoclosure () -> String,
                            data: @autoclosure () -> [String: String]?) throws {}
    public func insertSignal(runID: RunID, signal: Signal) throws {}
    /// The job's status (`job.state`), which every cycle writes three times: kept apart from `state`, not hashed.
    @exclusivity(unchecked) private var jobStatus: String?
    public func jobState(_ key: String) throws -> String? { key == JobStatus.key ? jobStatus : state[key] }
    public func setJobState(_ key: String, _ value: @autoclosure () -> String) throws {
        if key == JobStatus.key { jobStatus = value(); return }
        state[key] = value()
        jobStateChanges &+= 1
    }
    public func removeJobState(_ key: String) throws {
        if key == JobStatus.key { jobStatus = nil; return }
        state[key] = nil
        jobStateChanges &+= 1
    }
    /// Count the changes of the job state (but for the job's status, `job.state`, which every cycle writes) and of the
    /// wallet: a reader may keep what it parsed from them until these move.
    @exclusivity(unchecked) public private(set) var jobStateChanges = 0, walletChanges = 0
    public func jobStates(prefix: String) throws -> [String: String] {
        var found: [String: String] = [:]  // no storage allocated while nothing matches
        for (key, value) in state where key.hasPrefix(prefix) { found[key] = value }
        if let jobStatus, JobStatus.key.hasPrefix(prefix) { found[JobStatus.key] = jobStatus }
        return found
    }
    public func equityPeak() throws -> Money? { peak }
    public func setEquityPeak(_ peak: Money?) throws { self.peak = peak }

    // MARK: Candles
    private func series(_ symbol: Symbol, _ timeframe: Timeframe) -> Series? {
        guard let list = candles[symbol] else { return nil }
        for box in list where box.seconds == timeframe.seconds { return box }
        return nil
    }
    public func newestCandleTime(symbol: Symbol, timeframe: Timeframe) throws -> Int64? { series(symbol, timeframe)?.candles.last?.openTime }
    public func upsertCandles(symbol: Symbol, timeframe: Timeframe, candles new: [Candle]) throws {
        guard !new.isEmpty else { return }
        let box: Series
        if let existing = series(symbol, timeframe) { box = existing } else {
            box = Series(seconds: timeframe.seconds)
            candles[symbol] = (candles[symbol] ?? []) + [box]
        }
        // The usual batch: newer than the stored ones and ascending, appended at once.
        var ascending = box.candles.last.map { new[0].openTime > $0.openTime } ?? true
        var k = 1
        while ascending, k < new.count { ascending = new[k].openTime > new[k - 1].openTime; k += 1 }
        if ascending {
            box.candles.append(contentsOf: new)
        } else {
            for c in new {
                if let last = box.candles.last, c.openTime <= last.openTime {
                    let i = Self.lowerBound(box.candles, c.openTime)
                    if i < box.candles.count, box.candles[i].openTime == c.openTime { box.candles[i] = c } else { box.candles.insert(c, at: i) }
                } else {
                    box.candles.append(c)
                }
            }
        }
        // Dropped in batches, so that keeping the window costs O(1) per candle.
        if let keep = candleRetention, box.candles.count >= 2 * keep {
            box.candles.removeFirst(box.candles.count - keep)
        }
    }
    public func candleWindow(symbol: Symbol, timeframe: Timeframe, limit: Int, upTo: Int64) throws -> ArraySlice<Candle> {
        guard let box = series(symbol, timeframe), limit > 0 else { return [] }
        let all = box.candles
        let end = upTo == .max || (all.last.map { $0.openTime <= upTo } ?? true) ? all.count : Self.lowerBound(all, upTo &+ 1)
        return all[max(0, end - limit)..<end]  // shares the storage: no copy
    }
    static func lowerBound(_ series: [Candle], _ t: Int64) -> Int { series.lowerBound(of: t) { $0.openTime } }

    // MARK: Positions
    public func insertPosition(_ p: Position) throws -> Int64 {
        var p = p
        p.id = nextPositionID
        nextPositionID += 1
        positions.append(p)
        orderSlotsByPosition.append(otherOrderSlots.isEmpty ? [] : otherOrderSlots.removeValue(forKey: p.id) ?? [])
        if p.state == .closed { closedIDs.append(p.id) } else { active.append(p) }
        return p.id
    }
    private func index(_ id: Int64) -> Int? { id >= 1 && id <= Int64(positions.count) ? Int(id - 1) : nil }
    public func updatePosition(_ p: Position) throws {
        guard let i = index(p.id) else { return }
        let wasClosed = positions[i].state == .closed
        positions[i] = p
        if let k = active.firstIndex(where: { $0.id == p.id }) {
            if p.state == .closed { active.remove(at: k) } else { active[k] = p }
        } else if p.state != .closed {
            active.append(p)  // re-opened (a late fill): active again, after the others (`activeIDs` order in SQLite is by id)
            active.sort { $0.id < $1.id }
        }
        if p.state == .closed && !wasClosed {
            closedIDs.append(p.id)
            if let t = p.closedAt, p.exitReason == .stopLoss || p.exitReason == .trailingStop { stopExits.append(t) }
        }
        if let t = p.closedAt, p.exitReason != .entryFailed { lastExits[p.symbol] = max(lastExits[p.symbol] ?? .min, t) }
    }
    public func activePositions() throws -> [Position] { active }
    /// Whether no position is active (what `activePositions().isEmpty` says, without building the list).
    public var hasNoActivePositions: Bool { active.isEmpty }
    public func position(id: Int64) throws -> Position? { index(id).map { positions[$0] } }
    public func closedPositions(since: Int64) throws -> [Position] {
        // Closed in time order (a backtest's clock only moves forward): the recent ones are a suffix.
        var first = closedIDs.count
        while first > 0, let i = index(closedIDs[first - 1]), (positions[i].closedAt ?? .min) >= since { first -= 1 }
        // One array, written once (a backtest's end asks for all of them); sorted only when the suffix is not in order.
        var closed: [Position] = []
        closed.reserveCapacity(closedIDs.count - first)
        for id in closedIDs[first...] {
            if let i = index(id), (positions[i].closedAt ?? .min) >= since { closed.append(positions[i]) }
        }
        for k in closed.indices.dropFirst() where ((closed[k - 1].closedAt ?? 0), closed[k - 1].id) >= ((closed[k].closedAt ?? 0), closed[k].id) {
            closed.sort { (($0.closedAt ?? 0), $0.id) < (($1.closedAt ?? 0), $1.id) }
            break
        }
        return closed
    }
    /// Backtests keep no run rows; the paper broker books at once, so no booking window needs them.
    public func runStarted(after runID: RunID) throws -> Int64? { nil }
    public func lastExitBySymbol() throws -> [Symbol: Int64] { lastExits }
    public func stopLossExits(since: Int64) throws -> [Int64] {
        // Appended as positions close, so in time order: the ones since `since` are a suffix.
        let lo = stopExits.partitionPoint { $0 < since }
        return Array(stopExits[lo...])
    }

    // MARK: Orders and fills
    /// The slot of the order `id`, from `recentOrder` when it is that one.
    @inline(__always)
    private func slot(_ id: ClientOrderID) -> Int? {
        if let recent = recentOrder, recent.id == id { return recent.slot }
        guard let slot = namedSlot(id) ?? (orderSlot.isEmpty ? nil : orderSlot[id]) else { return nil }
        recentOrder = (id, slot)
        return slot
    }
    /// The slot of the order `id` among the orders of the position it names, if it is there.
    private func namedSlot(_ id: ClientOrderID) -> Int? {
        guard let named = Self.namedPosition(id) else { return nil }
        for slot in slots(positionID: named) where orderRows[slot].clientOrderID == id { return slot }
        return nil
    }
    /// The position a client order id names when it starts `tj-<digits>-` (as `ClientOrderID.make` writes them).
    static func namedPosition(_ id: ClientOrderID) -> Int64? {
        // A native string's bytes are read in place (an iterator costs about 25 instructions a byte).
        id.rawValue.utf8.withContiguousStorageIfAvailable(namedPosition) ?? namedPosition(Array(id.rawValue.utf8))
    }

    private static func namedPosition<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> Int64? where Bytes.Index == Int {
        guard bytes.count > 3, bytes[bytes.startIndex] == UInt8(ascii: "t"), bytes[bytes.startIndex + 1] == UInt8(ascii: "j"),
              bytes[bytes.startIndex + 2] == UInt8(ascii: "-") else { return nil }
        var value: Int64 = 0, digits = 0
        for byte in bytes.dropFirst(3) {
            if byte == UInt8(ascii: "-") { return digits > 0 ? value : nil }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return nil
    }
    public func insertPendingOrder(clientOrderID: ClientOrderID, runID: RunID, positionID: Int64?, symbol: Symbol, side: OrderSide, purpose: OrderPurpose,
                                   leg: Int, attempt: Int, quantity: Quantity, referencePrice: Price, now: Int64) throws {
        let slot = orderRows.count
        let named = Self.namedPosition(clientOrderID)
        if namedSlot(clientOrderID) != nil || (!orderSlot.isEmpty && orderSlot[clientOrderID] != nil) {
            throw MemoryLedgerError(message: "order \(clientOrderID) already exists")
        }
        // Found among its position's orders when it names that position (see `orderRows`), else by its id.
        if named == nil || named != positionID { orderSlot[clientOrderID] = slot }
        recentOrder = (clientOrderID, slot)
        orderRows.append(OrderRow(id: nextOrderID, clientOrderID: clientOrderID, runID: runID, positionID: positionID, symbol: symbol,
                                  side: side, purpose: purpose, leg: leg, attempt: attempt, quantity: quantity, status: .pendingSubmit,
                                  venueOrderID: nil, filledQuantity: 0, averagePrice: nil, reason: nil, createdAt: now, updatedAt: now))
        orderFills.append(otherFills.isEmpty ? [] : otherFills.removeValue(forKey: clientOrderID) ?? [])
        nextOrderID += 1
        paperOrderBySlot.append(-1)
        if let positionID {
            if let i = index(positionID) { orderSlotsByPosition[i].append(slot) } else { otherOrderSlots[positionID, default: []].append(slot) }
        }
        unresolvedSlots.append(slot)
    }
    public func updateOrder(clientOrderID: ClientOrderID, status: OrderStatus, venueOrderID: String?, filledQuantity: Quantity?, averagePrice: Price?,
                            reason: String?, now: Int64) throws {
        guard let slot = slot(clientOrderID) else { return }
        var o = orderRows[slot]
        try OrderStatusTransitions.check(clientOrderID: clientOrderID, from: o.status, to: status)
        // A new status without a reason of its own drops the old one (a timeout's text on an order later found FILLED).
        o.reason = reason ?? (status != o.status ? nil : o.reason)
        o.status = status
        o.venueOrderID = venueOrderID ?? o.venueOrderID
        o.filledQuantity = filledQuantity ?? o.filledQuantity
        o.averagePrice = averagePrice ?? o.averagePrice
        o.updatedAt = now
        orderRows[slot] = o
        if !Self.isUnresolved(status) { unresolvedSlots.removeAll { $0 == slot } }
    }
    /// Whether any order's outcome is not final (what `unresolvedOrders()` lists), without building the list.
    public var hasUnresolvedOrders: Bool { unresolvedSlots.contains { Self.isUnresolved(orderRows[$0].status) } }
    static func isUnresolved(_ s: OrderStatus) -> Bool { s == .pendingSubmit || s == .unknown || s == .new || s == .partiallyFilled }
    public func unresolvedOrders() throws -> [OrderRow] {
        unresolvedSlots.map { orderRows[$0] }.filter { Self.isUnresolved($0.status) }.sorted { $0.id < $1.id }
    }
    public func order(clientOrderID: ClientOrderID) throws -> OrderRow? { slot(clientOrderID).map { orderRows[$0] } }
    public func order(venueOrderID: String, symbol: Symbol) throws -> OrderRow? {
        orderRows.first { $0.venueOrderID == venueOrderID && $0.symbol == symbol }
    }
    public func positionOfAdoptedOrders(naming named: Int64, symbol: Symbol) throws -> Int64? {
        let prefix = "tj-\(named)-"
        return orderRows.last { $0.symbol == symbol && $0.clientOrderID.rawValue.hasPrefix(prefix) && $0.positionID.map { $0 != named } == true }?.positionID
    }
    public func lastAttempt(positionID: Int64, purpose: OrderPurpose, leg: Int) throws -> Int? {
        var last: Int?
        for slot in slots(positionID: positionID) where orderRows[slot].purpose == purpose && orderRows[slot].leg == leg {
            last = max(last ?? .min, orderRows[slot].attempt)
        }
        return last
    }
    /// The order slots of a position, oldest first.
    private func slots(positionID: Int64) -> [Int] {
        if let i = index(positionID) { return orderSlotsByPosition[i] }
        return otherOrderSlots.isEmpty ? [] : otherOrderSlots[positionID] ?? []
    }
    public func orders(positionID: Int64) throws -> [OrderRow] { slots(positionID: positionID).map { orderRows[$0] } }
    public func workingOrder(positionID: Int64, excluding: ClientOrderID?) throws -> OrderRow? {
        // Read in place: no array of the position's rows is built for the one asked for.
        if let i = index(positionID) {
            for slot in orderSlotsByPosition[i] where !orderRows[slot].status.isFinal && orderRows[slot].clientOrderID != excluding { return orderRows[slot] }
            return nil
        }
        return try orders(positionID: positionID).first { !$0.status.isFinal && $0.clientOrderID != excluding }
    }
    public func insertFill(_ fill: Fill, runID: RunID) throws -> Bool {
        guard tradeKeys.insert(symbol: fill.symbol, tradeID: fill.tradeID) else { return false }
        let id = fill.clientOrderID
        if let slot = slot(id) { orderFills[slot].append(fill) } else { otherFills[id, default: []].append(fill) }
        fillsByRun = fillsByRun.runID == runID ? (runID, fillsByRun.count + 1) : (runID, 1)
        return true
    }
    public func fills(clientOrderID: ClientOrderID) throws -> [Fill] { slot(clientOrderID).map { orderFills[$0] } ?? otherFills[clientOrderID] ?? [] }

    // MARK: Wallet and equity
    public func balances() throws -> [String: Money] { Dictionary(wallet, uniquingKeysWith: { _, last in last }) }
    public func balance(asset: String) throws -> Money? { wallet.first { $0.asset == asset }?.free }
    public func setBalance(asset: String, free: Money) throws {
        if let i = wallet.firstIndex(where: { $0.asset == asset }) { wallet[i].free = free } else { wallet.append((asset, free)) }
        walletChanges &+= 1
    }
    public func walletIsEmpty() throws -> Bool { wallet.isEmpty }
    public func recordEquity(time: Int64, runID: RunID, equity e: Money, cash: Money, safeMode: Bool) throws {
        appendEquity(EquityPoint(time: time, equity: e, cash: cash, safeMode: safeMode))
    }
    private func appendEquity(_ point: EquityPoint) {
        // Only the current UTC day's points are kept (the daily-loss protection asks for the day's first one); the
        // whole curve is the backtest's output, recorded outside the ledger.
        if let last = equity.last {
            if !Self.sameUTCDay(point.time, dayStart: equityDayStart) {
                equityDayStart = Self.utcDay(point.time) &* 86_400_000
                if !Self.sameUTCDay(last.time, dayStart: equityDayStart) { equity.removeAll(keepingCapacity: true) }
            }
        } else {
            equityDayStart = Self.utcDay(point.time) &* 86_400_000
        }
        if let last = equity.last, last.time == point.time { equity[equity.count - 1] = point } else { equity.append(point) }
    }
    /// The start of the UTC day of the newest equity point (the day whose points are kept).
    @exclusivity(unchecked) private var equityDayStart: Int64 = 0
    /// Whether `ms` falls in the UTC day that starts at `dayStart` (no division; the last day of the range included).
    static func sameUTCDay(_ ms: Int64, dayStart: Int64) -> Bool { UInt64(bitPattern: ms &- dayStart) < 86_400_000 }
    public func firstEquity(since: Int64) throws -> Money? {
        let lo = equity.partitionPoint { $0.time < since }
        return lo < equity.count ? equity[lo].equity : nil
    }
    static func utcDay(_ ms: Int64) -> Int64 { ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000 }

    // MARK: Venue and paper broker
    public func totalBreakerOpenings() throws -> Int { 0 }
    /// Where the paper order of `id` is in `paperOrders`: through its order's slot (usually `recentOrder`: the paper
    /// broker fills the order just written), else in `otherPaperOrders`.
    private func paperIndex(_ id: ClientOrderID) -> Int? {
        if let slot = slot(id), paperOrderBySlot[slot] >= 0 { return paperOrderBySlot[slot] }
        return otherPaperOrders.isEmpty ? nil : otherPaperOrders[id]
    }
    public func paperOrder(clientOrderID: ClientOrderID) throws -> PaperOrderRecord? { paperIndex(clientOrderID).map { paperOrders[$0] } }
    public func insertPaperOrder(_ order: PaperOrderRecord) throws {
        if let i = paperIndex(order.clientOrderID) {
            paperOrders[i] = order
            return
        }
        if let slot = slot(order.clientOrderID) { paperOrderBySlot[slot] = paperOrders.count } else { otherPaperOrders[order.clientOrderID] = paperOrders.count }
        paperOrders.append(order)
    }
}

struct MemoryLedgerError: Error, CustomStringConvertible {
    let message: String
    var description: String { "memory ledger: \(message)" }
}

/// A `StateStore` in memory (backtests). Sections are serialised by a lock; a section that throws half-way leaves its
/// changes (there is no rollback), which ends a backtest anyway.
public final class MemoryStateStore: StateStore, @unchecked Sendable {
    /// A `Mutex` (a futex): about half of `NSLock`'s cost, paid by every section. The sections are inlined into their
    /// callers, so that no generic metadata is looked up for a section's result at run time.
    @usableFromInline let lock = Mutex(())
    /// A section's result handed out of the lock: the section's caller is its only user.
    @usableFromInline struct Passed<T>: @unchecked Sendable {
        @usableFromInline let value: T
        @inlinable init(_ value: T) { self.value = value }
    }
    @usableFromInline let ledger: MemoryLedger
    /// `candleRetention`: see `MemoryLedger.candleRetention`.
    public init(candleRetention: Int? = nil) { ledger = MemoryLedger(candleRetention: candleRetention) }
    public var keepsAudit: Bool { false }
    public var memoryStore: MemoryStateStore? { self }
    // Synchronous (they meet the protocol's async requirements): a section in memory never waits, and a synchronous
    // function saves the async frame of its own that the cycle's many sections would each pay for.
    @inlinable public func read<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) throws -> T { try writeNow(body) }
    @inlinable public func write<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) throws -> T { try writeNow(body) }
    @inlinable public func writeNow<T>(_ body: (any Ledger) throws -> T) throws -> T {
        let ledger = self.ledger
        return try lock.withLock { _ in Passed(try body(ledger)) }.value
    }
    /// A section on the concrete ledger (direct calls, for the backtest's idle cycles).
    @inlinable public func withMemoryLedger<T>(_ body: (MemoryLedger) throws -> T) throws -> T {
        let ledger = self.ledger
        return try lock.withLock { _ in Passed(try body(ledger)) }.value
    }
}

/// A state store's sections, run by a direct call when the store is in memory (`MemoryStateStore`: its sections never
/// wait) instead of through the protocol's async requirement, which costs an async frame per section; any other store
/// is called as before. The same closures run either way.
public struct StateSections: Sendable {
    @usableFromInline let store: any StateStore
    @usableFromInline let memory: MemoryStateStore?
    public init(_ store: any StateStore) {
        self.store = store
        memory = store.memoryStore
    }
    @inlinable @inline(__always)
    public func read<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        if let memory { return try memory.read(body) }
        return try await store.read(body)
    }
    @inlinable @inline(__always)
    public func write<T: Sendable>(_ body: @Sendable (any Ledger) throws -> T) async throws -> T {
        if let memory { return try memory.write(body) }
        return try await store.write(body)
    }
}
