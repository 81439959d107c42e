import Testing
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Crypto
import HTTPTransport
import TestSupport

/// Checks that the Binance fake itself behaves like Binance's documented Spot API.
@Suite struct FakeBinanceSelfTests {
    static let apiKey = "test-key"
    static let secret = "test-secret"
    static let t0: Int64 = 1_700_000_040_000 - 1_700_000_040_000 % 60_000

    static func makeFake(price: Decimal = 100) -> FakeBinance {
        let market = FakeBinance.Market(symbol: "BTCUSDT", baseAsset: "BTC", quoteAsset: "USDT", tickSize: Decimal(string: "0.01")!,
                                        stepSize: Decimal(string: "0.001")!, minQty: Decimal(string: "0.001")!, minNotional: 5)
        let klines = (0..<5).map { i in
            FakeBinance.Kline(openTimeMs: t0 + Int64(i) * 60_000, open: price, high: price + 1, low: price - 1,
                              close: price + Decimal(i), volume: 10, intervalMs: 60_000)
        }
        let fake = FakeBinance(apiKey: apiKey, secret: secret, symbols: [market], balances: ["USDT": 1000, "BTC": 0],
                               candles: ["BTCUSDT": klines], serverTimeMs: t0 + 3 * 60_000 + 30_000)
        fake.setPrice(symbol: "BTCUSDT", price: price)
        return fake
    }

    struct Answer {
        var status: Int
        var json: Any?
        var code: Int? { (json as? [String: Any])?["code"] as? Int }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [Any] { json as? [Any] ?? [] }
    }

