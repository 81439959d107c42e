import Foundation
import Storage
import TradingDomain

/// The exchange filters of one symbol that matter for a market order: PRICE_FILTER `tickSize`, LOT_SIZE
/// `stepSize`/`minQty`/`maxQty` (with MARKET_LOT_SIZE's `maxQty` where it is smaller), and the notional bounds
/// (NOTIONAL, or the older MIN_NOTIONAL; NOTIONAL's `maxNotional` only when `applyMaxToMarket`).
public struct SymbolFilters: Sendable, Equatable {
    public var symbol: Symbol
    public var baseAsset: String
    public var quoteAsset: String
    public var tickSize: Price
    public var stepSize: Quantity
    public var minQty: Quantity
    public var minNotional: Money
    /// The largest quantity of one market order (nil: no limit).
    public var maxQty: Quantity?
    /// The largest notional of one market order (nil: no limit).
    public var maxNotional: Money?

    public init(symbol: Symbol, baseAsset: String, quoteAsset: String, tickSize: Price, stepSize: Quantity, minQty: Quantity,
                minNotional: Money, maxQty: Quantity? = nil, maxNotional: Money? = nil) {
        self.symbol = symbol
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQty = minQty
        self.minNotional = minNotional
        self.maxQty = maxQty
        self.maxNotional = maxNotional
    }

    /// `quantity` rounded down to a multiple of `step` (a step of 0 leaves it; negative quantities give 0).
    public static func roundQuantityDown(_ quantity: Quantity, to step: Quantity) throws(FixedPointError) -> Quantity {
        guard quantity > 0 else { return 0 }
        return try quantity.rounded(toMultipleOf: step, .down)
    }

    /// `price` rounded to the nearest multiple of `tick`, ties away from zero (a tick of 0 leaves it).
    public static func roundPrice(_ price: Price, to tick: Price) throws(FixedPointError) -> Price {
        try price.rounded(toMultipleOf: tick, .halfAwayFromZero)
    }

    /// The quantity this symbol accepts: rounded down to the step.
    public func roundQuantityDown(_ quantity: Quantity) throws(FixedPointError) -> Quantity { try Self.roundQuantityDown(quantity, to: stepSize) }

    /// The price rounded to the tick.
    public func roundPrice(_ price: Price) throws(FixedPointError) -> Price { try Self.roundPrice(price, to: tickSize) }

    /// `quantity` (already on the step) cut to the largest market order the venue takes at about `price`: at most
    /// `maxQty`, and at most `maxNotional` worth, rounded down to the step. What is cut is bought or sold by a later
    /// order (an exit left with a remainder stays CLOSING and sells it in the next run), so the cut leaves at least the
    /// smallest order the venue takes (a remainder below it could never be sold).
    public func capped(_ quantity: Quantity, price: Price) -> Quantity {
        var q = quantity
        if let maxQty, maxQty > 0, q > maxQty { q = (try? roundQuantityDown(maxQty)) ?? maxQty }
        if let maxNotional, maxNotional > 0, price > 0, let affordable = try? maxNotional.divided(by: price, .down),
           affordable < q, let stepped = try? roundQuantityDown(affordable) {
            q = stepped
        }
        guard q < quantity, let smallest = smallestOrder(price: price), let rest = try? quantity - q, rest < smallest,
              let leaving = try? quantity - smallest, leaving >= smallest else { return q }
        return leaving
    }

    /// The smallest quantity the venue takes at about `price`: `minQty`, or `minNotional` worth rounded up to the step
    /// (nil when it is out of range).
    public func smallestOrder(price: Price) -> Quantity? {
        guard price > 0, let worth = try? minNotional.divided(by: price, .up) else { return nil }
        guard let stepped = try? worth.rounded(toMultipleOf: stepSize, .up) else { return nil }
        return max(minQty, stepped, stepSize)
    }

