import Foundation
import GRDB
import Logging
import Testing
import Brokers
@testable import Cycle
import MarketData
import Settings
@testable import Storage
import Strategy
import TradingDomain

/// The venue circuit breaker's openings count toward the error-rate protection once, at a check that judges them.
@Suite struct ProtectionFactsTests {
    @Test func breakerOpeningsAreMarkedCountedOnlyByAJudgedCheck() async throws {
        let database = try StateDatabase(inMemory: ())
        let config = try ConfigLoader.resolve(data: Data("{}".utf8), file: "test", environment: [:])
        let store = database.store
        let cycle = TradingCycle(parameters: try CycleParameters(config: config), configHash: "test", store: store, market: SimulatedMarket(),
                                 broker: PaperBroker(store: store, settings: PaperSettings()), analyzer: WindowAnalyzer(),
                                 safeModeLocks: SafeModeLockInMemory(), nextRunFile: nil, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        // Two openings of the venue's breaker, say during the last run's orders, after its last judged check.
        try await database.writer.write { db in try VenueStates.update(db, venue: "binance") { $0.breakerOpenings = 2 } }
        let now: Int64 = 1_709_251_215_000
        // The run's report reads the facts without judging them: the openings stay to be counted.
        #expect(try await cycle.protectionFacts(now: now, equity: 10_000, judged: false).consecutiveFailures == 2)
        #expect(try await cycle.protectionFacts(now: now, equity: 10_000).consecutiveFailures == 2, "counted by the next judged check")
        #expect(try await cycle.protectionFacts(now: now, equity: 10_000).consecutiveFailures == 0, "and only once")
    }
}