    static func send(_ fake: FakeBinance, _ method: String, _ path: String, query: String = "", body: String? = nil,
                     apiKey: String? = FakeBinanceSelfTests.apiKey) async throws -> Answer {
        var components = URLComponents(url: fake.baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        components.percentEncodedQuery = query.isEmpty ? nil : query
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        if let apiKey { request.setValue(apiKey, forHTTPHeaderField: "X-MBX-APIKEY") }
        if let body {
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return Answer(status: status, json: try? JSONSerialization.jsonObject(with: data))
    }

    /// Sends a signed request with all parameters in the query string.
    static func signed(_ fake: FakeBinance, _ method: String, _ path: String, _ params: String) async throws -> Answer {
        let payload = (params.isEmpty ? "" : params + "&") + "timestamp=\(fake.serverTimeMs)"
        return try await send(fake, method, path, query: payload + "&signature=" + fake.sign(payload))
    }

    @Test func signatureMatchesBinanceDocumentationExample() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        #expect(FakeBinance.sign(payload, secret: secret) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71")
    }

    @Test func signedRequestsAreVerified() async throws {
        let fake = Self.makeFake()
        defer { fake.stop() }

        let good = try await Self.signed(fake, "GET", "/api/v3/account", "recvWindow=5000")
        #expect(good.status == 200)
        #expect((good.object["balances"] as? [Any])?.isEmpty == false)

        let payload = "timestamp=\(fake.serverTimeMs)"
        let badSignature = String(repeating: "0", count: 64)
        let bad = try await Self.send(fake, "GET", "/api/v3/account", query: payload + "&signature=" + badSignature)
        #expect(bad.status == 400)
        #expect(bad.code == -1022)

        // Query + body, signed over their concatenation without a separator (Binance's mixed example).
        let query = "symbol=BTCUSDT&side=BUY&type=MARKET"
        let body = "quantity=0.100&timestamp=\(fake.serverTimeMs)"
        let mixed = try await Self.send(fake, "POST", "/api/v3/order", query: query,
                                        body: body + "&signature=" + fake.sign(query + body))
        #expect(mixed.status == 200)
        #expect(mixed.object["status"] as? String == "FILLED")

        let stale = "timestamp=\(fake.serverTimeMs - 6_000)"
        let late = try await Self.send(fake, "GET", "/api/v3/account", query: stale + "&signature=" + fake.sign(stale))
        #expect(late.code == -1021)

        let wrongKey = try await Self.send(fake, "GET", "/api/v3/account", query: payload + "&signature=" + fake.sign(payload),
                                           apiKey: "other")
        #expect(wrongKey.status == 401)
        #expect(wrongKey.code == -2015)
        #expect(fake.signedRequestCount == 5)
    }

    @Test func duplicateOpenClientOrderIdIsRejectedUntilTheOrderCloses() async throws {
        let fake = Self.makeFake(price: 100)
        defer { fake.stop() }
        let order = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.100&price=90.00&newClientOrderId=bot-1"

        let first = try await Self.signed(fake, "POST", "/api/v3/order", order)
        #expect(first.status == 200)
        #expect(first.object["status"] as? String == "NEW")
        #expect(fake.balance("USDT").locked == 9)

        let duplicate = try await Self.signed(fake, "POST", "/api/v3/order", order)
        #expect(duplicate.status == 400)
        #expect(duplicate.code == -2010)

        fake.setPrice(symbol: "BTCUSDT", price: 89)
        #expect(fake.fillOpenOrders() == 1)
        #expect(fake.balance("USDT").locked == 0)

        let again = try await Self.signed(fake, "POST", "/api/v3/order", order)
        #expect(again.status == 200)
        #expect(again.object["status"] as? String == "FILLED")
        #expect(fake.orders.filter { $0.clientOrderId == "bot-1" }.count == 2)

        let lookedUp = try await Self.signed(fake, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=bot-1")
        #expect(lookedUp.object["orderId"] as? Int == Int(fake.orders[1].orderId))
    }

    @Test func marketBuyMovesBalancesAndShowsInMyTrades() async throws {
        let fake = Self.makeFake(price: 100)
        defer { fake.stop() }

        let buy = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.500")
        #expect(buy.status == 200)
        #expect(buy.object["executedQty"] as? String == "0.50000000")
        #expect(buy.object["cummulativeQuoteQty"] as? String == "50.00000000")
        let fills = buy.object["fills"] as? [[String: Any]] ?? []
        #expect(fills.count == 1)
        #expect(fills.first?["commissionAsset"] as? String == "BTC")

        #expect(fake.balance("USDT").free == 950)
        #expect(fake.balance("BTC").free == Decimal(string: "0.4995"))

        let trades = try await Self.signed(fake, "GET", "/api/v3/myTrades", "symbol=BTCUSDT")
        let rows = trades.array.compactMap { $0 as? [String: Any] }
        #expect(rows.count == 1)
        #expect(rows.first?["qty"] as? String == "0.50000000")
        #expect(rows.first?["price"] as? String == "100.00000000")
        #expect(rows.first?["commission"] as? String == "0.00050000")
        #expect(rows.first?["isBuyer"] as? Bool == true)

        let missingSymbol = try await Self.signed(fake, "GET", "/api/v3/myTrades", "")
        #expect(missingSymbol.code == -1102)
    }

    @Test func klinesFilterByStartTimeAndServerTime() async throws {
        let fake = Self.makeFake()
        defer { fake.stop() }

        // Server time is inside the fourth kline: the fifth has not opened yet, the fourth is still open.
        let answer = try await Self.send(fake, "GET", "/api/v3/klines",
                                         query: "symbol=BTCUSDT&interval=1m&startTime=\(Self.t0 + 60_000)")
        let rows = answer.array.compactMap { $0 as? [Any] }
        #expect(rows.map { ($0.first as? NSNumber)?.int64Value } == [Self.t0 + 60_000, Self.t0 + 120_000, Self.t0 + 180_000])
        #expect(rows.first?.count == 12)
        #expect(rows.first?[4] as? String == "101.00000000")
        #expect((rows.first?[6] as? NSNumber)?.int64Value == Self.t0 + 120_000 - 1)

        let limited = try await Self.send(fake, "GET", "/api/v3/klines", query: "symbol=BTCUSDT&interval=1m&limit=2")
        #expect(limited.array.compactMap { ($0 as? [Any])?.first as? NSNumber }.map(\.int64Value)
                == [Self.t0 + 120_000, Self.t0 + 180_000])

        let unknown = try await Self.send(fake, "GET", "/api/v3/klines", query: "symbol=NOPE&interval=1m")
        #expect(unknown.status == 400)
        #expect(unknown.code == -1121)
    }

    // MARK: Connections and the faults of issue #15

    /// A signed request sent through the project's transport (an order gets a connection of its own there).
    static func transport(_ fake: FakeBinance, _ method: String, _ path: String, _ params: String) async throws -> HTTPResponse {
        let payload = (params.isEmpty ? "" : params + "&") + "timestamp=\(fake.serverTimeMs)"
        var components = URLComponents(url: fake.baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        components.percentEncodedQuery = payload + "&signature=" + fake.sign(payload)
        let request = HTTPRequest(method: method, url: components.url!, headers: ["X-MBX-APIKEY": Self.apiKey], timeout: 5)
        return try await URLSessionHTTPClient(defaultTimeout: 5).send(request)
    }

    @Test func connectionsAreKeptAliveUnlessTheClientAsksToClose() async throws {
        let fake = Self.makeFake()
        defer { fake.stop() }
        let client = URLSessionHTTPClient(defaultTimeout: 5)
        for _ in 0..<3 {
            let answer = try await client.send(HTTPRequest(url: fake.baseURL.appendingPathComponent("/api/v3/time"), timeout: 5))
            #expect(answer.status == 200)
            #expect(answer.header("connection") == nil, "a read's connection is kept alive")
        }
        // How many connections libcurl used for the reads depends on when it got each one back; the order's does not.
        let beforeOrder = fake.acceptedConnections
        #expect((1...3).contains(beforeOrder))
        let order = try await Self.transport(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.100")
        #expect(order.status == 200)
        #expect(order.header("connection")?.lowercased() == "close", "an order asking to close gets close back")
        #expect(fake.acceptedConnections == beforeOrder + 1, "the order came on a connection of its own")
    }

    @Test func dropAfterBookingPlacesTheOrderAndAnswersNothing() async throws {
        let fake = Self.makeFake(price: 100)
        defer { fake.stop() }
        fake.inject(.dropAfterBooking, on: "/api/v3/order", method: "POST")
        var lost: HTTPTransportError?
        do {
            _ = try await Self.transport(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.100&newClientOrderId=drop-1")
        } catch let error as HTTPTransportError {
            lost = error
        }
        #expect(lost?.outcomeUnknown == true, "\(String(describing: lost))")
        #expect(fake.orders.map(\.clientOrderId) == ["drop-1"], "booked once")
        #expect(fake.orders.first?.status == "FILLED")
        #expect(fake.balance("USDT").free == 990)
        let looked = try await Self.transport(fake, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=drop-1")
        #expect(looked.status == 200, "the booking can be looked up")
    }

    @Test func workingMarketOrdersLockFundsAndSettleLater() async throws {
        let fake = Self.makeFake(price: 100)
        defer { fake.stop() }
        fake.setBalance("BTC", free: 1)
        for _ in 0..<3 { fake.inject(.acceptAsWorking, on: "/api/v3/order", method: "POST") }
        let buy = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1.000&newClientOrderId=w-fill")
        let half = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quoteOrderQty=200&newClientOrderId=w-part")
        let sell = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.500&newClientOrderId=w-exp")
        #expect([buy, half, sell].map { $0.object["status"] as? String } == ["NEW", "NEW", "NEW"])
        #expect([buy, half, sell].map { ($0.object["fills"] as? [Any])?.count } == [0, 0, 0])
        #expect(fake.balance("USDT").free == 700)
        #expect(fake.balance("USDT").locked == 300)
        #expect(fake.balance("BTC").free == Decimal(string: "0.5")!)
        #expect(fake.balance("BTC").locked == Decimal(string: "0.5")!)
        let open = try await Self.signed(fake, "GET", "/api/v3/openOrders", "symbol=BTCUSDT")
        #expect(open.array.count == 3, "working orders are open")
        #expect(fake.fillOpenOrders() == 0, "resting-order matching leaves working MARKET orders alone")

        fake.setPrice(symbol: "BTCUSDT", price: 110)
        let settled = fake.settleWorkingOrders { order in
            switch order.clientOrderId {
            case "w-fill": return .fill
            case "w-part": return .partial(fraction: Decimal(string: "0.5")!)
            default: return .expire
            }
        }
        #expect(settled == 3)
        #expect(fake.workingOrders.isEmpty)
        let byId = Dictionary(uniqueKeysWithValues: fake.orders.map { ($0.clientOrderId, $0) })
        #expect(byId["w-fill"]?.status == "FILLED")
        #expect(byId["w-fill"]?.executedQty == 1)
        #expect(byId["w-part"]?.status == "EXPIRED", "a MARKET order's unfilled rest expires")
        #expect(byId["w-part"]?.executedQty == 1, "half of the 2 units 200 USDT bought at 100")
        #expect(byId["w-exp"]?.status == "EXPIRED")
        #expect(byId["w-exp"]?.executedQty == 0)
        #expect(fake.trades.count == 2)
        #expect(fake.balance("USDT").free == 780, "1000 - 110 - 110, nothing locked")
        #expect(fake.balance("USDT").locked == 0)
        #expect(fake.balance("BTC").free == Decimal(string: "2.998")!, "1 + 2 bought - 0.1% commission")
        #expect(fake.balance("BTC").locked == 0)
        let query = try await Self.signed(fake, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=w-part")
        #expect(query.object["status"] as? String == "EXPIRED")
        #expect(query.object["executedQty"] as? String == "1.00000000")
    }

    @Test func changedFiltersAreReportedAndEnforced() async throws {
        let fake = Self.makeFake(price: 100)
        defer { fake.stop() }
        let before = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.105")
        #expect(before.object["status"] as? String == "FILLED")
        fake.setFilters(symbol: "BTCUSDT", stepSize: Decimal(string: "0.01")!, minQty: Decimal(string: "0.01")!, minNotional: 10)
        let info = try await Self.send(fake, "GET", "/api/v3/exchangeInfo", query: "symbol=BTCUSDT")
        let filters = ((info.object["symbols"] as? [[String: Any]])?.first?["filters"] as? [[String: Any]]) ?? []
        let lot = filters.first { $0["filterType"] as? String == "LOT_SIZE" }
        #expect(lot?["stepSize"] as? String == "0.01000000")
        #expect(lot?["minQty"] as? String == "0.01000000")
        let rejected = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.105")
        #expect(rejected.status == 400)
        #expect(rejected.code == -1013)
        #expect((rejected.object["msg"] as? String) == "Filter failure: LOT_SIZE")
        let tooSmall = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.09")
        #expect((tooSmall.object["msg"] as? String) == "Filter failure: NOTIONAL")
        let fine = try await Self.signed(fake, "POST", "/api/v3/order", "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.11")
        #expect(fine.object["status"] as? String == "FILLED")
    }
}
