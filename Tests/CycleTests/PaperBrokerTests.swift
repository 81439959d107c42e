import Foundation
import Testing
import Brokers
import Storage
import Strategy
import TestSupport
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

    /// A buy the sizing bounds by the cash is one the paper broker pays for: the sizing reserves its costs as the broker
    /// charges them (the fee on the notional after slippage), over seeded cash, prices, fees and slippages.
    @Test func aBuySizedByTheCashIsNeverRefusedForWantOfIt() async throws {
        var g = SeededGenerator(seed: 23)
        var sized = 0
        for k in 0..<1_500 {
            let cash = try Money(double: Double.random(in: 20...1_000_000, using: &g)).rounded(decimals: Int.random(in: 0...8, using: &g), .down)
            let price = try Price(double: Double.random(in: 0.001...100_000, using: &g)).rounded(decimals: Int.random(in: 2...8, using: &g), .down)
            let fee = try Fixed(double: Double.random(in: 0...0.01, using: &g)).rounded(decimals: 6, .down)
            let bps = try Fixed(double: Double.random(in: 0...100, using: &g)).rounded(decimals: 2, .down)
            let limits = RiskLimits(riskPerTrade: 1, maxPositionFraction: 1, maxTotalExposure: 1, maxOpenPositions: 10, minOrderNotional: 1, stopLossATR: 1,
                                    costRate: RiskLimits.costRate(feeRate: fee, slippageBasisPoints: bps))
            let account = AccountState(equity: cash, cash: cash, exposure: 0, openPositions: 0)
            guard case let .order(quantity, _, boundBy) = PositionSizer.entry(price: price, atr: price.double / 1_000, account: account, limits: limits),
                  boundBy == "cash" else { continue }
            sized += 1
            let b = PaperBroker(store: MemoryStateStore(), settings: PaperSettings(startingCash: cash, quoteAsset: "USDT", feeRate: fee, slippageBasisPoints: bps))
            try b.ensureFunded()
            let outcome = try await b.submit(OrderRequest(clientOrderID: ClientOrderID(rawValue: "c\(k)"), symbol: "BTCUSDT", side: .buy, quantity: quantity, referencePrice: price), now: 5)
            guard case let .answered(report) = outcome else { Issue.record("case \(k): no answer"); continue }
            #expect(report.status == .filled, "case \(k): cash \(cash), price \(price), fee \(fee), \(bps) bps, quantity \(quantity): \(report.reason ?? "")")
        }
        #expect(sized > 1_000, "cases bound by the cash: \(sized)")
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
