import Foundation
import Testing
import Brokers
import Storage
import TradingDomain

@Suite("Paper broker")
struct PaperBrokerTests {
    func broker(cash: Money = 1000) throws -> (PaperBroker, StateDatabase) {
        let db = try StateDatabase(inMemory: ())
        let b = PaperBroker(database: db, settings: PaperSettings(startingCash: cash, quoteAsset: "USDT", feeRate: Fixed("0.001")!, slippageBasisPoints: 10))
        try b.ensureFunded()
        return (b, db)
    }

    @Test func buyFillsWithSlippageAndFee() async throws {
        let (b, _) = try broker()
        let outcome = try await b.submit(OrderRequest(clientOrderID: "c1", symbol: "BTCUSDT", side: .buy, quantity: 2, referencePrice: 100), now: 5)
        guard case let .answered(report) = outcome else { Issue.record("no answer"); return }
        #expect(report.status == .filled)
        #expect(report.fills.first?.price == Price("100.1"))
        #expect(report.fills.first?.fee == Money("0.2002"))
        let balances = try await b.balances()
        #expect(balances.free["USDT"] == Money("799.5998"))
        #expect(balances.free["BTC"] == 2)
    }

    @Test func cashNeverGoesNegative() async throws {
        let (b, _) = try broker(cash: 100)
        let outcome = try await b.submit(OrderRequest(clientOrderID: "c1", symbol: "BTCUSDT", side: .buy, quantity: 1, referencePrice: 100), now: 5)
        guard case let .answered(report) = outcome else { Issue.record("no answer"); return }
        #expect(report.status == .rejected)
        #expect(report.reason?.contains("insufficient balance") == true)
        #expect(try await b.balances().free["USDT"] == 100)
    }

    @Test func sameClientOrderIDIsNotFilledTwice() async throws {
        let (b, _) = try broker()
        let order = OrderRequest(clientOrderID: "c1", symbol: "BTCUSDT", side: .buy, quantity: 1, referencePrice: 100)
        _ = try await b.submit(order, now: 5)
        _ = try await b.submit(order, now: 6)
        #expect(try await b.balances().free["BTC"] == 1)
        guard case let .found(report) = try await b.query(clientOrderID: "c1", symbol: "BTCUSDT") else { Issue.record("not found"); return }
        #expect(report.fills.count == 1)
        #expect(try await b.query(clientOrderID: "nope", symbol: "BTCUSDT") == .notFound)
    }

    @Test func sellingMoreThanHeldIsRejected() async throws {
        let (b, _) = try broker()
        let outcome = try await b.submit(OrderRequest(clientOrderID: "s1", symbol: "ETHUSDT", side: .sell, quantity: 1, referencePrice: 100), now: 5)
        guard case let .answered(report) = outcome else { Issue.record("no answer"); return }
        #expect(report.status == .rejected)
    }
}