    /// How an order of `quantity` (already rounded) at about `price` fares against the venue's minimums.
    public enum MinimumCheck: Equatable, Sendable {
        case passes
        case notPositive
        case belowMinimumQuantity
        case belowMinimumNotional(Money)
        /// The notional cannot be computed: no minimum's doing.
        case notionalOutOfRange

        /// Smaller than the smallest order the venue takes (its minimum quantity or notional): no order of that
        /// quantity can be placed at that price. False when the notional is out of range (that is no minimum's doing).
        public var isBelowSmallestOrder: Bool {
            switch self {
            case .notPositive, .belowMinimumQuantity, .belowMinimumNotional: true
            case .passes, .notionalOutOfRange: false
            }
        }
    }

    /// The one comparison of `quantity` (already rounded) at about `price` with `minQty` and `minNotional`.
    public func minimumCheck(quantity: Quantity, price: Price) -> MinimumCheck {
        if quantity <= 0 { return .notPositive }
        if quantity < minQty { return .belowMinimumQuantity }
        guard let notional = try? price.times(quantity, .halfEven) else { return .notionalOutOfRange }
        return notional < minNotional ? .belowMinimumNotional(notional) : .passes
    }

    /// Why an order of `quantity` (already rounded) at about `price` would be refused by the venue's minimums,
    /// or nil when it passes.
    public func refusal(quantity: Quantity, price: Price) -> String? {
        refusal(minimumCheck(quantity: quantity, price: price), quantity: quantity, price: price)
    }

    /// The message for `check` of an order of `quantity` at about `price`; nil when it passes.
    public func refusal(_ check: MinimumCheck, quantity: Quantity, price: Price) -> String? {
        switch check {
        case .passes:
            nil
        case .notPositive:
            "quantity \(quantity) \(baseAsset) is not positive after rounding down to the step \(stepSize)"
        case .belowMinimumQuantity:
            "below the minimum quantity of \(symbol): \(quantity) < \(minQty) \(baseAsset)"
        case .notionalOutOfRange:
            "quantity \(quantity) × price \(price) is out of range"
        case let .belowMinimumNotional(notional):
            "below the minimum notional of \(symbol): \(quantity) × \(price) = \(notional) < \(minNotional) \(quoteAsset)"
        }
    }

    /// The filters of one exchangeInfo symbol entry; nil when LOT_SIZE or PRICE_FILTER is missing or unreadable.
    static func from(_ entry: BinanceExchangeInfo.Symbol) -> SymbolFilters? {
        func number<T: FixedPointValue>(_ type: String, _ field: KeyPath<BinanceExchangeInfo.Filter, String?>) -> T? {
            entry.filters.first { $0.filterType == type }.flatMap { $0[keyPath: field] }.flatMap { BinanceDecimal.parse($0) }
        }
        guard let tick: Price = number("PRICE_FILTER", \.tickSize), let step: Quantity = number("LOT_SIZE", \.stepSize),
              let minQty: Quantity = number("LOT_SIZE", \.minQty) else { return nil }
        let minNotional: Money = number("NOTIONAL", \.minNotional) ?? number("MIN_NOTIONAL", \.minNotional) ?? 0
        // A maximum of 0 (MARKET_LOT_SIZE lists zeros where it adds nothing) or one that cannot be read is no limit.
        let maxQty = [number("LOT_SIZE", \.maxQty), number("MARKET_LOT_SIZE", \.maxQty)].compactMap { (q: Quantity?) in q.flatMap { $0 > 0 ? $0 : nil } }.min()
        let notional = entry.filters.first { $0.filterType == "NOTIONAL" }
        let maxNotional: Money? = notional?.applyMaxToMarket == true ? notional?.maxNotional.flatMap { BinanceDecimal.parse($0) }.flatMap { $0 > 0 ? $0 : nil } : nil
        return SymbolFilters(symbol: entry.symbol, baseAsset: entry.baseAsset, quoteAsset: entry.quoteAsset, tickSize: tick,
                             stepSize: step, minQty: minQty, minNotional: minNotional, maxQty: maxQty, maxNotional: maxNotional)
    }
}

