import Foundation
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-process fake of the Binance Spot REST API v3 for tests, served over real HTTP by `TestHTTPServer`.
///
/// It follows Binance's documented behaviour closely enough that a client written against the real API works
/// unchanged against it:
///
/// * **Public market data**: `GET /api/v3/ping`, `/api/v3/time`, `/api/v3/exchangeInfo` (with `symbol` or
///   `symbols=["A","B"]`), `/api/v3/klines`, `/api/v3/ticker/price`.
/// * **Signed endpoints** (USER_DATA / TRADE): `POST|GET|DELETE /api/v3/order`, `GET /api/v3/openOrders`,
///   `GET /api/v3/myTrades`, `GET /api/v3/account`. Parameters may come in the query string and/or an
///   `application/x-www-form-urlencoded` body; `signature` must be the last parameter and is checked as
///   `HMAC-SHA256(secret, queryString + requestBody)` (hex, no separator between the two parts). The
///   `X-MBX-APIKEY` header must equal the API key (401 / -2015), the signature must match (-1022), and
///   `timestamp` must lie in `[serverTime - recvWindow, serverTime + 1000]` (-1021; `recvWindow` defaults to
///   5000, at most 60000).
/// * **Orders**: `MARKET` (by `quantity` or `quoteOrderQty`), `LIMIT` (`GTC`/`IOC`/`FOK`) and `LIMIT_MAKER`.
///   Filters `PRICE_FILTER`, `LOT_SIZE`, `MARKET_LOT_SIZE` and `NOTIONAL` are enforced (-1013), balances are checked (-2010),
///   a `newClientOrderId` already used by an *open* order is rejected (-2010 "Duplicate order sent.") while a
///   closed order's id may be reused. Market orders fill at once at the current price (`setPrice`, else the
///   close of the latest kline that has opened by server time); crossing limit orders fill at once at the
///   current price (taker); resting ones lock funds and fill at their limit price (maker) when
///   `fillOpenOrders()` is called and the price crosses. Commission is 0.1% of the asset received.
/// * **Weights**: every answer carries `X-MBX-USED-WEIGHT-1M`, counted per *server-time* minute with Binance's
///   weights; going over `weightLimit` answers 429 with `Retry-After` (-1003).
/// * **Clock**: everything uses the controllable server time (`setServerTime`), never the wall clock.
/// * **Connections** are kept alive (HTTP/1.1 persistent connections, as Binance's servers keep them) unless the
///   request says `Connection: close`; `acceptedConnections` counts them.
///
/// Faults (`inject(_:on:method:)`, consumed first-in first-out by the first request matching path and method):
/// `timeoutAfterAccept` (apply, then hold the answer for `hangSeconds`: a reply delayed past the client's timeout),
/// `dropAfterBooking` (apply, then close the connection without a single reply byte), `serverError` (5xx, nothing
/// applied: the error before booking),
/// `acceptThenServerError` (apply, then 5xx), `rateLimited` (429 + Retry-After), `banned` (418 + Retry-After,
/// and 418 for every request until server time passes the ban end), `timestampError` (-1021),
/// `unknownExecution` (apply, then 400 -1007), `malformedJSON` (apply, then 200 `{not json`) and
/// `partialFill(fraction:)` (the next order fills only that fraction: a MARKET order then ends `EXPIRED`, a GTC
/// LIMIT order rests `PARTIALLY_FILLED`, IOC ends `EXPIRED`, FOK fills nothing and ends `EXPIRED`) and
/// `acceptAsWorking` (the next MARKET order is accepted as `NEW` with no fill, its funds locked: the matching engine
/// has not got to it yet; `settleWorkingOrders(_:)` later fills it fully, partially (the rest `EXPIRED`, as a MARKET
/// order's unfilled rest does) or expires it, the way an order fills or expires between two runs of the job).
///
/// Exchange filters can change while the fake runs (`setFilters(symbol:...)`): `exchangeInfo` reports the new
/// values at once and orders that violate them get -1013 "Filter failure: LOT_SIZE" (or PRICE_FILTER, NOTIONAL).
///
/// Notes on choices made where Binance is not fully specified here:
/// * Klines are one stored series per symbol; the `interval` parameter is validated but does not resample.
///   A kline's `closeTimeMs` is `openTimeMs + intervalMs - 1` (the `Kline` initialiser takes `intervalMs`).
///   Only klines with `openTime <= serverTime` are served, so the last one may still be open, as on Binance.
/// * Order ids start at 1001 and trade ids at 5001 (one sequence each across all symbols) so that the two are
///   never confused by a client.
/// * `DELETE /api/v3/order` answers like Binance: `origClientOrderId` is the order's client id and
///   `clientOrderId` is the cancel request's own id (its `newClientOrderId`, or a generated one).
/// * `signedRequestCount` counts every request that reached a signed endpoint, whether or not it was accepted.
/// * Requests rejected as banned, rate limited or by a pre-processing fault do not add weight.
public final class FakeBinance: @unchecked Sendable {

    // MARK: - Public value types

    /// A tradable symbol and its exchange filters.
    public struct Market: Sendable {
        public var symbol: String
        public var baseAsset: String
        public var quoteAsset: String
        /// PRICE_FILTER tickSize (also used as minPrice).
        public var tickSize: Decimal
        /// LOT_SIZE stepSize.
        public var stepSize: Decimal
        /// LOT_SIZE minQty.
        public var minQty: Decimal
        /// NOTIONAL minNotional (applied to MARKET orders as well, like `applyMinToMarket: true`).
        public var minNotional: Decimal
        /// LOT_SIZE maxQty.
        public var maxQty: Decimal
        /// MARKET_LOT_SIZE maxQty for MARKET orders (nil: the filter is not listed).
        public var marketMaxQty: Decimal?
        /// NOTIONAL maxNotional applied to MARKET orders (`applyMaxToMarket: true`; nil: false, with a large maxNotional).
        public var marketMaxNotional: Decimal?

        public init(symbol: String, baseAsset: String, quoteAsset: String, tickSize: Decimal, stepSize: Decimal,
                    minQty: Decimal, minNotional: Decimal, maxQty: Decimal = 9_000_000, marketMaxQty: Decimal? = nil,
                    marketMaxNotional: Decimal? = nil) {
            self.symbol = symbol
            self.baseAsset = baseAsset
            self.quoteAsset = quoteAsset
            self.tickSize = tickSize
            self.stepSize = stepSize
            self.minQty = minQty
            self.minNotional = minNotional
            self.maxQty = maxQty
            self.marketMaxQty = marketMaxQty
            self.marketMaxNotional = marketMaxNotional
        }
    }

    /// One candle. `closeTimeMs = openTimeMs + intervalMs - 1`, as Binance reports it.
    public struct Kline: Sendable {
        public var openTimeMs: Int64
        public var closeTimeMs: Int64
        public var open: Decimal
        public var high: Decimal
        public var low: Decimal
        public var close: Decimal
        public var volume: Decimal

        public init(openTimeMs: Int64, open: Decimal, high: Decimal, low: Decimal, close: Decimal, volume: Decimal,
                    intervalMs: Int64 = 60_000) {
            self.openTimeMs = openTimeMs
            self.closeTimeMs = openTimeMs + intervalMs - 1
            self.open = open
            self.high = high
            self.low = low
            self.close = close
            self.volume = volume
        }
    }

