import Foundation
import GRDB
import TradingDomain

/// A venue's persisted state (`venue_state`) and its cached symbol filters (`venue_symbol_filters`).
extension SQLiteLedger {
    /// `venue`'s state (a fresh one when none is stored).
    public func venueState(venue: String) throws -> VenueStateRow { try VenueStates.get(db, venue: venue) }

    /// Reads `venue`'s state, lets `body` change it, and saves it (in the caller's transaction).
    public func updateVenueState<T>(venue: String, _ body: (inout VenueStateRow) throws -> T) throws -> T {
        try VenueStates.update(db, venue: venue, body)
    }

    /// The cached filters of `symbol` on `venue`.
    public func venueSymbolFilters(venue: String, symbol: Symbol) throws -> VenueSymbolFiltersRow? {
        try VenueSymbolFilters.get(db, venue: venue, symbol: symbol)
    }

    /// Forgets the cached filters of `symbol` on `venue`.
    public func removeVenueSymbolFilters(venue: String, symbol: Symbol) throws {
        try VenueSymbolFilters.remove(db, venue: venue, symbol: symbol)
    }

    /// Caches (or replaces) a symbol's filters.
    public func saveVenueSymbolFilters(_ f: VenueSymbolFiltersRow) throws {
        try VenueSymbolFilters.upsert(db, f)
    }
}