extension BinanceClient {
    /// The filters of `symbol`, from the database cache while younger than `exchange_info_ttl_seconds`, else from
    /// `GET /api/v3/exchangeInfo`.
    public func symbolFilters(_ symbol: Symbol) async throws -> SymbolFilters {
        guard let filters = try await symbolFilters([symbol])[symbol] else {
            throw BinanceError.malformed(endpoint: "GET /api/v3/exchangeInfo", detail: "no filters for \(symbol)")
        }
        return filters
    }

    /// Forgets the cached filters of `symbol`, so that the next order fetches them anew (after a -1013 filter failure:
    /// the venue's filters changed since they were cached).
    public func forgetSymbolFilters(_ symbol: Symbol) async throws {
        let venue = venue
        try await database.writeRecords { ledger in try ledger.removeVenueSymbolFilters(venue: venue, symbol: symbol) }
    }

    /// The filters of several symbols; those missing from the cache or stale are fetched in one
    /// `GET /api/v3/exchangeInfo?symbols=[…]` (weight 20), which also updates the REQUEST_WEIGHT limit.
    public func symbolFilters(_ symbols: [Symbol]) async throws -> [Symbol: SymbolFilters] {
        let venue = venue
        let now = clock()
        let ttl = Int64(max(settings.exchangeInfoTTLSeconds, 0)) * 1000
        let wanted = Array(Set(symbols)).sorted()
        var result: [Symbol: SymbolFilters] = try await database.readRecords { ledger in
            var fresh: [Symbol: SymbolFilters] = [:]
            for symbol in wanted {
                guard let row = try ledger.venueSymbolFilters(venue: venue, symbol: symbol),
                      row.fetchedAt <= now, now - row.fetchedAt < ttl else { continue }
                fresh[symbol] = SymbolFilters(symbol: row.symbol, baseAsset: row.baseAsset, quoteAsset: row.quoteAsset, tickSize: row.tickSize,
                                              stepSize: row.stepSize, minQty: row.minQty, minNotional: row.minNotional,
                                              maxQty: row.maxQty, maxNotional: row.maxNotional)
            }
            return fresh
        }
        let missing = wanted.filter { result[$0] == nil }
        guard !missing.isEmpty else { return result }

        let list = "[" + missing.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let request = BinanceRequest(path: "/api/v3/exchangeInfo", parameters: [("symbols", list)], weight: 20)
        let info: BinanceExchangeInfo = try decode(try await send(request), endpoint: request.endpoint)
        var fetched: [SymbolFilters] = []
        for symbol in missing {
            guard let entry = info.symbols.first(where: { $0.symbol == symbol }), let filters = SymbolFilters.from(entry) else {
                throw BinanceError.malformed(endpoint: request.endpoint, detail: "no usable PRICE_FILTER/LOT_SIZE for \(symbol)")
            }
            fetched.append(filters)
            result[symbol] = filters
        }
        let fetchedAt = clock()
        let weightLimit = info.requestWeightPerMinute
        let toStore = fetched
        try await database.writeRecords { ledger in
            for f in toStore {
                try ledger.saveVenueSymbolFilters(VenueSymbolFiltersRow(
                    venue: venue, symbol: f.symbol, baseAsset: f.baseAsset, quoteAsset: f.quoteAsset, tickSize: f.tickSize,
                    stepSize: f.stepSize, minQty: f.minQty, minNotional: f.minNotional, maxQty: f.maxQty, maxNotional: f.maxNotional,
                    fetchedAt: fetchedAt))
            }
            if let weightLimit, weightLimit > 0 {
                try ledger.updateVenueState(venue: venue) { $0.weightLimit = weightLimit }
            }
        }
        return result
    }
}
