import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import TestSupport

/// The real `tradejob` binary trading live against the in-process fake Binance (127.0.0.1, a free port).
@Suite("Live trading against a fake Binance", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct BinanceLiveEndToEndTests {
    static let apiKey = "test-api-key"
    static let secret = "test-secret-0123456789"
    static let symbols = ["BTCUSDT", "ETHUSDT"]

    /// A fake exchange with 200 closed 15-minute candles of a noisy up-trend per symbol, ending before the wall clock,
    /// and these balances (default: 10 000 USDT).
    static func exchange(balances: [String: Decimal] = ["USDT": 10_000]) -> FakeBinance {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let bar: Int64 = 900_000
        let lastOpen = (now / bar) * bar - bar
        var candles: [String: [FakeBinance.Kline]] = [:]
        for (k, symbol) in symbols.enumerated() {
            var price = k == 0 ? 40_000.0 : 2_000.0
            var klines: [FakeBinance.Kline] = []
            for i in 0..<200 {
                let next = price * (1 + 0.002 * ((i % 3 == 2) ? -0.6 : 1.0))
                func d(_ x: Double) -> Decimal { Decimal(string: String(format: "%.2f", x)) ?? 0 }
                klines.append(FakeBinance.Kline(openTimeMs: lastOpen - Int64(199 - i) * bar, open: d(price), high: d(max(price, next) * 1.0008),
                                                low: d(min(price, next) * 0.9992), close: d(next), volume: 1000, intervalMs: bar))
                price = next
            }
            candles[symbol] = klines
        }
        let markets = symbols.map {
            FakeBinance.Market(symbol: $0, baseAsset: String($0.dropLast(4)), quoteAsset: "USDT", tickSize: Decimal(string: "0.01") ?? 0,
                               stepSize: Decimal(string: "0.00001") ?? 0, minQty: Decimal(string: "0.00001") ?? 0, minNotional: 5)
        }
        let fake = FakeBinance(apiKey: apiKey, secret: secret, symbols: markets, balances: balances, candles: candles, serverTimeMs: now)
        fake.weightLimit = 1_000_000
        return fake
    }

    static func config(baseURL: URL, extra: [String: Any] = [:]) -> String {
        var root: [String: Any] = [
            "mode": "live",
            "market": ["source": "binance", "symbols": symbols, "timeframe": "15m", "lookback": 120],
            "binance": ["base_url": baseURL.absoluteString, "request_timeout_seconds": 1.0, "max_retries": 1, "breaker_failures": 50,
                        "recv_window_ms": 500],
            "paper": ["quote_asset": "USDT"],
            "strategy": ["min_confidence": 0.01, "exit_confidence": 1.0],
            "analysis": ["ema_fast": 5, "ema_slow": 12],
            "risk": ["risk_per_trade": 0.2, "max_position_fraction": 0.4, "max_total_exposure": 0.9, "stop_loss_atr": 3.0,
                     "take_profit_atr": 100.0, "trailing_stop": false, "partial_take_profit_atr": 0.0, "add_trigger_atr": 50.0,
                     "max_holding_hours": 0.0001],
            "protections": ["max_drawdown": ["enabled": false], "daily_loss": ["enabled": false], "losing_streak": ["enabled": false],
                            "symbol_cooldown": ["enabled": false], "error_rate": ["enabled": false]],
        ]
        for (k, v) in extra { root[k] = v }
        let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static var liveEnvironment: [String: String] {
        ["TRADEJOB_LIVE": "1", "TRADEJOB_BINANCE_API_KEY": apiKey, "TRADEJOB_BINANCE_API_SECRET": secret]
    }

    @Test func liveNeedsBothTheConfigAndTheFlagAndRefusesNow() throws {
        let fake = Self.exchange()
        defer { fake.stop() }
        let h = try Harness(config: Self.config(baseURL: fake.baseURL))
        defer { h.remove() }
        let keys = ["TRADEJOB_BINANCE_API_KEY": Self.apiKey, "TRADEJOB_BINANCE_API_SECRET": Self.secret]
        let refused = try h.run(["run"], environment: keys)
        #expect(refused.code == 64 && refused.stderr.contains("--live"), "\(refused.stderr)")
        let withNow = try h.run(["run", "--live", "--now", "2024-01-01T00:00:00Z"], environment: keys)
        #expect(withNow.code == 64 && withNow.stderr.contains("--now"), "\(withNow.stderr)")
        let noKeys = try h.run(["run", "--live"])
        #expect(noKeys.code == 64 && noKeys.stderr.contains("TRADEJOB_BINANCE_API_KEY"), "\(noKeys.stderr)")
        #expect(fake.signedRequestCount == 0, "nothing signed was sent")
    }

    @Test func aLiveCycleTradesAndTheSecretStaysOutOfEverything() throws {
        let fake = Self.exchange()
        defer { fake.stop() }
        let h = try Harness(config: Self.config(baseURL: fake.baseURL))
        defer { h.remove() }
        let r = try h.run(["run", "--log-level", "debug"], environment: Self.liveEnvironment)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(!fake.orders.isEmpty, "the cycle placed orders: \(r.stdout)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders WHERE status = 'FILLED'") == "\(fake.orders.filter { $0.status == "FILLED" }.count)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM candles WHERE symbol = 'BTCUSDT'") == "120", "the lookback's closed candles, backfilled")
        let database = try h.stateBytes()
        #expect(!r.stdout.contains(Self.secret) && !r.stderr.contains(Self.secret))
        #expect(database.range(of: Data(Self.secret.utf8)) == nil, "the secret is not in the database")
        let shown = try h.run(["config", "show"], environment: Self.liveEnvironment)
        #expect(!shown.stdout.contains(Self.secret))
    }

    /// Live runs until the first position in `symbol` is closed, at most `runs` (each must exit 0); then it must be closed.
    static func runUntilTheFirstPosition(in symbol: String, closes h: Harness, runs limit: Int) throws {
        let state = "SELECT state FROM positions WHERE symbol = '\(symbol)' ORDER BY id LIMIT 1"
        var runs = 0
        while runs < limit, try h.sqlite(state) != "CLOSED" {
            let r = try h.run(["run"], environment: liveEnvironment)
            #expect(r.code == 0, "\(r.stderr)")
            runs += 1
        }
        #expect(try h.sqlite(state) == "CLOSED", "after \(runs) runs")
    }

    /// The venue lowers BTCUSDT's largest market order (MARKET_LOT_SIZE `maxQty`) below the position the job holds. The
    /// exit sent on the cached filters is refused (-1013), which drops them; the next runs sell the position in orders
    /// the venue takes, each at most the new maximum, until nothing is left and the position is closed.
    @Test func aPositionAboveTheVenuesMaximumIsSoldInOrdersTheVenueTakes() throws {
        let fake = Self.exchange()
        defer { fake.stop() }
        let h = try Harness(config: Self.config(baseURL: fake.baseURL))
        defer { h.remove() }
        let first = try h.run(["run"], environment: Self.liveEnvironment)
        #expect(first.code == 0, "\(first.stderr)")
        let held = fake.balance("BTC").free
        try #require(held > Decimal(string: "0.001") ?? 1, "the first run bought BTC: \(first.stdout)")
        // 40% of the holding, on the 0.00001 step: two full orders and one of the last 20%.
        let cap = Decimal(Int((NSDecimalNumber(decimal: held).doubleValue * 0.4 / 0.00001).rounded(.down))) * (Decimal(string: "0.00001") ?? 0)
        fake.setFilters(symbol: "BTCUSDT", marketMaxQty: cap)

        try Self.runUntilTheFirstPosition(in: "BTCUSDT", closes: h, runs: 8)
        let sells = fake.orders.filter { $0.symbol == "BTCUSDT" && $0.side == "SELL" }
        // One refused on the stale filters (not booked), then three the venue took.
        #expect(sells.count == 3 && sells.allSatisfy { $0.origQty <= cap && $0.status == "FILLED" }, "\(sells.map(\.origQty)) against \(cap)")
        let sold = sells.reduce(Decimal(0)) { $0 + $1.executedQty }
        #expect(sold <= held && held - sold < (Decimal(string: "0.00001") ?? 0), "all but the dust below the step was sold: \(sold) of \(held)")
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders WHERE symbol = 'BTCUSDT' AND side = 'SELL' AND status = 'REJECTED' AND reason LIKE '%MARKET_LOT_SIZE%'") == "1")
    }

    /// An exit fills all but a rest worth less than the venue's minimum notional (a MARKET order that expires partly
    /// filled). The rest can never be sold: its exit is refused unsent once, recorded as dust, and the position closes
    /// instead of sending a refused exit at every run.
    @Test func aRestBelowTheVenuesSmallestOrderIsDustAndThePositionCloses() throws {
        let fake = Self.exchange()
        defer { fake.stop() }
        let market: [String: Any] = ["source": "binance", "symbols": ["BTCUSDT"], "timeframe": "15m", "lookback": 120]
        let h = try Harness(config: Self.config(baseURL: fake.baseURL, extra: ["market": market]))
        defer { h.remove() }
        let first = try h.run(["run"], environment: Self.liveEnvironment)
        #expect(first.code == 0, "\(first.stderr)")
        let held = fake.balance("BTC").free
        try #require(held > Decimal(string: "0.01") ?? 1, "the first run bought BTC: \(first.stdout)")
        // 99.9 % of about 0.08 BTC at about 41,000 USDT: a rest of about 3.4 USDT, under the 5 USDT minimum notional.
        fake.inject(.partialFill(fraction: Decimal(string: "0.999") ?? 1), on: "/api/v3/order", method: "POST")

        try Self.runUntilTheFirstPosition(in: "BTCUSDT", closes: h, runs: 6)
        let sells = fake.orders.filter { $0.side == "SELL" }
        #expect(sells.map(\.status) == ["EXPIRED"], "the rest was never sent")
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders WHERE side = 'SELL' AND status = 'REJECTED' AND reason LIKE 'below the minimum notional%'") == "1")
        let dust = try h.sqlite("SELECT message FROM events WHERE kind = 'dust'")
        #expect(dust.contains("below its smallest order"), "\(dust)")
        let rest = held - sells.reduce(Decimal(0)) { $0 + $1.executedQty }
        // The account holds the rest beside what the positions opened since hold (a new entry may follow the closure).
        let raw = Decimal(string: try h.sqlite("SELECT COALESCE(SUM(quantity), 0) FROM positions WHERE state != 'CLOSED'")) ?? -1
        let open = raw / 100_000_000
        #expect(rest > 0 && fake.balance("BTC").free == rest + open,
                "the rest stays in the account: \(fake.balance("BTC").free) against \(rest) + \(open); \(fake.orders.map { "\($0.side) \($0.status) \($0.executedQty)" })")
    }

    /// Kills the job at random points across many cycles (crash failpoints, SIGKILL, answers lost in transit) and
    /// checks that no intent was filled twice, every exchange order is known to the database, and the database's
    /// fills explain the exchange's balances exactly.
    @Test func survivesBeingKilledAtRandomPointsAcrossManyCycles() throws {
        let fake = Self.exchange()
        defer { fake.stop() }
        fake.hangSeconds = 3
        let h = try Harness(config: Self.config(baseURL: fake.baseURL))
        defer { h.remove() }
        var rng = SplitMix(seed: 20261126)
        let failpoints = ["after-write-ahead", "after-submit"]
        let faults: [FakeBinance.Fault] = [.timeoutAfterAccept, .acceptThenServerError(503), .unknownExecution, .serverError(500), .malformedJSON]
        var kills = 0
        for _ in 0..<110 {
            fake.setServerTime(Int64(Date().timeIntervalSince1970 * 1000))
            switch rng.next() % 6 {
            case 0:
                let point = failpoints[Int(rng.next() % UInt64(failpoints.count))]
                var env = Self.liveEnvironment
                env["TRADEJOB_FAILPOINT"] = point
                let r = try h.run(["run"], environment: env)
                if r.code == 137 { kills += 1 }
            case 1:
                let running = try h.start(["run"], environment: Self.liveEnvironment)
                // A random kill point, not a synchronisation: wherever the job happens to be after this long.
                usleep(UInt32(rng.next() % 400_000))
                running.signal(SIGKILL)
                _ = running.wait()
                kills += 1
            case 2:
                fake.inject(faults[Int(rng.next() % UInt64(faults.count))], on: "/api/v3/order", method: "POST")
                _ = try h.run(["run"], environment: Self.liveEnvironment)
            default:
                _ = try h.run(["run"], environment: Self.liveEnvironment)
            }
        }
        // Settle: clean runs resolve whatever the kills left behind. An order the venue does not know is taken as never
        // placed only after its booking window (recv_window_ms + 1 s) has passed, so this takes as many runs as that lasts.
        for _ in 0..<200 {
            fake.setServerTime(Int64(Date().timeIntervalSince1970 * 1000))
            _ = try h.run(["run"], environment: Self.liveEnvironment)
            if try h.sqlite("SELECT COUNT(*) FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN', 'NEW', 'PARTIALLY_FILLED')") == "0" { break }
        }
        #expect(kills >= 15, "the test killed the job often enough (\(kills))")
        let orders = fake.orders
        #expect(orders.count >= 15, "enough orders were placed (\(orders.count))")

        // 1. No client order id placed twice, and no intent (position, purpose, leg) filled more than once.
        let ids = orders.map(\.clientOrderId)
        #expect(Set(ids).count == ids.count, "a client order id was placed twice")
        var filledPerIntent: [String: Int] = [:]
        for o in orders where o.executedQty > 0 {
            let intent = o.clientOrderId.components(separatedBy: "-a").first ?? o.clientOrderId
            filledPerIntent[intent, default: 0] += 1
        }
        #expect(filledPerIntent.values.allSatisfy { $0 == 1 }, "an intent filled twice: \(filledPerIntent.filter { $0.value > 1 })")

        // 2. Every exchange order is known to the database, with the exchange's status.
        let known = try h.sqlite("SELECT client_order_id || ' ' || status FROM orders")
        let rows = Set(known.split(separator: "\n").map(String.init))
        for o in orders {
            #expect(rows.contains("\(o.clientOrderId) \(o.status)"), "\(o.clientOrderId) \(o.status) not in the database")
        }

        // 3. The database's fills explain the exchange's balances exactly.
        let fills = try h.sqlite("SELECT symbol, side, quantity, price, fee, fee_asset FROM fills")
        var ledger: [String: Decimal] = ["USDT": 10_000]
        for line in fills.split(separator: "\n") {
            let f = line.split(separator: "|").map(String.init)
            guard f.count == 6, case let (q, p, fee) = (MoneyColumn.decimal(f[2]), MoneyColumn.decimal(f[3]), MoneyColumn.decimal(f[4])), !q.isNaN, !p.isNaN, !fee.isNaN else {
                Issue.record("unreadable fill \(line)")
                continue
            }
            let base = String(f[0].dropLast(4))
            let sign: Decimal = f[1] == "BUY" ? 1 : -1
            ledger[base, default: 0] += sign * q
            ledger["USDT", default: 0] -= sign * q * p
            ledger[f[5], default: 0] -= fee
        }
        for asset in ["USDT", "BTC", "ETH"] {
            let venue = fake.balance(asset)
            #expect(venue.free + venue.locked == ledger[asset] ?? 0, "\(asset): exchange \(venue.free + venue.locked) vs database \(ledger[asset] ?? 0)")
        }
        // 4. Open positions hold what the exchange holds (less dust left by closed ones).
        for symbol in Self.symbols {
            let base = String(symbol.dropLast(4))
            let held = MoneyColumn.decimal(try h.sqlite("SELECT COALESCE(SUM(quantity), 0) FROM positions WHERE symbol = '\(symbol)' AND state != 'CLOSED'"))
            let venue = fake.balance(base).free + fake.balance(base).locked
            #expect(held <= venue + Decimal(string: "0.0000001")!, "\(symbol): positions \(held) vs exchange \(venue)")
        }
        #expect(try h.sqlite("SELECT COUNT(*) FROM orders WHERE status IN ('PENDING_SUBMIT', 'UNKNOWN')") == "0", "every outcome resolved")
    }
}

