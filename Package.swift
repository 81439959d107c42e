// swift-tools-version:6.0
import PackageDescription

// Module map (one concern per module; pure logic apart from I/O):
//   TradingDomain      pure domain types: candles, orders, fills, positions and their lifecycle
//   TechnicalAnalysis  pure indicators, candlestick patterns and chart structure (TA-Lib exact)
//   Strategy           pure decisions: signal scoring, sizing, limits, exits, protections, next-run interval
//   Settings           the JSON configuration: model, defaults, validation, env overrides, template
//   Storage            the SQLite state through GRDB: migrations, repositories, transactions; the Ledger and StateRecords
//                      interfaces every backend implements; the only module that talks to SQLite or imports GRDB
//   PostgresStorage    the same state on PostgreSQL (PostgresNIO): a schema per account, the advisory run lock, the safe-mode row;
//                      the only module that talks PostgreSQL
//   HTTPTransport      the one HTTP client (URLSession) with deadlines
//   MarketData         candle sources: simulated market, CSV replay, Binance klines
//   Binance            Binance Spot REST: signing, weights, bans, exchange filters
//   Brokers            order execution: paper broker, Binance broker
//   LLM                OpenAI-compatible model opinions, budgets, breaker, cache, audit
//   Operations         metrics, notifications, reports, logging formats
//   Cycle              one orchestration cycle wiring all of the above
//   Backtest           the same cycle driven over history with a simulated clock; look-ahead and recursive checks
//   Optimize           parameter search over backtests: samplers, objectives, walk-forward, the optimisation page
//   TradejobCLI        the command-line commands; `tradejob` is a thin main over it
let package = Package(
    name: "tradejob",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tradejob", targets: ["tradejob"]),
        .executable(name: "tradejob-bench", targets: ["tradejob-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .target(name: "TradingDomain"),
        .target(name: "TechnicalAnalysis", dependencies: ["TradingDomain"]),
        .target(name: "Strategy", dependencies: ["TradingDomain", "TechnicalAnalysis"]),
        .target(name: "Settings", dependencies: ["TradingDomain"]),
        .target(name: "Storage", dependencies: [
            "TradingDomain", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "PostgresStorage", dependencies: [
            "TradingDomain", "Storage", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"), "Settings",
        ]),
        .target(name: "HTTPTransport"),
        .target(name: "MarketData", dependencies: ["TradingDomain", "TechnicalAnalysis", "Binance"]),
        .target(name: "Binance", dependencies: [
            "TradingDomain", "HTTPTransport", "Storage", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Brokers", dependencies: ["TradingDomain", "Storage", "Binance"]),
        .target(name: "LLM", dependencies: [
            "TradingDomain", "Storage", "HTTPTransport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Operations", dependencies: [
            "TradingDomain", "Storage", "HTTPTransport", .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Cycle", dependencies: [
            "TradingDomain", "Strategy", "Settings", "Storage", "MarketData", "Brokers",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Backtest", dependencies: [
            "TradingDomain", "TechnicalAnalysis", "Strategy", "Storage", "MarketData", "Brokers", "Cycle",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Optimize", dependencies: [
            "TradingDomain", "Settings", "Strategy", "Storage", "Brokers", "Cycle", "Backtest", "Operations",
        ]),
        .target(name: "TradejobCLI", dependencies: [
            "TradingDomain", "TechnicalAnalysis", "Strategy", "Settings", "Storage", "MarketData", "Brokers",
            "LLM", "Operations", "Cycle", "Backtest", "Optimize", "HTTPTransport", "Binance", "PostgresStorage",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "tradejob", dependencies: ["TradejobCLI"]),
        .executableTarget(name: "tradejob-bench", dependencies: ["TechnicalAnalysis", "TradingDomain", "Strategy"]),

        .target(name: "TestSupport", dependencies: [.product(name: "Crypto", package: "swift-crypto")], path: "Tests/TestSupport"),
        .testTarget(name: "TechnicalAnalysisTests", dependencies: ["TechnicalAnalysis", "TradingDomain", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DomainAndStrategyTests", dependencies: ["TradingDomain", "Strategy", "TechnicalAnalysis", "TestSupport"]),
        .testTarget(name: "SettingsTests", dependencies: ["Settings", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TradingDomain", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")], exclude: ["Fixtures"]),
        .testTarget(name: "VenueTests", dependencies: [
            "MarketData", "Brokers", "Binance", "HTTPTransport", "Storage", "TradingDomain", "TestSupport",
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "LLMTests", dependencies: ["LLM", "TradingDomain"]),
        .testTarget(name: "OperationsTests", dependencies: ["Operations", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "CycleTests", dependencies: [
            "Cycle", "Storage", "Brokers", "MarketData", "Settings", "Strategy", "TradingDomain", "TestSupport",
            .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "BacktestTests", dependencies: ["Backtest", "Cycle", "Brokers", "MarketData", "Settings", "Storage", "Strategy", "TechnicalAnalysis", "TradingDomain", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")], exclude: ["Fixtures"]),
        .testTarget(name: "OptimizeTests", dependencies: ["Optimize", "Backtest", "Brokers", "Cycle", "MarketData", "Settings", "Storage", "Strategy", "TradingDomain", "TestSupport"]),
        .testTarget(name: "PostgresStorageTests", dependencies: ["PostgresStorage", "Storage", "TradingDomain", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Operations", "TradejobCLI", "TestSupport", "PostgresStorage", "Settings", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
