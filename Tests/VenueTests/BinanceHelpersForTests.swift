import Foundation
import Testing
import Binance
import Brokers
import HTTPTransport
import Storage
import TestSupport
import TradingDomain
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A controllable clock for the Binance client: `sleep` records the wait and moves both this clock and the
/// fake's server time forward by it, so nothing really waits and both sides agree on the time.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var nowMs: Int64
    private var recorded: [Double] = []
    private let fake: FakeBinance?

    init(_ start: Int64, fake: FakeBinance?) {
        nowMs = start
        self.fake = fake
    }

    var now: Int64 { lock.withLock { nowMs } }
    /// Every wait asked for, in seconds.
    var sleeps: [Double] { lock.withLock { recorded } }

    /// Moves the local clock and the fake's server time forward.
    func advance(ms: Int64) {
        lock.withLock { nowMs += ms }
        fake?.advanceServerTime(by: ms)
    }

    var clock: @Sendable () -> Int64 { { [self] in self.now } }

    var sleeper: @Sendable (Double) async -> Void {
        { [self] seconds in
            self.lock.withLock { self.recorded.append(seconds) }
            self.advance(ms: Int64((seconds * 1000).rounded(.up)))
        }
    }
}

/// One test's world: a fake Binance, a clock a little behind its server time, and a temporary state database.
final class BinanceHarness: @unchecked Sendable {
    static let apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    static let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    static let symbol: Symbol = "BTCUSDT"
    /// A minute boundary.
    static let t0: Int64 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000
    /// The local clock is this far behind the venue's.
    static let skewMs: Int64 = 2_500

    let fake: FakeBinance
    let clock: TestClock
    let databasePath: String
    let database: StateDatabase
    /// Klines the fake was started with (1m bars from `t0`).
    let klineCount: Int

    static let market = FakeBinance.Market(symbol: symbol.rawValue, baseAsset: "BTC", quoteAsset: "USDT", tickSize: dec("0.01"),
                                           stepSize: dec("0.001"), minQty: dec("0.001"), minNotional: 5)

    /// `klines` 1-minute bars from `t0`; the server time lies 30 s into the last one (so it is still open).
    init(klines: Int = 10, price: Decimal = 100, balances: [String: Decimal] = ["USDT": 10_000, "BTC": 1],
         market: FakeBinance.Market = BinanceHarness.market) throws {
        klineCount = klines
        let bars = (0..<klines).map { i in
            FakeBinance.Kline(openTimeMs: Self.t0 + Int64(i) * 60_000, open: price, high: price + 2, low: price - 2,
                              close: price + Decimal(i % 7) / 10, volume: 3, intervalMs: 60_000)
        }
        let serverTime = Self.t0 + Int64(klines - 1) * 60_000 + 30_000
        fake = FakeBinance(apiKey: Self.apiKey, secret: Self.secret, symbols: [market], balances: balances,
                           candles: [Self.symbol.rawValue: bars], serverTimeMs: serverTime)
        fake.setPrice(symbol: Self.symbol.rawValue, price: price)
        clock = TestClock(serverTime - Self.skewMs, fake: fake)
        databasePath = FileManager.default.temporaryDirectory.appendingPathComponent("tradejob-binance-\(UUID().uuidString).sqlite").path
        database = try StateDatabase(path: databasePath)
    }

    deinit { close() }

    /// Stops the fake and removes the database files. Tests call it in a `defer`, which also keeps the harness
    /// (and so the fake) alive until the test ends.
    func close() {
        fake.stop()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
    }

    func settings(_ change: (inout BinanceSettings) -> Void = { _ in }) -> BinanceSettings {
        // A generous deadline: requests to the fake answer at once, but a loaded test machine may be slow to schedule them.
        var settings = BinanceSettings(baseURL: fake.baseURL.absoluteString, requestTimeoutSeconds: 30)
        change(&settings)
        return settings
    }

    /// A client over real HTTP to the fake, on this harness's database (or another one opened on the same file).
    func client(_ settings: BinanceSettings? = nil, database: StateDatabase? = nil, credentials: BinanceCredentials? = nil,
                random: @escaping @Sendable () -> Double = { 0.5 }) throws -> BinanceClient {
        let settings = settings ?? self.settings()
        return try BinanceClient(settings: settings, credentials: credentials ?? BinanceCredentials(apiKey: Self.apiKey, secret: Self.secret),
                                 http: URLSessionHTTPClient(defaultTimeout: max(settings.requestTimeoutSeconds, 1)),
                                 database: database ?? self.database, clock: clock.clock, sleep: clock.sleeper, random: random)
    }

    func broker(_ settings: BinanceSettings? = nil, database: StateDatabase? = nil) throws -> BinanceBroker {
        BinanceBroker(client: try client(settings, database: database))
    }

    /// Requests that reached the fake for `path` (and `method`).
    func requests(_ path: String, method: String? = nil) -> [(method: String, path: String, query: String)] {
        fake.requestLog.filter { $0.path == path && (method == nil || $0.method == method) }
    }

    /// Sends a signed request directly (outside the client under test), e.g. to set up a resting order.
    func signedDirect(_ method: String, _ path: String, _ params: String) async throws -> Int {
        let payload = params + "&timestamp=\(fake.serverTimeMs)"
        var components = URLComponents(url: fake.baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        components?.percentEncodedQuery = payload + "&signature=" + fake.sign(payload)
        guard let url = components?.url else { throw BinanceError.invalidRequest("bad URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue(Self.apiKey, forHTTPHeaderField: "X-MBX-APIKEY")
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    func order(_ id: ClientOrderID, quantity: String = "0.05", side: OrderSide = .buy, price: Price = 100) -> OrderRequest {
        OrderRequest(clientOrderID: id, symbol: Self.symbol, side: side, quantity: dec(quantity), referencePrice: price)
    }
}

/// A decimal literal for the fake exchange (test data only).
func dec(_ text: String) -> Decimal {
    Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? .nan
}

/// A fixed-point literal of the kind the context wants (test data only; an invalid literal is the smallest value).
func dec<T: FixedPointValue>(_ text: String) -> T {
    T(text) ?? T(raw: .min)
}

/// Runs `body` and returns the `BinanceError` it throws (nil when it throws nothing or something else).
func binanceError<T>(_ body: () async throws -> T) async -> BinanceError? {
    do {
        _ = try await body()
        return nil
    } catch let error as BinanceError {
        return error
    } catch {
        return nil
    }
}