    /// A fault to inject into the next matching request.
    public enum Fault: Sendable {
        /// Apply the request (e.g. place the order), then hold the answer for `hangSeconds`: the client times out.
        case timeoutAfterAccept
        /// Answer this 5xx status without doing anything.
        case serverError(Int)
        /// Apply the request, then answer this 5xx status (outcome unknown to the client).
        case acceptThenServerError(Int)
        /// Answer 429 with `Retry-After` (seconds) without doing anything.
        case rateLimited(retryAfter: Int)
        /// Answer 418 with `Retry-After`; every later request is answered 418 until server time passes the ban end.
        case banned(retryAfter: Int)
        /// Answer -1021 (timestamp outside recvWindow) without doing anything.
        case timestampError
        /// Apply the request, then answer 400 -1007 (execution status unknown).
        case unknownExecution
        /// Apply the request, then answer 200 with the body `{not json`.
        case malformedJSON
        /// The next order placed fills only this fraction of its quantity (rounded down to the step size).
        case partialFill(fraction: Decimal)
        /// Apply the request, then close the connection without writing a byte (the client cannot know the outcome).
        case dropAfterBooking
        /// The next MARKET order is accepted as `NEW` without any fill and its funds are locked, until
        /// `settleWorkingOrders(_:)` decides what becomes of it. Other order types are not affected.
        case acceptAsWorking
    }

    /// What `settleWorkingOrders(_:)` does with a MARKET order accepted as working.
    public enum Settlement: Sendable, Equatable {
        /// Fill it entirely at the current price.
        case fill
        /// Fill this fraction (rounded down to the step size) at the current price; the rest expires.
        case partial(fraction: Decimal)
        /// Nothing fills: the order ends `EXPIRED`.
        case expire
        /// Leave it working.
        case leave
    }

    /// An order as the fake holds it (snapshot; strings are Binance's enum values, e.g. "BUY", "LIMIT", "FILLED").
    public struct Order: Sendable {
        public internal(set) var symbol: String
        public internal(set) var orderId: Int64
        public internal(set) var clientOrderId: String
        public internal(set) var side: String
        public internal(set) var type: String
        public internal(set) var timeInForce: String
        public internal(set) var status: String
        /// Limit price; 0 for MARKET orders.
        public internal(set) var price: Decimal
        public internal(set) var origQty: Decimal
        public internal(set) var executedQty: Decimal
        public internal(set) var cummulativeQuoteQty: Decimal
        public internal(set) var origQuoteOrderQty: Decimal
        public internal(set) var time: Int64
        public internal(set) var updateTime: Int64
        /// Funds still locked by this order (in the quote asset for BUY, base asset for SELL).
        public internal(set) var lockedAmount: Decimal
        /// Position of this order's placement in the fake's sequence of order events (placements and orders
        /// reaching a final status, numbered from 1), so a test can tell what state an order was in when another
        /// was placed: it was open then if `placementSequence < other.placementSequence < finalSequence`.
        public internal(set) var placementSequence: Int64 = 0
        /// Position in the same sequence at which the order reached its final status (nil while open).
        public internal(set) var finalSequence: Int64?

        /// NEW or PARTIALLY_FILLED.
        public var isOpen: Bool { status == "NEW" || status == "PARTIALLY_FILLED" }
    }

    /// One execution.
    public struct Trade: Sendable {
        public internal(set) var id: Int64
        public internal(set) var orderId: Int64
        public internal(set) var symbol: String
        public internal(set) var price: Decimal
        public internal(set) var qty: Decimal
        public internal(set) var quoteQty: Decimal
        public internal(set) var commission: Decimal
        public internal(set) var commissionAsset: String
        public internal(set) var time: Int64
        public internal(set) var isBuyer: Bool
        public internal(set) var isMaker: Bool
    }

    // MARK: - Configuration and state (everything below `lock` is guarded by it)

    public let apiKey: String
    private let secret: String
    private var marketsBySymbol: [String: Market]
    private let symbolOrder: [String]
    private let commissionRate = Decimal(string: "0.001") ?? 0

    private let lock = NSLock()
    private var server: TestHTTPServer?

    private var now: Int64
    private var candles: [String: [Kline]]
    private var prices: [String: Decimal] = [:]
    private var free: [String: Decimal]
    private var lockedFunds: [String: Decimal] = [:]
    private var accountUpdateTime: Int64
    private var allOrders: [Order] = []
    private var allTrades: [Trade] = []
    private var nextOrderId: Int64 = 1001
    private var nextTradeId: Int64 = 5001
    private var pending: [(fault: Fault, path: String, method: String?)] = []
    private var weightUsed = 0
    private var weightMinute: Int64
    private var limitOfWeight = 6000
    private var banUntilMs: Int64?
    private var log: [(method: String, path: String, query: String)] = []
    private var signedCount = 0
    private var hang: TimeInterval = 5
    /// MARKET orders accepted as working (`acceptAsWorking`) and not settled yet.
    private var workingMarketOrderIds: Set<Int64> = []
    /// Counter of order events (placements and final statuses), see `Order.placementSequence`.
    private var orderEvents: Int64 = 0

    /// Separate from `lock`: wakes handlers held by `timeoutAfterAccept` when the fake stops.
    private let hangCondition = NSCondition()
    private var stopped = false

    // MARK: - Life cycle

