import Foundation
import GRDB
import Testing
import Binance
import HTTPTransport
@testable import Storage
import TestSupport

@Suite struct BinanceClientTests {
    @Test func aSignedRequestIsAcceptedAndTheServerTimeOffsetIsPersisted() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let client = try h.client()
        let balances = try await client.accountBalances()
        #expect(balances.first { $0.asset == "USDT" }?.free == 10_000)

        // The offset was measured with GET /api/v3/time and stored.
        #expect(h.requests("/api/v3/time").count == 1)
        let state = try await client.venueState()
        #expect(state.timeOffsetMs == BinanceHarness.skewMs)
        #expect(state.timeSyncedAt == h.clock.now)
        let account = try #require(h.requests("/api/v3/account").last)
        #expect(account.query.contains("recvWindow=5000&timestamp=\(h.fake.serverTimeMs)&signature="))

        // A later client on the same database reuses it...
        _ = try await h.client().accountBalances()
        #expect(h.requests("/api/v3/time").count == 1)
        // ...until it is older than an hour.
        h.clock.advance(ms: 3_600_001)
        _ = try await h.client().accountBalances()
        #expect(h.requests("/api/v3/time").count == 2)
        #expect(h.fake.signedRequestCount == 3)
    }

    /// A time request that waited (here two 5xx answers and their backoff) measures a long round trip, whose midpoint
    /// is uncertain: the time is asked again, and the offset of the shortest round trip is kept.
    @Test func aSlowTimeMeasurementIsTakenAgain() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        h.fake.inject(.serverError(500), on: "/api/v3/time")
        h.fake.inject(.serverError(500), on: "/api/v3/time")
        let client = try h.client(random: { 1.0 })
        let offset = try await client.synchronizeTime()
        #expect(h.clock.sleeps.reduce(0, +) > 1, "the first measurement waited: \(h.clock.sleeps)")
        #expect(h.requests("/api/v3/time").count == 4, "two failures, the slow answer, one more")
        #expect(offset == BinanceHarness.skewMs)
        #expect(try await client.venueState().timeOffsetMs == BinanceHarness.skewMs)
    }

    @Test func aTimestampErrorResynchronisesOnceAndSucceeds() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let client = try h.client()
        _ = try await client.accountBalances()

        h.fake.inject(.timestampError, on: "/api/v3/account")
        _ = try await client.accountBalances()
        #expect(h.fake.requestLog.map(\.path) == ["/api/v3/time", "/api/v3/account", "/api/v3/account", "/api/v3/time", "/api/v3/account"])

        // A real drift: the venue's clock jumps 10 s ahead of the stored offset.
        h.fake.advanceServerTime(by: 10_000)
        _ = try await client.accountBalances()
        #expect(h.requests("/api/v3/time").count == 3)
        #expect(try await client.venueState().timeOffsetMs == BinanceHarness.skewMs + 10_000)

        // Only once per request: two -1021 in a row fail.
        h.fake.inject(.timestampError, on: "/api/v3/account")
        h.fake.inject(.timestampError, on: "/api/v3/account")
        let error = await binanceError { try await client.accountBalances() }
        #expect(error?.code == -1021)
        #expect(h.fake.pendingFaultCount == 0)
    }

    @Test func a429WaitsRetryAfterThenSucceeds() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let client = try h.client()
        h.fake.inject(.rateLimited(retryAfter: 7), on: "/api/v3/ticker/price")
        let price = try await client.tickerPrice(symbol: BinanceHarness.symbol)
        #expect(price == 100)
        #expect(h.clock.sleeps == [7])
        #expect(h.requests("/api/v3/ticker/price").count == 2)

        // A Retry-After longer than the allowed wait fails at once, and later requests respect it without the network.
        h.fake.inject(.rateLimited(retryAfter: 600), on: "/api/v3/ticker/price")
        let error = await binanceError { try await client.tickerPrice(symbol: BinanceHarness.symbol) }
        guard case .rateLimited? = error else { Issue.record("expected rateLimited, got \(String(describing: error))"); return }
        let before = h.fake.requestLog.count
        #expect(await binanceError { try await client.tickerPrice(symbol: BinanceHarness.symbol) } != nil)
        #expect(h.fake.requestLog.count == before)
    }

    @Test func a418BanIsPersistedAndRespectedByANewClientWithoutTheNetwork() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let client = try h.client()
        h.fake.inject(.banned(retryAfter: 120), on: "/api/v3/ticker/price")
        let error = await binanceError { try await client.tickerPrice(symbol: BinanceHarness.symbol) }
        guard case let .banned(until, reason)? = error else { Issue.record("expected banned, got \(String(describing: error))"); return }
        #expect(until == h.clock.now + 120_000)
        #expect(reason.contains("banned"))

        // Another process: a new database connection on the same file, a new client.
        let other = try StateDatabase(path: h.databasePath)
        let second = try h.client(database: other)
        let logged = h.fake.requestLog.count
        for _ in 0..<3 {
            guard case .banned? = await binanceError({ try await second.klines(symbol: BinanceHarness.symbol, interval: "1m") }) else {
                Issue.record("expected banned")
                return
            }
        }
        #expect(h.fake.requestLog.count == logged)

        h.clock.advance(ms: 119_000)
        #expect(await binanceError { try await second.tickerPrice(symbol: BinanceHarness.symbol) } != nil)
        #expect(h.fake.requestLog.count == logged)

        h.clock.advance(ms: 1_001)
        #expect(try await second.tickerPrice(symbol: BinanceHarness.symbol) == 100)
        #expect(h.fake.requestLog.count == logged + 1)
    }

    @Test func breakerOpensAfterRepeatedFailuresRefusesWithoutNetworkAndHalfOpens() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let settings = h.settings { $0.breakerFailures = 3; $0.breakerCooldownSeconds = 60; $0.maxRetries = 0 }
        let client = try h.client(settings)
        for _ in 0..<3 { h.fake.inject(.serverError(502), on: "/api/v3/ticker/price") }
        for _ in 0..<3 {
            guard case .server(502, _, _, _)? = await binanceError({ try await client.tickerPrice(symbol: BinanceHarness.symbol) }) else {
                Issue.record("expected a 502")
                return
            }
        }
        #expect(try await client.breakerOpenings() == 1)

        let logged = h.fake.requestLog.count
        let refused = await binanceError { try await client.tickerPrice(symbol: BinanceHarness.symbol) }
        #expect(refused == .breakerOpen(until: h.clock.now + 60_000))
        #expect(h.fake.requestLog.count == logged)

        // After the cooldown one trial goes through; it fails, so the breaker opens again.
        h.clock.advance(ms: 60_000)
        h.fake.inject(.serverError(503), on: "/api/v3/ticker/price")
        #expect(await binanceError { try await client.tickerPrice(symbol: BinanceHarness.symbol) }?.outcomeUnknown == true)
        #expect(h.fake.requestLog.count == logged + 1)
        #expect(try await client.venueState().breakerState == "open")
        #expect(try await client.breakerOpenings() == 2)
        guard case .breakerOpen? = await binanceError({ try await client.tickerPrice(symbol: BinanceHarness.symbol) }) else {
            Issue.record("expected the breaker to refuse")
            return
        }

        // The next trial succeeds and closes it.
        h.clock.advance(ms: 60_000)
        #expect(try await client.tickerPrice(symbol: BinanceHarness.symbol) == 100)
        let state = try await client.venueState()
        #expect(state.breakerState == "closed")
        #expect(state.breakerFailures == 0)
        #expect(state.breakerOpenings == 2)
        #expect(try await client.tickerPrice(symbol: BinanceHarness.symbol) == 100)
    }

    @Test func safeRequestsAreRetriedWithExponentialBackoffAndFullJitter() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let client = try h.client(h.settings { $0.maxRetries = 3; $0.backoffBaseSeconds = 0.5 }, random: { 0.5 })
        h.fake.inject(.serverError(500), on: "/api/v3/klines")
        h.fake.inject(.serverError(503), on: "/api/v3/klines")
        let klines = try await client.klines(symbol: BinanceHarness.symbol, interval: "1m", limit: 3)
        #expect(klines.count == 3)
        #expect(h.clock.sleeps == [0.25, 0.5])
        #expect(h.requests("/api/v3/klines").count == 3)

        // Retries are bounded.
        for _ in 0..<4 { h.fake.inject(.serverError(500), on: "/api/v3/klines") }
        let error = await binanceError { try await client.klines(symbol: BinanceHarness.symbol, interval: "1m") }
        guard case .server(500, _, _, _)? = error else { Issue.record("expected a 500, got \(String(describing: error))"); return }
        #expect(h.requests("/api/v3/klines").count == 7)
    }

    @Test func theWeightBudgetWaitsForTheNextMinuteOrFails() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        h.fake.weightLimit = 100
        let client = try h.client(h.settings { $0.maxWeightShare = 0.5; $0.maxWaitSeconds = 30 })
        _ = try await client.symbolFilters(BinanceHarness.symbol)  // weight 20, and learns the limit 100 → budget 50
        #expect(try await client.venueState().weightLimit == 100)
        _ = try await client.accountBalances()  // time 1 + account 20 = 41 used
        #expect(try await client.venueState().usedWeight == 41)

        // The server clock is 30 s into its minute: 30 s to wait is allowed.
        let logged = h.fake.requestLog.count
        _ = try await client.accountBalances()
        #expect(h.clock.sleeps == [30])
        #expect(h.fake.requestLog.count == logged + 1)
        #expect(try await client.venueState().usedWeight == 20)

        // 5 s into the minute (55 s to wait) it fails without sending.
        _ = try await client.accountBalances()  // 40 used
        h.clock.advance(ms: 5_000)
        let error = await binanceError { try await client.accountBalances() }
        guard case .weightBudgetExhausted(40, 20, 50, _)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.certainlyNotProcessed == true)
        #expect(h.fake.requestLog.count == logged + 2)
        #expect(h.fake.usedWeight == 40)
    }

    @Test func errorsNeverContainTheSecretAndTheDatabaseNeverStoresIt() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let wrong = BinanceCredentials(apiKey: BinanceHarness.apiKey, secret: "wrong-secret-\(UUID().uuidString)")
        let client = try h.client(credentials: wrong)
        let error = await binanceError { try await client.accountBalances() }
        #expect(error?.code == -1022)
        let text = String(describing: error as Any) + String(reflecting: error as Any)
        #expect(!wrong.appears(in: text))
        #expect(!text.contains("signature="))

        let good = try h.client()
        h.fake.inject(.serverError(500), on: "/api/v3/account")
        _ = try await good.accountBalances()
        let rows = try await h.database.writer.read { db -> String in
            var all = ""
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"") { all += row.description }
            }
            return all
        }
        #expect(rows.contains("binance@127.0.0.1"))
        #expect(!rows.contains(BinanceHarness.secret))
        #expect(!wrong.appears(in: rows))
    }

    @Test func missingCredentialsFailBeforeTheNetwork() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let client = try BinanceClient(settings: h.settings(), credentials: nil, http: URLSessionHTTPClient(), database: h.database,
                                       clock: h.clock.clock, sleep: h.clock.sleeper)
        #expect(await binanceError { try await client.accountBalances() } == .missingCredentials(endpoint: "GET /api/v3/account"))
        #expect(h.fake.requestLog.isEmpty)
        #expect(try await client.tickerPrice(symbol: BinanceHarness.symbol) == 100)
    }
}