/// A small deterministic random source for the test's choices.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Venue breaker and the error-rate protection", .enabled(if: Harness.available, "the tradejob binary is not built: run `swift build` before `swift test`"))
struct BreakerErrorRateTests {
    /// A venue circuit breaker that opened since the previous run counts as a failure toward `protections.error_rate`.
    @Test func aBreakerOpeningTripsTheErrorRateProtection() throws {
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Harness.repository.appendingPathComponent("config/default.json"))) as? [String: Any])
        var protections = config["protections"] as? [String: Any] ?? [:]
        protections["error_rate"] = ["enabled": true, "consecutive_failures": 1, "action": "safe_mode"]
        config["protections"] = protections
        let text = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        let h = try Harness(config: text)
        defer { h.remove() }
        #expect(try h.run(["run", "--now", "2024-03-01T00:00:15Z"]).code == 0)
        #expect(try h.safeModeLock() == nil, "no failure yet")
        _ = try h.sqlite("INSERT INTO venue_state (venue, breaker_openings) VALUES ('binance', 1)")
        #expect(try h.run(["run", "--now", "2024-03-01T00:15:15Z"]).code == 0)
        #expect(try h.safeModeLock() != nil, "the opening tripped the error-rate protection")
        _ = try h.run(["safe-mode", "clear"])
        #expect(try h.run(["run", "--now", "2024-03-01T00:30:15Z"]).code == 0)
        #expect(try h.safeModeLock() == nil, "an opening counts once")
    }
}