    /// Starts the fake on a free port of 127.0.0.1.
    /// - Parameters:
    ///   - balances: initial free balances per asset.
    ///   - candles: klines per symbol, in any order (they are sorted by open time).
    ///   - serverTimeMs: the initial server time; see `setServerTime(_:)`.
    ///   - keepAlive: keep HTTP connections alive between requests (default, like Binance); `false` closes each
    ///     connection after one answer.
    public init(apiKey: String, secret: String, symbols: [Market], balances: [String: Decimal],
                candles: [String: [Kline]], serverTimeMs: Int64, keepAlive: Bool = true) {
        self.apiKey = apiKey
        self.secret = secret
        var bySymbol: [String: Market] = [:]
        for market in symbols { bySymbol[market.symbol] = market }
        self.marketsBySymbol = bySymbol
        self.symbolOrder = symbols.map(\.symbol)
        self.candles = candles.mapValues { $0.sorted { $0.openTimeMs < $1.openTimeMs } }
        self.free = balances
        self.now = serverTimeMs
        self.accountUpdateTime = serverTimeMs
        self.weightMinute = serverTimeMs / 60_000
        // A client that times out closes its socket; writing the late answer must not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let box = WeakBox()
        do {
            self.server = try TestHTTPServer(keepAlive: keepAlive) { request in
                guard let fake = box.target else {
                    return TestHTTPReply(status: 503, body: #"{"code":-1016,"msg":"This service is no longer available."}"#)
                }
                return fake.handle(request)
            }
        } catch {
            fatalError("FakeBinance: could not start the test HTTP server: \(error)")
        }
        box.target = self
    }

    deinit { stop() }

    /// Base URL of the fake, e.g. `http://127.0.0.1:53124`.
    public var baseURL: URL {
        server?.baseURL ?? URL(fileURLWithPath: "/dev/null")
    }

    /// How many HTTP connections the fake has accepted.
    public var acceptedConnections: Int { server?.acceptedConnections ?? 0 }

    /// Stops the HTTP server and releases any handler held by `timeoutAfterAccept`.
    public func stop() {
        hangCondition.lock()
        stopped = true
        hangCondition.broadcast()
        hangCondition.unlock()
        server?.stop()
    }

    // MARK: - Control

    /// Sets the server time (ms since the epoch) used for timestamps, recvWindow, klines, weights and bans.
    public func setServerTime(_ ms: Int64) { locked { now = ms } }

    /// Moves the server time forward.
    public func advanceServerTime(by ms: Int64) { locked { now += ms } }

    /// The current server time.
    public var serverTimeMs: Int64 { locked { now } }

    /// Sets the price at which market orders fill and against which limit orders are matched.
    /// Until set, the price is the close of the latest kline that has opened by server time.
    public func setPrice(symbol: String, price: Decimal) { locked { prices[symbol] = price } }

    /// The current price of a symbol, if known.
    public func currentPrice(symbol: String) -> Decimal? { locked { priceOf(symbol) } }

    /// Appends a kline to a symbol's series (kept sorted by open time).
    public func appendKline(symbol: String, _ kline: Kline) {
        locked {
            var series = candles[symbol] ?? []
            series.append(kline)
            series.sort { $0.openTimeMs < $1.openTimeMs }
            candles[symbol] = series
        }
    }

    /// Overwrites the free balance of an asset.
    public func setBalance(_ asset: String, free amount: Decimal) {
        locked {
            free[asset] = amount
            accountUpdateTime = now
        }
    }

    /// Queues a fault for the next request to `path` (and `method`, if given, e.g. "POST").
    public func inject(_ fault: Fault, on path: String, method: String? = nil) {
        locked { pending.append((fault, path, method?.uppercased())) }
    }

    /// Forgets every fault still waiting for a request.
    public func clearPendingFaults() { locked { pending.removeAll() } }

    /// Faults still waiting for a request.
    public var pendingFaultCount: Int { locked { pending.count } }

    /// The REQUEST_WEIGHT limit per minute (default 6000).
    public var weightLimit: Int {
        get { locked { limitOfWeight } }
        set { locked { limitOfWeight = newValue } }
    }

    /// How long `timeoutAfterAccept` holds the answer (default 5 s); `stop()` releases it early.
    public var hangSeconds: TimeInterval {
        get { locked { hang } }
        set { locked { hang = newValue } }
    }

    /// Request weight used in the current server-time minute.
    public var usedWeight: Int { locked { rollWeightWindow(); return weightUsed } }

    /// Fills every resting LIMIT / LIMIT_MAKER order that the current price crosses (BUY: price <= limit;
    /// SELL: price >= limit), at its limit price, as maker. Returns how many orders were filled.
    @discardableResult
    public func fillOpenOrders() -> Int {
        locked {
            var filled = 0
            for index in allOrders.indices where allOrders[index].isOpen && allOrders[index].type != "MARKET" {
                let order = allOrders[index]
                guard let price = priceOf(order.symbol) else { continue }
                let crosses = order.side == "BUY" ? price <= order.price : price >= order.price
                guard crosses else { continue }
                let remaining = order.origQty - order.executedQty
                _ = execute(orderIndex: index, qty: remaining, price: order.price, isMaker: true, fromLocked: true)
                setStatus(index, "FILLED")
                filled += 1
            }
            return filled
        }
    }

    /// Changes a symbol's exchange filters (an exchangeInfo change). `nil` keeps a value. Later orders are checked
    /// against the new values; orders already placed are not touched.
    public func setFilters(symbol: String, tickSize: Decimal? = nil, stepSize: Decimal? = nil, minQty: Decimal? = nil,
                           minNotional: Decimal? = nil, marketMaxQty: Decimal? = nil) {
        locked {
            guard var market = marketsBySymbol[symbol] else { return }
            if let marketMaxQty { market.marketMaxQty = marketMaxQty }
            if let tickSize { market.tickSize = tickSize }
            if let stepSize { market.stepSize = stepSize }
            if let minQty { market.minQty = minQty }
            if let minNotional { market.minNotional = minNotional }
            marketsBySymbol[symbol] = market
        }
    }

    /// A symbol's current filters.
    public func market(_ symbol: String) -> Market? { locked { marketsBySymbol[symbol] } }

    /// MARKET orders accepted as working (`acceptAsWorking`) and not settled yet.
    public var workingOrders: [Order] { locked { allOrders.filter { workingMarketOrderIds.contains($0.orderId) } } }

    /// Decides the fate of every MARKET order accepted as working, at the current price: `choose` is asked once per
    /// order, oldest first. Returns how many orders were settled (not left working).
    @discardableResult
    public func settleWorkingOrders(_ choose: (Order) -> Settlement) -> Int {
        locked {
            var settled = 0
            for index in allOrders.indices where workingMarketOrderIds.contains(allOrders[index].orderId) {
                let order = allOrders[index]
                let how = choose(order)
                guard how != .leave, let market = marketsBySymbol[order.symbol] else { continue }
                var qty: Decimal = 0
                switch how {
                case .fill: qty = order.origQty
                case .partial(let fraction): qty = min(order.origQty, Self.floor(order.origQty * max(0, fraction), step: market.stepSize))
                case .expire, .leave: qty = 0
                }
                if qty > 0, let price = priceOf(order.symbol) {
                    // Releases everything the order locked and charges what filled.
                    _ = execute(orderIndex: index, qty: qty, price: price, isMaker: false, fromLocked: true)
                } else {
                    release(orderIndex: index, market: market)
                }
                setStatus(index, allOrders[index].executedQty == order.origQty ? "FILLED" : "EXPIRED")
                allOrders[index].updateTime = now
                workingMarketOrderIds.remove(order.orderId)
                settled += 1
            }
            return settled
        }
    }

    // MARK: - Inspection

    /// Every order ever accepted, in placement order.
    public var orders: [Order] { locked { allOrders } }

    /// Every trade, in execution order.
    public var trades: [Trade] { locked { allTrades } }

    /// Free and locked balance of an asset (0 for unknown assets).
    public func balance(_ asset: String) -> (free: Decimal, locked: Decimal) {
        locked { (free[asset] ?? 0, lockedFunds[asset] ?? 0) }
    }

    /// Every request received, in arrival order.
    public var requestLog: [(method: String, path: String, query: String)] { locked { log } }

    /// Requests that reached a signed endpoint (accepted or not).
    public var signedRequestCount: Int { locked { signedCount } }

    /// Binance's request signature: lowercase hex of HMAC-SHA256(secret, payload).
    public static func sign(_ payload: String, secret: String) -> String {
        let key = SymmetricKey(data: Data(secret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// `sign(payload, secret:)` with this fake's secret.
    public func sign(_ payload: String) -> String { Self.sign(payload, secret: secret) }

    // MARK: - Request handling

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func handle(_ request: TestHTTPRequest) -> TestHTTPReply {
        var holdFor: TimeInterval = 0
        let reply: TestHTTPReply = locked {
            log.append((request.method, request.path, request.query))
            rollWeightWindow()
            var answer = process(request, holdFor: &holdFor)
            answer.headers["X-MBX-USED-WEIGHT-1M"] = String(weightUsed)
            return answer
        }
        if holdFor > 0 {
            let deadline = Date().addingTimeInterval(holdFor)
            hangCondition.lock()
            while !stopped && Date() < deadline { _ = hangCondition.wait(until: deadline) }
            hangCondition.unlock()
        }
        return reply
    }

    /// Runs under `lock`.
    private func process(_ request: TestHTTPRequest, holdFor: inout TimeInterval) -> TestHTTPReply {
        // An IP ban answers everything with 418 until it ends.
        if let until = banUntilMs {
            if now < until { return bannedReply(until: until) }
            banUntilMs = nil
        }

        let fault = takeFault(path: request.path, method: request.method)
        switch fault {
        case .serverError(let status)?:
            return reply(status, error: -1001, "Internal error; unable to process your request. Please try again.")
        case .rateLimited(let retryAfter)?:
            var answer = tooManyRequests()
            answer.headers["Retry-After"] = String(retryAfter)
            return answer
        case .banned(let retryAfter)?:
            let until = now + Int64(retryAfter) * 1000
            banUntilMs = until
            return bannedReply(until: until)
        case .timestampError?:
            return reply(400, error: -1021, "Timestamp for this request is outside of the recvWindow.")
        default:
            break
        }

        let weight = weightOf(request)
        if weightUsed + weight > limitOfWeight {
            var answer = tooManyRequests()
            answer.headers["Retry-After"] = String(max(1, (60_000 - now % 60_000 + 999) / 1000))
            return answer
        }
        weightUsed += weight

        var execution = Execution.normal
        if case .partialFill(let fraction)? = fault { execution = .partial(fraction) }
        if case .acceptAsWorking? = fault { execution = .working }

        var answer: TestHTTPReply
        do {
            answer = reply(200, try route(request, execution: execution))
        } catch let error as APIError {
            answer = reply(error.status, error: error.code, error.message)
        } catch {
            answer = reply(500, error: -1000, "An unknown error occurred while processing the request.")
        }

        switch fault {
        case .timeoutAfterAccept?:
            holdFor = hang
        case .acceptThenServerError(let status)?:
            answer = reply(status, error: -1001, "Internal error; unable to process your request. Please try again.")
        case .unknownExecution?:
            answer = reply(400, error: -1007,
                           "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")
        case .malformedJSON?:
            answer = TestHTTPReply(status: 200, headers: ["Content-Type": "application/json;charset=UTF-8"], body: "{not json")
        case .dropAfterBooking?:
            answer = .dropConnection
        default:
            break
        }
        return answer
    }

    /// How the next order executes.
    private enum Execution {
        case normal
        case partial(Decimal)
        case working
    }

    private func route(_ request: TestHTTPRequest, execution: Execution) throws -> JSON {
        switch (request.method, request.path) {
        case ("GET", "/api/v3/ping"):
            return .object([])
        case ("GET", "/api/v3/time"):
            return .object([("serverTime", .int(now))])
        case ("GET", "/api/v3/exchangeInfo"):
            return try exchangeInfo(try publicParams(request))
        case ("GET", "/api/v3/klines"):
            return try klines(try publicParams(request))
        case ("GET", "/api/v3/ticker/price"):
            return try tickerPrice(try publicParams(request))
        case ("POST", "/api/v3/order"):
            return try placeOrder(try authenticate(request), execution: execution)
        case ("GET", "/api/v3/order"):
            return try queryOrder(try authenticate(request))
        case ("DELETE", "/api/v3/order"):
            return try cancelOrder(try authenticate(request))
        case ("GET", "/api/v3/openOrders"):
            return try openOrders(try authenticate(request))
        case ("GET", "/api/v3/myTrades"):
            return try myTrades(try authenticate(request))
        case ("GET", "/api/v3/account"):
            _ = try authenticate(request)
            return account()
        default:
            throw APIError(status: 404, code: -1000, message: "Unknown path: \(request.method) \(request.path)")
        }
    }

    // MARK: Weights, faults, bans

    private func rollWeightWindow() {
        let minute = now / 60_000
        if minute != weightMinute {
            weightMinute = minute
            weightUsed = 0
        }
    }

    private func weightOf(_ request: TestHTTPRequest) -> Int {
        // Only "is a symbol given" matters here; parse leniently.
        let hasSymbol = (try? parseParameters(request.query + "&" + request.bodyText))?.contains { $0.0 == "symbol" && !$0.1.isEmpty } ?? false
        switch (request.method, request.path) {
        case ("GET", "/api/v3/ping"), ("GET", "/api/v3/time"): return 1
        case ("GET", "/api/v3/exchangeInfo"): return 20
        case ("GET", "/api/v3/klines"): return 2
        case ("GET", "/api/v3/ticker/price"): return hasSymbol ? 2 : 4
        case ("POST", "/api/v3/order"), ("DELETE", "/api/v3/order"): return 1
        case ("GET", "/api/v3/order"): return 4
        case ("GET", "/api/v3/openOrders"): return hasSymbol ? 6 : 80
        case ("GET", "/api/v3/myTrades"), ("GET", "/api/v3/account"): return 20
        default: return 1
        }
    }

    private func takeFault(path: String, method: String) -> Fault? {
        guard let index = pending.firstIndex(where: { $0.path == path && ($0.method == nil || $0.method == method.uppercased()) })
        else { return nil }
        return pending.remove(at: index).fault
    }

    private func tooManyRequests() -> TestHTTPReply {
        reply(429, error: -1003, "Too many requests; current limit of IP(127.0.0.1) request weight is \(limitOfWeight) per minute. "
              + "Please use WebSocket Streams for live updates to avoid polling the API.")
    }

    private func bannedReply(until: Int64) -> TestHTTPReply {
        var answer = reply(418, error: -1003, "Way too much request weight used; IP banned until \(until). "
                           + "Please use WebSocket Streams for live updates to avoid bans.")
        answer.headers["Retry-After"] = String(max(1, (until - now + 999) / 1000))
        return answer
    }

    // MARK: Replies

    private func reply(_ status: Int, _ json: JSON) -> TestHTTPReply {
        TestHTTPReply(status: status, headers: ["Content-Type": "application/json;charset=UTF-8"], body: json.text)
    }

    private func reply(_ status: Int, error code: Int, _ message: String) -> TestHTTPReply {
        reply(status, .object([("code", .int(Int64(code))), ("msg", .string(message))]))
    }

    // MARK: Parameters and authentication

    private func publicParams(_ request: TestHTTPRequest) throws -> Params {
        try Params(parseParameters(request.query))
    }

    /// Checks API key, signature and timestamp, and returns the merged query + body parameters.
    private func authenticate(_ request: TestHTTPRequest) throws -> Params {
        signedCount += 1
        guard request.headers["x-mbx-apikey"] == apiKey else {
            throw APIError(status: 401, code: -2015, message: "Invalid API-key, IP, or permissions for action.")
        }
        var queryParts = request.query.isEmpty ? [] : request.query.components(separatedBy: "&")
        var bodyParts = request.body.isEmpty ? [] : request.bodyText.components(separatedBy: "&")
        func isSignature(_ part: String) -> Bool { part == "signature" || part.hasPrefix("signature=") }

        // `signature` must be the last parameter of what was sent: the body's when there is one.
        var signature: String?
        if let last = bodyParts.last, isSignature(last) {
            signature = String(last.dropFirst("signature".count).drop { $0 == "=" })
            bodyParts.removeLast()
        } else if bodyParts.isEmpty, let last = queryParts.last, isSignature(last) {
            signature = String(last.dropFirst("signature".count).drop { $0 == "=" })
            queryParts.removeLast()
        }
        if (queryParts + bodyParts).contains(where: isSignature) {
            throw APIError(status: 400, code: -1022, message: "Signature for this request is not valid.")
        }
        guard let signature, !signature.isEmpty else { throw APIError.mandatory("signature") }

        let payload = queryParts.joined(separator: "&") + bodyParts.joined(separator: "&")
        guard Self.sign(payload, secret: secret) == signature.lowercased() else {
            throw APIError(status: 400, code: -1022, message: "Signature for this request is not valid.")
        }

        let params = try Params(parseParameters(queryParts.joined(separator: "&"))
                                + parseParameters(bodyParts.joined(separator: "&")))
        guard let timestamp = try params.int("timestamp") else { throw APIError.mandatory("timestamp") }
        let recvWindow = try params.int("recvWindow") ?? 5000
        if recvWindow > 60_000 {
            throw APIError(status: 400, code: -1131, message: "recvWindow must be less than 60000")
        }
        if timestamp > now + 1000 || now - timestamp > recvWindow {
            throw APIError(status: 400, code: -1021, message: "Timestamp for this request is outside of the recvWindow.")
        }
        return params
    }

    // MARK: Market data endpoints

    private func exchangeInfo(_ params: Params) throws -> JSON {
        var selected = symbolOrder
        if let one = params.string("symbol") {
            if params.string("symbols") != nil {
                throw APIError(status: 400, code: -1128, message: "Combination of optional parameters invalid.")
            }
            guard marketsBySymbol[one] != nil else { throw APIError.invalidSymbol }
            selected = [one]
        } else if let list = params.string("symbols") {
            guard let data = list.data(using: .utf8),
                  let names = (try? JSONSerialization.jsonObject(with: data)) as? [String], !names.isEmpty else {
                throw APIError(status: 400, code: -1100, message: "Illegal characters found in parameter 'symbols'; "
                               + #"legal range is '^\["[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}\]$'."#)
            }
            for name in names where marketsBySymbol[name] == nil { throw APIError.invalidSymbol }
            selected = names
        }
        let symbols: [JSON] = selected.compactMap { marketsBySymbol[$0] }.map { market in
            .object([
                ("symbol", .string(market.symbol)),
                ("status", .string("TRADING")),
                ("baseAsset", .string(market.baseAsset)),
                ("baseAssetPrecision", .int(8)),
                ("quoteAsset", .string(market.quoteAsset)),
                ("quotePrecision", .int(8)),
                ("quoteAssetPrecision", .int(8)),
                ("baseCommissionPrecision", .int(8)),
                ("quoteCommissionPrecision", .int(8)),
                ("orderTypes", .array([.string("LIMIT"), .string("LIMIT_MAKER"), .string("MARKET")])),
                ("icebergAllowed", .bool(false)),
                ("ocoAllowed", .bool(false)),
                ("otoAllowed", .bool(false)),
                ("quoteOrderQtyMarketAllowed", .bool(true)),
                ("allowTrailingStop", .bool(false)),
                ("cancelReplaceAllowed", .bool(false)),
                ("isSpotTradingAllowed", .bool(true)),
                ("isMarginTradingAllowed", .bool(false)),
                ("filters", .array([
                    .object([("filterType", .string("PRICE_FILTER")), ("minPrice", .decimal(market.tickSize)),
                             ("maxPrice", .decimal(Self.maxPrice)), ("tickSize", .decimal(market.tickSize))]),
                    .object([("filterType", .string("LOT_SIZE")), ("minQty", .decimal(market.minQty)),
                             ("maxQty", .decimal(market.maxQty)), ("stepSize", .decimal(market.stepSize))]),
                ] + (market.marketMaxQty.map { maxQty in
                    // Binance lists zeros for MARKET_LOT_SIZE's minQty and stepSize where only its maxQty applies.
                    [.object([("filterType", .string("MARKET_LOT_SIZE")), ("minQty", .string("0.00000000")),
                              ("maxQty", .decimal(maxQty)), ("stepSize", .string("0.00000000"))])]
                } ?? []) + [
                    .object([("filterType", .string("NOTIONAL")), ("minNotional", .decimal(market.minNotional)),
                             ("applyMinToMarket", .bool(true)), ("maxNotional", .decimal(market.marketMaxNotional ?? Self.maxNotional)),
                             ("applyMaxToMarket", .bool(market.marketMaxNotional != nil)), ("avgPriceMins", .int(5))]),
                ])),
                ("permissions", .array([])),
                ("permissionSets", .array([.array([.string("SPOT")])])),
                ("defaultSelfTradePreventionMode", .string("NONE")),
                ("allowedSelfTradePreventionModes", .array([.string("NONE")])),
            ])
        }
        return .object([
            ("timezone", .string("UTC")),
            ("serverTime", .int(now)),
            ("rateLimits", .array([.object([("rateLimitType", .string("REQUEST_WEIGHT")), ("interval", .string("MINUTE")),
                                             ("intervalNum", .int(1)), ("limit", .int(Int64(limitOfWeight)))])])),
            ("exchangeFilters", .array([])),
            ("symbols", .array(symbols)),
        ])
    }

    private static let intervals: Set<String> = ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                                                 "1d", "3d", "1w", "1M"]

    private func klines(_ params: Params) throws -> JSON {
        let symbol = try params.required("symbol")
        guard marketsBySymbol[symbol] != nil || candles[symbol] != nil else { throw APIError.invalidSymbol }
        let interval = try params.required("interval")
        guard Self.intervals.contains(interval) else { throw APIError(status: 400, code: -1120, message: "Invalid interval.") }
        let startTime = try params.int("startTime")
        let endTime = try params.int("endTime")
        if let startTime, let endTime, startTime > endTime {
            throw APIError(status: 400, code: -1023, message: "Start time is greater than end time.")
        }
        let limit = try params.int("limit") ?? 500
        guard limit >= 1 else { throw APIError(status: 400, code: -1100, message: "Illegal characters found in parameter 'limit'; legal range is '1 - 1000'.") }
        let cap = Int(min(limit, 1000))

        let selected = (candles[symbol] ?? []).filter { kline in
            kline.openTimeMs <= now
                && (startTime.map { kline.openTimeMs >= $0 } ?? true)
                && (endTime.map { kline.openTimeMs <= $0 } ?? true)
        }
        // From startTime forwards; otherwise the most recent ones (ending at endTime or now).
        let page = startTime != nil ? Array(selected.prefix(cap)) : Array(selected.suffix(cap))
        return .array(page.map { kline in
            let quoteVolume = kline.volume * kline.close
            return .array([
                .int(kline.openTimeMs), .decimal(kline.open), .decimal(kline.high), .decimal(kline.low), .decimal(kline.close),
                .decimal(kline.volume), .int(kline.closeTimeMs), .decimal(quoteVolume), .int(kline.volume > 0 ? 100 : 0),
                .decimal(kline.volume / 2), .decimal(quoteVolume / 2), .string("0"),
            ])
        })
    }

    private func tickerPrice(_ params: Params) throws -> JSON {
        if let symbol = params.string("symbol") {
            guard marketsBySymbol[symbol] != nil, let price = priceOf(symbol) else { throw APIError.invalidSymbol }
            return .object([("symbol", .string(symbol)), ("price", .decimal(price))])
        }
        return .array(symbolOrder.compactMap { symbol in
            priceOf(symbol).map { .object([("symbol", .string(symbol)), ("price", .decimal($0))]) }
        })
    }

    private func priceOf(_ symbol: String) -> Decimal? {
        if let price = prices[symbol] { return price }
        let series = candles[symbol] ?? []
        return (series.last { $0.openTimeMs <= now } ?? series.first)?.close
    }

    // MARK: Trading endpoints

    private static let maxPrice = Decimal(1_000_000)
    private static let maxNotional = Decimal(9_000_000)

    private func placeOrder(_ params: Params, execution: Execution) throws -> JSON {
        let symbol = try params.required("symbol")
        guard let market = marketsBySymbol[symbol] else { throw APIError.invalidSymbol }
        let side = try params.required("side")
        guard side == "BUY" || side == "SELL" else { throw APIError(status: 400, code: -1117, message: "Invalid side.") }
        let type = try params.required("type")
        guard ["MARKET", "LIMIT", "LIMIT_MAKER"].contains(type) else {
            throw APIError(status: 400, code: -1116, message: "Invalid orderType.")
        }

        let clientOrderId: String
        if let requested = params.raw("newClientOrderId") {
            guard !requested.isEmpty else { throw APIError(status: 400, code: -1118, message: "New client order ID was empty.") }
            guard Self.isValidClientOrderId(requested) else {
                throw APIError(status: 400, code: -1100, message: "Illegal characters found in parameter 'newClientOrderId'; "
                               + #"legal range is '^[\.A-Z\:/a-z0-9_-]{1,36}$'."#)
            }
            clientOrderId = requested
        } else {
            clientOrderId = Self.generatedClientOrderId()
        }
        let responseType = params.string("newOrderRespType") ?? "FULL"
        guard ["ACK", "RESULT", "FULL"].contains(responseType) else {
            throw APIError(status: 400, code: -1100,
                           message: "Illegal characters found in parameter 'newOrderRespType'; legal range is 'ACK, RESULT, FULL'.")
        }

        // Parameters per order type.
        var timeInForce = "GTC"
        var limitPrice: Decimal = 0
        let quantity: Decimal
        var quoteOrderQty: Decimal = 0
        let marketPrice = priceOf(symbol)
        switch type {
        case "MARKET":
            if params.string("price") != nil { throw APIError.notRequired("price") }
            if params.string("timeInForce") != nil { throw APIError.notRequired("timeInForce") }
            let qty = try params.decimal("quantity")
            let quote = try params.decimal("quoteOrderQty")
            guard let price = marketPrice else { throw APIError(status: 400, code: -1013, message: "Market is closed.") }
            switch (qty, quote) {
            case (let qty?, nil):
                quantity = qty
            case (nil, let quote?):
                guard price > 0 else { throw APIError(status: 400, code: -1013, message: "Market is closed.") }
                quoteOrderQty = quote
                quantity = Self.floor(quote / price, step: market.stepSize)
            case (nil, nil):
                throw APIError(status: 400, code: -1102,
                               message: "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            default:
                throw APIError.notRequired("quoteOrderQty")
            }
        default:
            if type == "LIMIT" {
                timeInForce = try params.required("timeInForce")
                guard ["GTC", "IOC", "FOK"].contains(timeInForce) else {
                    throw APIError(status: 400, code: -1115, message: "Invalid timeInForce.")
                }
            } else if params.string("timeInForce") != nil {
                throw APIError.notRequired("timeInForce")
            }
            if params.string("quoteOrderQty") != nil { throw APIError.notRequired("quoteOrderQty") }
            guard let price = try params.decimal("price") else { throw APIError.mandatory("price") }
            guard let qty = try params.decimal("quantity") else { throw APIError.mandatory("quantity") }
            limitPrice = price
            quantity = qty
        }

        // Exchange filters, in Binance's order: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL.
        if type != "MARKET" {
            guard limitPrice >= market.tickSize, limitPrice <= Self.maxPrice,
                  Self.isMultiple(limitPrice - market.tickSize, of: market.tickSize) else {
                throw APIError.filter("PRICE_FILTER")
            }
        }
        guard quantity >= market.minQty, quantity > 0, quantity <= market.maxQty,
              Self.isMultiple(quantity - market.minQty, of: market.stepSize) else {
            throw APIError.filter("LOT_SIZE")
        }
        if type == "MARKET", let maxQty = market.marketMaxQty, quantity > maxQty { throw APIError.filter("MARKET_LOT_SIZE") }
        let referencePrice = type == "MARKET" ? (marketPrice ?? 0) : limitPrice
        guard quantity * referencePrice >= market.minNotional else { throw APIError.filter("NOTIONAL") }
        if type == "MARKET", let maxNotional = market.marketMaxNotional, quantity * referencePrice > maxNotional {
            throw APIError.filter("NOTIONAL")
        }

        // Duplicate client order id among open orders.
        if allOrders.contains(where: { $0.clientOrderId == clientOrderId && $0.isOpen }) {
            throw APIError(status: 400, code: -2010, message: "Duplicate order sent.")
        }

        // Balance.
        let hasFunds: Bool
        if side == "BUY" {
            hasFunds = (free[market.quoteAsset] ?? 0) >= quantity * referencePrice
        } else {
            hasFunds = (free[market.baseAsset] ?? 0) >= quantity
        }
        guard hasFunds else {
            throw APIError(status: 400, code: -2010, message: "Account has insufficient balance for requested action.")
        }

        let crosses: Bool
        if type == "MARKET" {
            crosses = true
        } else if let price = marketPrice {
            crosses = side == "BUY" ? price <= limitPrice : price >= limitPrice
        } else {
            crosses = false
        }
        if type == "LIMIT_MAKER" && crosses {
            throw APIError(status: 400, code: -2010, message: "Order would immediately match and take.")
        }

        // Accept the order.
        let order = Order(symbol: symbol, orderId: nextOrderId, clientOrderId: clientOrderId, side: side, type: type,
                          timeInForce: timeInForce, status: "NEW", price: limitPrice, origQty: quantity, executedQty: 0,
                          cummulativeQuoteQty: 0, origQuoteOrderQty: quoteOrderQty, time: now, updateTime: now, lockedAmount: 0)
        nextOrderId += 1
        orderEvents += 1
        allOrders.append(order)
        allOrders[allOrders.count - 1].placementSequence = orderEvents
        let index = allOrders.count - 1

        var fills: [Trade] = []
        if type == "MARKET", case .working = execution {
            // Accepted, not matched yet: the funds it needs are locked until `settleWorkingOrders`.
            lockRemainder(orderIndex: index, market: market, price: marketPrice ?? 0)
            workingMarketOrderIds.insert(allOrders[index].orderId)
        } else if crosses, let price = marketPrice {
            var fillQty = quantity
            if case .partial(let fraction) = execution {
                fillQty = min(quantity, Self.floor(quantity * max(0, fraction), step: market.stepSize))
            }
            let allOrNothingFails = timeInForce == "FOK" && type == "LIMIT" && fillQty < quantity
            if fillQty > 0 && !allOrNothingFails {
                fills.append(execute(orderIndex: index, qty: fillQty, price: price, isMaker: false, fromLocked: false))
            }
            let executed = allOrders[index].executedQty
            if executed == quantity {
                setStatus(index, "FILLED")
            } else if type == "LIMIT" && timeInForce == "GTC" {
                setStatus(index, executed > 0 ? "PARTIALLY_FILLED" : "NEW")
                lockRemainder(orderIndex: index, market: market)
            } else {
                setStatus(index, "EXPIRED")
            }
        } else if timeInForce == "GTC" {
            lockRemainder(orderIndex: index, market: market)
        } else {
            setStatus(index, "EXPIRED")
        }

        let placed = allOrders[index]
        var fields: [(String, JSON)] = [
            ("symbol", .string(placed.symbol)), ("orderId", .int(placed.orderId)), ("orderListId", .int(-1)),
            ("clientOrderId", .string(placed.clientOrderId)), ("transactTime", .int(now)),
        ]
        if responseType == "ACK" { return .object(fields) }
        fields += [
            ("price", .decimal(placed.price)), ("origQty", .decimal(placed.origQty)),
            ("executedQty", .decimal(placed.executedQty)), ("origQuoteOrderQty", .decimal(placed.origQuoteOrderQty)),
            ("cummulativeQuoteQty", .decimal(placed.cummulativeQuoteQty)), ("status", .string(placed.status)),
            ("timeInForce", .string(placed.timeInForce)), ("type", .string(placed.type)), ("side", .string(placed.side)),
            ("workingTime", .int(placed.time)),
        ]
        if responseType == "FULL" {
            fields.append(("fills", .array(fills.map { trade in
                .object([("price", .decimal(trade.price)), ("qty", .decimal(trade.qty)),
                         ("commission", .decimal(trade.commission)), ("commissionAsset", .string(trade.commissionAsset)),
                         ("tradeId", .int(trade.id))])
            })))
        }
        fields.append(("selfTradePreventionMode", .string("NONE")))
        return .object(fields)
    }

    /// Moves the funds for the unfilled part of a resting order from free to locked (at `price`, default the
    /// order's limit price).
    private func lockRemainder(orderIndex index: Int, market: Market, price: Decimal? = nil) {
        let order = allOrders[index]
        let remaining = order.origQty - order.executedQty
        let asset = order.side == "BUY" ? market.quoteAsset : market.baseAsset
        let amount = order.side == "BUY" ? remaining * (price ?? order.price) : remaining
        free[asset] = (free[asset] ?? 0) - amount
        lockedFunds[asset] = (lockedFunds[asset] ?? 0) + amount
        allOrders[index].lockedAmount += amount
        accountUpdateTime = now
    }

    /// Sets an order's status; a final one gets its place in the sequence of order events.
    private func setStatus(_ index: Int, _ status: String) {
        allOrders[index].status = status
        if !allOrders[index].isOpen && allOrders[index].finalSequence == nil {
            orderEvents += 1
            allOrders[index].finalSequence = orderEvents
        }
    }

    /// Gives back to free what an order still holds locked.
    private func release(orderIndex index: Int, market: Market) {
        let order = allOrders[index]
        guard order.lockedAmount != 0 else { return }
        let asset = order.side == "BUY" ? market.quoteAsset : market.baseAsset
        lockedFunds[asset] = (lockedFunds[asset] ?? 0) - order.lockedAmount
        free[asset] = (free[asset] ?? 0) + order.lockedAmount
        allOrders[index].lockedAmount = 0
        accountUpdateTime = now
    }

    /// Executes `qty` of an order at `price`, moving balances and recording the trade. For a resting order
    /// (`fromLocked`) the remainder is assumed to be filled entirely and all its locked funds are released.
    private func execute(orderIndex index: Int, qty: Decimal, price: Decimal, isMaker: Bool, fromLocked: Bool) -> Trade {
        let order = allOrders[index]
        let market = marketsBySymbol[order.symbol]
        let base = market?.baseAsset ?? ""
        let quote = market?.quoteAsset ?? ""
        let quoteQty = Self.round8(qty * price)
        let isBuyer = order.side == "BUY"
        let commission: Decimal
        let commissionAsset: String
        if isBuyer {
            commission = Self.round8(qty * commissionRate)
            commissionAsset = base
            if fromLocked {
                let lockedAmount = order.lockedAmount
                lockedFunds[quote] = (lockedFunds[quote] ?? 0) - lockedAmount
                free[quote] = (free[quote] ?? 0) + lockedAmount - quoteQty
            } else {
                free[quote] = (free[quote] ?? 0) - quoteQty
            }
            free[base] = (free[base] ?? 0) + qty - commission
        } else {
            commission = Self.round8(quoteQty * commissionRate)
            commissionAsset = quote
            if fromLocked {
                let lockedAmount = order.lockedAmount
                lockedFunds[base] = (lockedFunds[base] ?? 0) - lockedAmount
                free[base] = (free[base] ?? 0) + lockedAmount - qty
            } else {
                free[base] = (free[base] ?? 0) - qty
            }
            free[quote] = (free[quote] ?? 0) + quoteQty - commission
        }
        if fromLocked { allOrders[index].lockedAmount = 0 }
        allOrders[index].executedQty += qty
        allOrders[index].cummulativeQuoteQty += quoteQty
        allOrders[index].updateTime = now
        accountUpdateTime = now
        let trade = Trade(id: nextTradeId, orderId: order.orderId, symbol: order.symbol, price: price, qty: qty,
                          quoteQty: quoteQty, commission: commission, commissionAsset: commissionAsset, time: now,
                          isBuyer: isBuyer, isMaker: isMaker)
        nextTradeId += 1
        allTrades.append(trade)
        return trade
    }

    /// Finds the order named by `orderId` or `origClientOrderId` (the most recent one with that client id,
    /// preferring an open one).
    private func findOrder(_ params: Params, symbol: String) throws -> Int? {
        if let orderId = try params.int("orderId") {
            return allOrders.lastIndex { $0.orderId == orderId && $0.symbol == symbol }
        }
        if let raw = params.raw("origClientOrderId") {
            guard !raw.isEmpty else { throw APIError(status: 400, code: -1119, message: "Original client order ID was empty.") }
            return allOrders.lastIndex { $0.clientOrderId == raw && $0.symbol == symbol && $0.isOpen }
                ?? allOrders.lastIndex { $0.clientOrderId == raw && $0.symbol == symbol }
        }
        throw APIError(status: 400, code: -1102, message: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    }

    private func queryOrder(_ params: Params) throws -> JSON {
        let symbol = try params.required("symbol")
        guard marketsBySymbol[symbol] != nil else { throw APIError.invalidSymbol }
        guard let index = try findOrder(params, symbol: symbol) else {
            throw APIError(status: 400, code: -2013, message: "Order does not exist.")
        }
        return orderJSON(allOrders[index])
    }

    private func cancelOrder(_ params: Params) throws -> JSON {
        let symbol = try params.required("symbol")
        guard marketsBySymbol[symbol] != nil else { throw APIError.invalidSymbol }
        guard let index = try findOrder(params, symbol: symbol), allOrders[index].isOpen else {
            throw APIError(status: 400, code: -2011, message: "Unknown order sent.")
        }
        let cancelId: String
        if let requested = params.string("newClientOrderId") {
            guard Self.isValidClientOrderId(requested) else {
                throw APIError(status: 400, code: -1100, message: "Illegal characters found in parameter 'newClientOrderId'; "
                               + #"legal range is '^[\.A-Z\:/a-z0-9_-]{1,36}$'."#)
            }
            cancelId = requested
        } else {
            cancelId = Self.generatedClientOrderId()
        }
        // Release what the order still holds.
        if let market = marketsBySymbol[allOrders[index].symbol] { release(orderIndex: index, market: market) }
        workingMarketOrderIds.remove(allOrders[index].orderId)
        setStatus(index, "CANCELED")
        allOrders[index].updateTime = now
        let canceled = allOrders[index]
        return .object([
            ("symbol", .string(canceled.symbol)), ("origClientOrderId", .string(canceled.clientOrderId)),
            ("orderId", .int(canceled.orderId)), ("orderListId", .int(-1)), ("clientOrderId", .string(cancelId)),
            ("transactTime", .int(now)), ("price", .decimal(canceled.price)), ("origQty", .decimal(canceled.origQty)),
            ("executedQty", .decimal(canceled.executedQty)), ("origQuoteOrderQty", .decimal(canceled.origQuoteOrderQty)),
            ("cummulativeQuoteQty", .decimal(canceled.cummulativeQuoteQty)), ("status", .string(canceled.status)),
            ("timeInForce", .string(canceled.timeInForce)), ("type", .string(canceled.type)), ("side", .string(canceled.side)),
            ("selfTradePreventionMode", .string("NONE")),
        ])
    }

    private func openOrders(_ params: Params) throws -> JSON {
        let symbol = params.string("symbol")
        if let symbol, marketsBySymbol[symbol] == nil { throw APIError.invalidSymbol }
        return .array(allOrders.filter { $0.isOpen && (symbol == nil || $0.symbol == symbol) }.map(orderJSON))
    }

    private func myTrades(_ params: Params) throws -> JSON {
        let symbol = try params.required("symbol")
        guard marketsBySymbol[symbol] != nil else { throw APIError.invalidSymbol }
        let orderId = try params.int("orderId")
        let startTime = try params.int("startTime")
        let endTime = try params.int("endTime")
        let fromId = try params.int("fromId")
        let limit = try params.int("limit") ?? 500
        guard limit >= 1 else { throw APIError(status: 400, code: -1100, message: "Illegal characters found in parameter 'limit'; legal range is '1 - 1000'.") }
        let cap = Int(min(limit, 1000))
        let selected = allTrades.filter { trade in
            trade.symbol == symbol
                && (orderId.map { trade.orderId == $0 } ?? true)
                && (fromId.map { trade.id >= $0 } ?? true)
                && (startTime.map { trade.time >= $0 } ?? true)
                && (endTime.map { trade.time <= $0 } ?? true)
        }.sorted { $0.id < $1.id }
        // Oldest first from fromId/startTime; otherwise the most recent ones.
        let page = (fromId != nil || startTime != nil) ? Array(selected.prefix(cap)) : Array(selected.suffix(cap))
        return .array(page.map { trade in
            .object([
                ("symbol", .string(trade.symbol)), ("id", .int(trade.id)), ("orderId", .int(trade.orderId)),
                ("orderListId", .int(-1)), ("price", .decimal(trade.price)), ("qty", .decimal(trade.qty)),
                ("quoteQty", .decimal(trade.quoteQty)), ("commission", .decimal(trade.commission)),
                ("commissionAsset", .string(trade.commissionAsset)), ("time", .int(trade.time)),
                ("isBuyer", .bool(trade.isBuyer)), ("isMaker", .bool(trade.isMaker)), ("isBestMatch", .bool(true)),
            ])
        })
    }

    private func account() -> JSON {
        let assets = Set(free.keys).union(lockedFunds.keys).sorted()
        return .object([
            ("makerCommission", .int(10)), ("takerCommission", .int(10)), ("buyerCommission", .int(0)), ("sellerCommission", .int(0)),
            ("commissionRates", .object([("maker", .decimal(commissionRate)), ("taker", .decimal(commissionRate)),
                                         ("buyer", .decimal(0)), ("seller", .decimal(0))])),
            ("canTrade", .bool(true)), ("canWithdraw", .bool(true)), ("canDeposit", .bool(true)), ("brokered", .bool(false)),
            ("requireSelfTradePrevention", .bool(false)), ("preventSor", .bool(false)),
            ("updateTime", .int(accountUpdateTime)), ("accountType", .string("SPOT")),
            ("balances", .array(assets.map { asset in
                .object([("asset", .string(asset)), ("free", .decimal(free[asset] ?? 0)), ("locked", .decimal(lockedFunds[asset] ?? 0))])
            })),
            ("permissions", .array([.string("SPOT")])),
            ("uid", .int(354_937_868)),
        ])
    }

    private func orderJSON(_ order: Order) -> JSON {
        .object([
            ("symbol", .string(order.symbol)), ("orderId", .int(order.orderId)), ("orderListId", .int(-1)),
            ("clientOrderId", .string(order.clientOrderId)), ("price", .decimal(order.price)),
            ("origQty", .decimal(order.origQty)), ("executedQty", .decimal(order.executedQty)),
            ("cummulativeQuoteQty", .decimal(order.cummulativeQuoteQty)), ("status", .string(order.status)),
            ("timeInForce", .string(order.timeInForce)), ("type", .string(order.type)), ("side", .string(order.side)),
            ("stopPrice", .decimal(0)), ("icebergQty", .decimal(0)), ("time", .int(order.time)),
            ("updateTime", .int(order.updateTime)), ("isWorking", .bool(true)), ("workingTime", .int(order.time)),
            ("origQuoteOrderQty", .decimal(order.origQuoteOrderQty)), ("selfTradePreventionMode", .string("NONE")),
        ])
    }

    // MARK: - Helpers

    /// Binance's rule for client order ids: `^[\.A-Z\:/a-z0-9_-]{1,36}$`.
    private static func isValidClientOrderId(_ id: String) -> Bool {
        guard (1...36).contains(id.unicodeScalars.count) else { return false }
        return id.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", ".", ":", "/", "_", "-": return true
            default: return false
            }
        }
    }

    private static func generatedClientOrderId() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<22).map { _ in alphabet.randomElement() ?? "x" })
    }

    private static func isMultiple(_ value: Decimal, of step: Decimal) -> Bool {
        guard step > 0 else { return true }
        var quotient = value / step
        var whole = Decimal()
        NSDecimalRound(&whole, &quotient, 0, .down)
        return whole == quotient
    }

    private static func floor(_ value: Decimal, step: Decimal) -> Decimal {
        guard step > 0 else { return value }
        var quotient = value / step
        var whole = Decimal()
        NSDecimalRound(&whole, &quotient, 0, .down)
        return whole * step
    }

    static func round8(_ value: Decimal) -> Decimal {
        var input = value
        var result = Decimal()
        NSDecimalRound(&result, &input, 8, .plain)
        return result
    }

    /// Binance's 8-decimal rendering, e.g. `0.10000000`.
    static func format8(_ value: Decimal) -> String {
        let text = round8(value).description
        let negative = text.hasPrefix("-")
        let digits = negative ? String(text.dropFirst()) : text
        let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? "0"
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        fraction = String(fraction.prefix(8))
        fraction += String(repeating: "0", count: 8 - fraction.count)
        let sign = negative && (whole != "0" || fraction != "00000000") ? "-" : ""
        return "\(sign)\(whole.isEmpty ? "0" : whole).\(fraction)"
    }
}

// MARK: - Private support types

/// Lets the server's handler reach the fake without a retain cycle.
private final class WeakBox: @unchecked Sendable {
    weak var target: FakeBinance?
}

/// A Binance error answer.
private struct APIError: Error {
    var status: Int
    var code: Int
    var message: String

    static let invalidSymbol = APIError(status: 400, code: -1121, message: "Invalid symbol.")

    static func mandatory(_ name: String) -> APIError {
        APIError(status: 400, code: -1102, message: "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
    }

    static func notRequired(_ name: String) -> APIError {
        APIError(status: 400, code: -1106, message: "Parameter '\(name)' sent when not required.")
    }

    static func filter(_ name: String) -> APIError {
        APIError(status: 400, code: -1013, message: "Filter failure: \(name)")
    }
}

/// Splits `a=1&b=2` into percent-decoded pairs (`+` is a space, as in form encoding).
private func parseParameters(_ raw: String) throws -> [(String, String)] {
    var pairs: [(String, String)] = []
    for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
        let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ text: Substring) throws -> String {
            guard let decoded = text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                throw APIError(status: 400, code: -1100, message: "Illegal characters found in a parameter.")
            }
            return decoded
        }
        let name = try decode(pieces[0])
        let value = pieces.count > 1 ? try decode(pieces[1]) : ""
        pairs.append((name, value))
    }
    return pairs
}

/// Request parameters with Binance's validation messages.
private struct Params {
    private var values: [String: String] = [:]

