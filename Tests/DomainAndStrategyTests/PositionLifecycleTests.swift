import Foundation
import Testing
import TestSupport
import TradingDomain

@Suite("Position lifecycle")
struct PositionLifecycleTests {
    static let events: [LifecycleEvent] = [.startMonitoring, .beginAdjustment, .finishAdjustment, .beginExit(.stopLoss), .exitFilled,
                                                   .entryFailed, .lateFill]

    /// The complete table of allowed transitions; everything else must be rejected.
    static let allowed: [PositionState: [String: PositionState]] = [
        .open: ["startMonitoring": .monitoring, "beginExit": .closing, "entryFailed": .closed],
        .monitoring: ["beginAdjustment": .adjusting, "beginExit": .closing],
        .adjusting: ["finishAdjustment": .monitoring, "beginExit": .closing],
        .closing: ["exitFilled": .closed],
        .closed: ["lateFill": .closing],
    ]

    static func name(_ e: LifecycleEvent) -> String {
        switch e {
        case .startMonitoring: return "startMonitoring"
        case .beginAdjustment: return "beginAdjustment"
        case .finishAdjustment: return "finishAdjustment"
        case .beginExit: return "beginExit"
        case .exitFilled: return "exitFilled"
        case .entryFailed: return "entryFailed"
        case .lateFill: return "lateFill"
        }
    }

    @Test("every allowed and forbidden transition", arguments: PositionState.allCases)
    func transitions(from state: PositionState) {
        for event in Self.events {
            let expected = Self.allowed[state]?[Self.name(event)]
            let result = try? PositionLifecycle.next(from: state, on: event, adjustments: 0, maxAdjustments: 3)
            #expect(result == expected, "\(state) on \(event)")
        }
    }

    @Test func adjustmentsAreBoundedByMax() throws {
        #expect(try PositionLifecycle.next(from: .monitoring, on: .beginAdjustment, adjustments: 2, maxAdjustments: 3) == .adjusting)
        #expect(throws: IllegalTransition.self) {
            try PositionLifecycle.next(from: .monitoring, on: .beginAdjustment, adjustments: 3, maxAdjustments: 3)
        }
        #expect(throws: IllegalTransition.self) {
            try PositionLifecycle.next(from: .monitoring, on: .beginAdjustment, adjustments: 0, maxAdjustments: 0)
        }
    }

    /// A failed entry (rejected, expired or cancelled without a fill) is a transition of the table: OPEN → CLOSED, and
    /// only from OPEN (a position that held something leaves through an exit).
    @Test func entryFailureIsInTheTable() throws {
        #expect(try PositionLifecycle.next(from: .open, on: .entryFailed, adjustments: 0, maxAdjustments: 3) == .closed)
        for state in PositionState.allCases where state != .open {
            #expect(throws: IllegalTransition.self) { try PositionLifecycle.next(from: state, on: .entryFailed, adjustments: 0, maxAdjustments: 3) }
        }
    }

    @Test func closedIsFinalButForALateFill() {
        for event in Self.events where event != .lateFill {
            #expect(throws: IllegalTransition.self) { try PositionLifecycle.next(from: .closed, on: event, adjustments: 0, maxAdjustments: 3) }
        }
    }
}

@Suite("Money and orders")
struct MoneyTests {
    @Test func doublesBecomeTheirShortestRepresentation() throws {
        #expect(try Price(double: 100.1) == Price("100.1"))
        #expect(throws: FixedPointError.notFinite) { try Price(double: .nan) }
        #expect(throws: FixedPointError.notFinite) { try Price(double: .infinity) }
    }

    @Test func roundingToSteps() throws {
        #expect(try Quantity("1.23456")!.rounded(toMultipleOf: Quantity("0.001")!, .down) == Quantity("1.234"))
        #expect(try Price("10.26")!.rounded(toMultipleOf: Price("0.05")!, .halfAwayFromZero) == Price("10.25"))
        #expect(try Quantity(5).rounded(toMultipleOf: 0, .down) == 5)
    }

    @Test func parseRejectsGarbage() {
        #expect(Money("12.5") == Money(raw: 1_250_000_000))
        #expect(Money("abc") == nil)
        #expect(Money("") == nil)
    }

    @Test func clientOrderIDsAreDeterministicAndValid() {
        let a = ClientOrderID.make(positionID: 123_456_789, purpose: .partialTakeProfit, leg: 3, attempt: 12)
        #expect(a == ClientOrderID.make(positionID: 123_456_789, purpose: .partialTakeProfit, leg: 3, attempt: 12))
        #expect(a != ClientOrderID.make(positionID: 123_456_789, purpose: .partialTakeProfit, leg: 3, attempt: 13))
        #expect(ClientOrderID.isValid(a.rawValue))
        #expect(!ClientOrderID.isValid("has space"))
        #expect(!ClientOrderID.isValid(String(repeating: "a", count: 37)))
    }

