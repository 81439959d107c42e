import Foundation
import Testing
import Binance
import Brokers
import Storage
import TestSupport
import TradingDomain

@Suite struct BinanceBrokerTests {
    func report(_ outcome: SubmitOutcome) -> OrderReport? {
        if case let .answered(report) = outcome { return report }
        return nil
    }

    @Test func exchangeFiltersAreCachedInTheDatabaseUntilTheirTTL() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let settings = h.settings { $0.exchangeInfoTTLSeconds = 3600 }
        let first = try await h.broker(settings).submit(h.order("tj-1-en0-a1"), now: h.clock.now)
        #expect(report(first)?.status == .filled)
        #expect(h.requests("/api/v3/exchangeInfo").count == 1)
        #expect(h.requests("/api/v3/exchangeInfo").first?.query == "symbols=%5B%22BTCUSDT%22%5D")

        // A second broker and client on the same database, within the TTL: no exchangeInfo request.
        let other = try StateDatabase(path: h.databasePath)
        _ = try await h.broker(settings, database: other).submit(h.order("tj-2-en0-a1"), now: h.clock.now)
        #expect(h.requests("/api/v3/exchangeInfo").count == 1)
        let filters = try await h.client(settings).symbolFilters(BinanceHarness.symbol)
        #expect(filters == SymbolFilters(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: dec("0.01"), stepSize: dec("0.001"),
                                         minQty: dec("0.001"), minNotional: 5, maxQty: 9_000_000))
        #expect(h.requests("/api/v3/exchangeInfo").count == 1)

        // After the TTL it is fetched again.
        h.clock.advance(ms: 3_600_000)
        _ = try await h.broker(settings).submit(h.order("tj-3-en0-a1"), now: h.clock.now)
        #expect(h.requests("/api/v3/exchangeInfo").count == 2)
    }

    @Test func theQuantityIsRoundedDownToTheStepAndTooSmallOrdersAreNotSent() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker()
        let sent = try await broker.submit(h.order("tj-1-en0-a1", quantity: "0.0509"), now: h.clock.now)
        #expect(report(sent)?.status == .filled)
        #expect(h.fake.orders.first?.origQty == dec("0.05"))
        #expect(h.requests("/api/v3/order", method: "POST").first?.query.contains("quantity=0.05&") == true)

        // 0.0499 → 0.049 × 100 = 4.9 < 5: refused locally.
        let small = try await broker.submit(h.order("tj-2-en0-a1", quantity: "0.0499"), now: h.clock.now)
        let refused = try #require(report(small))
        #expect(refused.status == .rejected)
        #expect(refused.reason?.hasPrefix("below the minimum notional") == true)
        #expect(refused.reason?.contains("4.9 < 5") == true)
        // 0.0009 → 0.000 after rounding: refused too.
        let dust = try await broker.submit(h.order("tj-3-en0-a1", quantity: "0.0009"), now: h.clock.now)
        #expect(report(dust)?.status == .rejected)
        #expect(h.requests("/api/v3/order", method: "POST").count == 1)
        #expect(h.fake.orders.count == 1)
    }

    /// An order above the venue's largest market order is cut to it (MARKET_LOT_SIZE `maxQty`, NOTIONAL `maxNotional`
    /// where `applyMaxToMarket`) rather than refused whole; what is cut is left to a later order.
    @Test func anOrderAboveTheMaximumsIsCutToTheLargestTheVenueTakes() async throws {
        var market = BinanceHarness.market
        market.maxQty = 50
        market.marketMaxQty = dec("2.5")
        let h = try BinanceHarness(balances: ["USDT": 1_000_000, "BTC": 100], market: market)
        defer { h.close() }
        let filters = try await h.client().symbolFilters(BinanceHarness.symbol)
        #expect(filters.maxQty == dec("2.5"))
        #expect(filters.maxNotional == nil)

        let buy = try #require(report(try await h.broker().submit(h.order("tj-1-en0-a1", quantity: "7.3"), now: h.clock.now)))
        #expect(buy.status == .filled)
        #expect(buy.fills.map(\.quantity) == [dec("2.5")])
        let sell = try #require(report(try await h.broker().submit(h.order("tj-1-ex0-a1", quantity: "3", side: .sell), now: h.clock.now)))
        #expect(sell.status == .filled)
        #expect(sell.fills.map(\.quantity) == [dec("2.5")])
        #expect(h.fake.orders.map(\.origQty) == [dec("2.5"), dec("2.5")])

        // With a notional maximum for market orders: 1,234 USDT at 100 is 12.34 BTC, on the 0.001 step.
        var notional = BinanceHarness.market
        notional.marketMaxNotional = 1_234
        let n = try BinanceHarness(balances: ["USDT": 1_000_000, "BTC": 100], market: notional)
        defer { n.close() }
        let capped = try #require(report(try await n.broker().submit(n.order("tj-2-en0-a1", quantity: "20"), now: n.clock.now)))
        #expect(capped.status == .filled)
        #expect(n.fake.orders.map(\.origQty) == [dec("12.34")])
    }

    @Test func aMarketOrderFillsWithItsCommission() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker()
        let buy = try #require(report(try await broker.submit(h.order("tj-7-en0-a1", quantity: "0.5"), now: h.clock.now)))
        #expect(buy.status == .filled)
        #expect(buy.clientOrderID == "tj-7-en0-a1")
        #expect(buy.venueOrderID == "1001")
        let fill = try #require(buy.fills.first)
        #expect(buy.fills.count == 1)
        #expect(fill.quantity == dec("0.5"))
        #expect(fill.price == 100)
        #expect(fill.fee == dec("0.0005"))
        #expect(fill.feeAsset == "BTC")
        #expect(fill.tradeID == "5001")
        #expect(fill.side == .buy)
        #expect(fill.time == h.fake.serverTimeMs)
        let post = try #require(h.requests("/api/v3/order", method: "POST").first)
        #expect(post.query.hasPrefix("symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.5&newClientOrderId=tj-7-en0-a1&newOrderRespType=FULL&recvWindow=5000&timestamp="))

        let sell = try #require(report(try await broker.submit(h.order("tj-7-ex0-a1", quantity: "0.2", side: .sell), now: h.clock.now)))
        #expect(sell.status == .filled)
        #expect(sell.fills.first?.fee == dec("0.02"))
        #expect(sell.fills.first?.feeAsset == "USDT")

        let balances = try await broker.balances()
        #expect(balances.free["BTC"] == dec("1.2995"))
        #expect(balances.free["USDT"] == dec("9969.98"))
    }

    @Test func aTimeoutAfterAcceptIsUnknownThenTheQueryFindsItFilled() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        // The fake holds its answer far longer than the order client's deadline (stop() releases it at the end).
        h.fake.hangSeconds = 60
        let broker = try h.broker()
        _ = try await broker.balances()
        _ = try await broker.client.symbolFilters(BinanceHarness.symbol)
        let impatient = try h.broker(h.settings { $0.requestTimeoutSeconds = 2 })
        h.fake.inject(.timeoutAfterAccept, on: "/api/v3/order", method: "POST")
        let outcome = try await impatient.submit(h.order("tj-4-en0-a1", quantity: "0.1"), now: h.clock.now)
        guard case let .unknown(reason) = outcome else { Issue.record("expected unknown, got \(outcome)"); return }
        #expect(reason.contains("POST /api/v3/order"))
        #expect(reason.contains("no reply"))
        #expect(h.requests("/api/v3/order", method: "POST").count == 1)  // never resent

        let found = try await broker.query(clientOrderID: "tj-4-en0-a1", symbol: BinanceHarness.symbol)
        guard case let .found(report) = found else { Issue.record("expected found, got \(found)"); return }
        #expect(report.status == .filled)
        #expect(report.fills.map(\.quantity) == [dec("0.1")])
        #expect(report.fills.first?.fee == dec("0.0001"))
        #expect(report.fills.first?.clientOrderID == "tj-4-en0-a1")
        #expect(h.requests("/api/v3/myTrades").first?.query.contains("orderId=1001") == true)
    }

    @Test func answersThatLeaveTheOutcomeUnknownAreNeverResent() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker()
        let faults: [FakeBinance.Fault] = [.acceptThenServerError(503), .unknownExecution, .malformedJSON, .serverError(500)]
        for (index, fault) in faults.enumerated() {
            h.fake.inject(fault, on: "/api/v3/order", method: "POST")
            let outcome = try await broker.submit(h.order(ClientOrderID(rawValue: "tj-\(index + 1)-en0-a1")), now: h.clock.now)
            guard case .unknown = outcome else { Issue.record("\(fault): expected unknown, got \(outcome)"); continue }
        }
        #expect(h.requests("/api/v3/order", method: "POST").count == faults.count)
        // The first three were placed anyway; the last was not.
        #expect(h.fake.orders.map(\.clientOrderId) == ["tj-1-en0-a1", "tj-2-en0-a1", "tj-3-en0-a1"])
        #expect(try await broker.query(clientOrderID: "tj-1-en0-a1", symbol: BinanceHarness.symbol) != .notFound)
        #expect(try await broker.query(clientOrderID: "tj-4-en0-a1", symbol: BinanceHarness.symbol) == .notFound)
    }

    @Test func anOrderThatCertainlyDidNotArriveIsRetriedOnceAfterA429() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker()
        h.fake.inject(.rateLimited(retryAfter: 3), on: "/api/v3/order", method: "POST")
        let outcome = try await broker.submit(h.order("tj-9-en0-a1"), now: h.clock.now)
        #expect(report(outcome)?.status == .filled)
        #expect(h.requests("/api/v3/order", method: "POST").count == 2)
        #expect(h.fake.orders.count == 1)
        #expect(h.clock.sleeps == [3])
    }

    @Test func aTimestampErrorOnAnOrderIsResentOnceAfterResynchronising() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker(h.settings { $0.maxRetries = 0 })
        _ = try await broker.balances()
        h.fake.inject(.timestampError, on: "/api/v3/order", method: "POST")
        let outcome = try await broker.submit(h.order("tj-1-en0-a1"), now: h.clock.now)
        #expect(report(outcome)?.status == .filled)
        #expect(h.requests("/api/v3/order", method: "POST").count == 2)
        #expect(h.requests("/api/v3/time").count == 2)

        // When the re-synchronisation itself fails, the order is known not to have been processed.
        h.fake.inject(.timestampError, on: "/api/v3/order", method: "POST")
        h.fake.inject(.serverError(500), on: "/api/v3/time")
        let failed = try await broker.submit(h.order("tj-2-en0-a1"), now: h.clock.now)
        #expect(report(failed)?.status == .rejected)
        #expect(report(failed)?.reason?.hasPrefix("not sent: Binance POST /api/v3/order was not processed") == true)
        #expect(h.fake.orders.count == 1)
    }

    @Test func anOrderWhoseConnectionIsRefusedIsRetriedThenReportedNotSent() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker(h.settings { $0.maxRetries = 2 })
        _ = try await broker.balances()
        _ = try await broker.client.symbolFilters(BinanceHarness.symbol)
        h.fake.stop()
        let outcome = try await broker.submit(h.order("tj-1-en0-a1"), now: h.clock.now)
        let refused = try #require(report(outcome))
        #expect(refused.status == .rejected)
        #expect(refused.reason?.hasPrefix("not sent: Binance POST /api/v3/order: cannot connect") == true)
        #expect(h.clock.sleeps.count == 2)  // two backoff delays: three attempts
        #expect(try await broker.client.venueState().breakerFailures == 3)
    }

    @Test func anUnknownClientOrderIdIsNotFound() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        #expect(try await h.broker().query(clientOrderID: "tj-99-en0-a1", symbol: BinanceHarness.symbol) == .notFound)
    }

    @Test func aDuplicateClientOrderIdWhileOpenIsRejectedWithTheVenueReason() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let status = try await h.signedDirect("POST", "/api/v3/order",
                                              "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.100&price=90.00&newClientOrderId=tj-5-en0-a1")
        #expect(status == 200)
        let outcome = try await h.broker().submit(h.order("tj-5-en0-a1", quantity: "0.1"), now: h.clock.now)
        let rejected = try #require(report(outcome))
        #expect(rejected.status == .rejected)
        #expect(rejected.reason == "Binance -2010: Duplicate order sent.")
        #expect(h.fake.orders.count == 1)
    }

    @Test func aPartialFillEndsExpiredWithThePartialFills() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        h.fake.inject(.partialFill(fraction: dec("0.5")), on: "/api/v3/order", method: "POST")
        let broker = try h.broker()
        let partial = try #require(report(try await broker.submit(h.order("tj-6-en0-a1", quantity: "0.3"), now: h.clock.now)))
        #expect(partial.status == .expired)
        #expect(partial.fills.map(\.quantity) == [dec("0.15")])
        #expect(partial.reason?.contains("0.15 of 0.3") == true)

        guard case let .found(queried) = try await broker.query(clientOrderID: "tj-6-en0-a1", symbol: BinanceHarness.symbol) else {
            Issue.record("expected found")
            return
        }
        #expect(queried.status == .expired)
        #expect(queried.fills == partial.fills)
    }

    @Test func cancelOpenOrdersCancelsOnlyTradejobsOrders() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        for id in ["tj-8-en0-a1", "manual-1"] {
            let status = try await h.signedDirect("POST", "/api/v3/order",
                                                  "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.100&price=90.00&newClientOrderId=\(id)")
            #expect(status == 200)
        }
        let broker = try h.broker()
        #expect(try await broker.openOrders(symbol: BinanceHarness.symbol).map(\.clientOrderId) == ["tj-8-en0-a1", "manual-1"])
        let cancelled = try await broker.cancelOpenOrders(symbol: BinanceHarness.symbol)
        #expect(cancelled.map(\.clientOrderID) == ["tj-8-en0-a1"])
        #expect(cancelled.first?.status == .canceled)
        #expect(h.fake.orders.map(\.status) == ["CANCELED", "NEW"])
        #expect(try await broker.openOrders(symbol: BinanceHarness.symbol).map(\.clientOrderId) == ["manual-1"])
    }

    @Test func myTradesReturnsTradesAfterAnId() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker()
        for i in 1...3 { _ = try await broker.submit(h.order(ClientOrderID(rawValue: "tj-\(i)-en0-a1"), quantity: "0.1"), now: h.clock.now) }
        let all = try await broker.myTrades(symbol: BinanceHarness.symbol, fromId: nil)
        #expect(all.map(\.id) == [5001, 5002, 5003])
        #expect(all.map(\.orderId) == [1001, 1002, 1003])
        let later = try await broker.myTrades(symbol: BinanceHarness.symbol, fromId: 5001)
        #expect(later.map(\.id) == [5002, 5003])
        #expect(later.first?.fill(clientOrderID: "tj-2-en0-a1").fee == dec("0.0001"))
        #expect(try await broker.myTrades(symbol: BinanceHarness.symbol, fromId: 5003).isEmpty)
    }

    @Test func anOrderRefusedBeforeSendingIsRejectedAsNotSent() async throws {
        let h = try BinanceHarness()
        defer { h.close() }
        let broker = try h.broker()
        _ = try await broker.client.symbolFilters(BinanceHarness.symbol)
        h.fake.inject(.banned(retryAfter: 300), on: "/api/v3/ticker/price")
        _ = try? await broker.client.tickerPrice(symbol: BinanceHarness.symbol)
        let outcome = try await broker.submit(h.order("tj-1-en0-a1"), now: h.clock.now)
        #expect(report(outcome)?.status == .rejected)
        #expect(report(outcome)?.reason?.hasPrefix("not sent: Binance has banned this IP") == true)
        #expect(h.requests("/api/v3/order").isEmpty)
    }

    @Test func filterArithmeticIsExact() throws {
        #expect(try SymbolFilters.roundQuantityDown(dec("0.123456"), to: dec("0.001")) == dec("0.123"))
        #expect(try SymbolFilters.roundQuantityDown(dec("5"), to: dec("0.1")) == 5)
        #expect(try SymbolFilters.roundQuantityDown(dec("-1"), to: dec("0.1")) == 0)
        #expect(try SymbolFilters.roundQuantityDown(dec("0.7"), to: 0) == dec("0.7"))
        #expect(try SymbolFilters.roundPrice(dec("100.126"), to: dec("0.01")) == dec("100.13"))
        #expect(try SymbolFilters.roundPrice(dec("100.124"), to: dec("0.01")) == dec("100.12"))
        let filters = SymbolFilters(symbol: "ETHBTC", baseAsset: "ETH", quoteAsset: "BTC", tickSize: dec("0.00001"), stepSize: dec("0.0001"),
                                    minQty: dec("0.001"), minNotional: dec("0.0001"))
        #expect(filters.refusal(quantity: dec("0.0009"), price: 1)?.hasPrefix("below the minimum quantity") == true)
        #expect(filters.refusal(quantity: dec("0.002"), price: dec("0.04"))?.hasPrefix("below the minimum notional") == true)
        #expect(filters.refusal(quantity: dec("0.0025"), price: dec("0.04")) == nil)
        #expect(filters.minimumCheck(quantity: dec("0.0009"), price: 1).isBelowSmallestOrder)
        #expect(filters.minimumCheck(quantity: dec("0.002"), price: dec("0.04")).isBelowSmallestOrder)
        #expect(!filters.minimumCheck(quantity: dec("0.0025"), price: dec("0.04")).isBelowSmallestOrder)
        // A notional out of the fixed-point range is refused, but not as below a minimum.
        #expect(filters.refusal(quantity: dec("900000000"), price: dec("900000000")) != nil)
        #expect(!filters.minimumCheck(quantity: dec("900000000"), price: dec("900000000")).isBelowSmallestOrder)
        // One comparison gives both the message and the dust verdict.
        #expect(filters.minimumCheck(quantity: 0, price: 1) == .notPositive)
        #expect(filters.minimumCheck(quantity: dec("0.0009"), price: 1) == .belowMinimumQuantity)
        #expect(filters.minimumCheck(quantity: dec("0.002"), price: dec("0.04")) == .belowMinimumNotional(dec("0.00008")))
        #expect(filters.minimumCheck(quantity: dec("900000000"), price: dec("900000000")) == .notionalOutOfRange)
        #expect(filters.minimumCheck(quantity: dec("0.0025"), price: dec("0.04")) == .passes)
        #expect(filters.refusal(quantity: 0, price: 1)?.contains("is not positive after rounding down to the step 0.0001") == true)

        var limited = filters
        limited.maxQty = dec("2.00005")
        limited.maxNotional = dec("0.05")
        #expect(limited.capped(dec("0.5"), price: dec("0.04")) == dec("0.5"))
        #expect(limited.capped(dec("3"), price: dec("0.001")) == 2)             // maxQty, down to the step
        #expect(limited.capped(dec("3"), price: dec("0.04")) == dec("1.25"))    // 0.05 / 0.04
        #expect(limited.capped(dec("3"), price: dec("0.03")) == dec("1.6666"))  // 0.05 / 0.03, down to the step
        // A cut that would leave less than the smallest order leaves that instead (minNotional 0.0001 is 0.0025 at 0.04
        // and 0.1 at 0.001: 2.001 cut to 2 would leave 0.001).
        #expect(limited.smallestOrder(price: dec("0.04")) == dec("0.0025"))
        #expect(limited.capped(dec("2.001"), price: dec("0.001")) == dec("1.901"))
        #expect(limited.capped(dec("2.15"), price: dec("0.001")) == 2)
    }
}