    init(_ pairs: [(String, String)]) throws {
        for (name, value) in pairs {
            if values[name] != nil {
                throw APIError(status: 400, code: -1101, message: "Duplicate values for a parameter detected.")
            }
            values[name] = value
        }
    }

    /// The value as sent (possibly empty), or nil when absent.
    func raw(_ name: String) -> String? { values[name] }

    /// The value, or nil when absent or empty.
    func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    func required(_ name: String) throws -> String {
        guard let value = string(name) else { throw APIError.mandatory(name) }
        return value
    }

    /// A non-negative integer (`^[0-9]{1,20}$`), or nil when absent.
    func int(_ name: String) throws -> Int64? {
        guard let value = string(name) else { return nil }
        guard value.count <= 19, value.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int64(value) else {
            throw APIError(status: 400, code: -1100,
                           message: "Illegal characters found in parameter '\(name)'; legal range is '^[0-9]{1,20}$'.")
        }
        return number
    }

    /// A non-negative decimal (`^([0-9]{1,20})(\.[0-9]{1,20})?$`), or nil when absent.
    func decimal(_ name: String) throws -> Decimal? {
        guard let value = string(name) else { return nil }
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let wellFormed = parts.allSatisfy { !$0.isEmpty && $0.count <= 20 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
            && !(value.hasSuffix("."))
        guard wellFormed, let number = Decimal(string: value, locale: Locale(identifier: "en_US_POSIX")) else {
            throw APIError(status: 400, code: -1100,
                           message: #"Illegal characters found in parameter '\#(name)'; legal range is '^([0-9]{1,20})(\.[0-9]{1,20})?$'."#)
        }
        return number
    }
}

/// A tiny JSON writer that keeps key order (as Binance's answers do) and renders decimals as 8-place strings.
private indirect enum JSON {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case decimal(Decimal)
    case array([JSON])
    case object([(String, JSON)])

    var text: String {
        switch self {
        case .string(let value): return JSON.quote(value)
        case .int(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .decimal(let value): return JSON.quote(FakeBinance.format8(value))
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { JSON.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