    /// The ids are written byte by byte: the text a string interpolation of the parts gives, and `parse` reads them back,
    /// for edge numbers (zero, single digits, powers of ten, the largest and negative values) and seeded random ones.
    @Test func clientOrderIDsAreTheInterpolatedText() {
        var g = SeededGenerator(seed: 11)
        var cases: [(Int64, Int, Int)] = []
        for n: Int64 in [0, 1, 9, 10, 99, 100, 1_000_000, Int64.max, -1, -10, Int64.min + 1] {
            cases.append((n, Int(n % 1000), Int(n % 100)))
        }
        for _ in 0..<2_000 {
            cases.append((Int64.random(in: 0...Int64.max >> Int.random(in: 0...62, using: &g), using: &g), Int.random(in: 0...20, using: &g), Int.random(in: 0...999, using: &g)))
        }
        for (position, leg, attempt) in cases {
            for purpose in OrderPurpose.allCases {
                let id = ClientOrderID.make(positionID: position, purpose: purpose, leg: leg, attempt: attempt)
                #expect(id.rawValue == "tj-\(position)-\(purpose.tag)\(leg)-a\(attempt)")
                if position >= 0, leg >= 0, attempt >= 0 {
                    let parts = ClientOrderID.parse(id)
                    #expect(parts?.positionID == position && parts?.purpose == purpose && parts?.leg == leg && parts?.attempt == attempt)
                }
            }
        }
    }

    /// A buy whose fee is taken in the base asset (Binance without BNB): the fee is in the P&L once, through the
    /// cost spread over the coins received, and counted in the fees.
    @Test func aFeeInTheBaseAssetIsChargedOnce() throws {
        var p = Position(id: 1, symbol: "BTCUSDT", state: .open, quantity: 0, entryPrice: 0, initialEntryPrice: 0, cost: 0, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        try p.applyBuy(Fill(clientOrderID: "a", tradeID: "1", symbol: "BTCUSDT", side: .buy, quantity: 1, price: 100, fee: try Money(parsing: "0.001", rounding: .halfEven),
                            feeAsset: "BTC", time: 0), quoteAsset: "USDT")
        #expect(p.quantity == (try Quantity(parsing: "0.999", rounding: .halfEven)) && p.cost == 100)
        #expect(try p.totalPnL(at: 100) == (try Money(parsing: "-0.1", rounding: .halfEven)), "worth 99.9 for 100 paid")
        try p.applySell(Fill(clientOrderID: "b", tradeID: "2", symbol: "BTCUSDT", side: .sell, quantity: try Quantity(parsing: "0.999", rounding: .halfEven),
                             price: 100, fee: try Money(parsing: "0.0999", rounding: .halfEven), feeAsset: "USDT", time: 1), quoteAsset: "USDT")
        // 100 paid, 99.9 − 0.0999 received.
        #expect(p.quantity == 0)
        #expect(p.realizedPnL == (try Money(parsing: "-0.1999", rounding: .halfEven)), "\(p.realizedPnL)")
        #expect(p.fees == (try Money(parsing: "0.1999", rounding: .halfEven)))
    }

    @Test func positionAccountingNetsEveryFee() throws {
        var p = Position(id: 1, symbol: "BTCUSDT", state: .open, quantity: 0, entryPrice: 0, initialEntryPrice: 0, cost: 0, stopPrice: nil,
                         takeProfitPrice: nil, highestPrice: nil, atrAtEntry: 1, adjustments: 0, partialTakeProfitDone: false, openedAt: 0, lastCheckedCandle: 0)
        try p.applyBuy(Fill(clientOrderID: "a", tradeID: "1", symbol: "BTCUSDT", side: .buy, quantity: 2, price: 100, fee: 1, feeAsset: "USDT", time: 0), quoteAsset: "USDT")
        try p.applyBuy(Fill(clientOrderID: "b", tradeID: "2", symbol: "BTCUSDT", side: .buy, quantity: 2, price: 110, fee: 1, feeAsset: "USDT", time: 0), quoteAsset: "USDT")
        #expect(p.quantity == 4)
        #expect(p.entryPrice == 105)
        try p.applySell(Fill(clientOrderID: "c", tradeID: "3", symbol: "BTCUSDT", side: .sell, quantity: 4, price: 120, fee: 2, feeAsset: "USDT", time: 0), quoteAsset: "USDT")
        #expect(p.quantity == 0)
        #expect(p.realizedPnL == 56, "\(p.realizedPnL)")
        #expect(p.fees == 4)
    }
}
