import Foundation
import TradingDomain

/// What a tripped protection makes the cycle do.
public enum ProtectionCommand: Sendable, Equatable {
    /// Block new entries until `trip.until` (persisted; a losing streak restarts its count from now).
    case blockEntries(ProtectionTrip)
    /// Enter safe mode (the lockfile, then the emergency closure of every position).
    case enterSafeMode(ProtectionTrip)
}

/// The pure decisions on the protections' trips (`ProtectionEvaluator` evaluates them).
public enum ProtectionPlanner {
    /// Protections that judge the account's equity (and so need a settled account).
    public static func judgesEquity(_ protection: ProtectionName) -> Bool { protection == .maxDrawdown || protection == .dailyLoss }

    /// The commands for `trips`: a block only when it ends later than the one in force, safe mode only once.
    /// With `equityUncertain` (an order whose outcome is not known yet, so a buy may have spent the cash already) the
    /// protections that judge equity wait rather than act on a guess.
    public static func plan(_ trips: [ProtectionTrip], blocks: [String: Int64], safeModeActive: Bool, equityUncertain: Bool) -> [ProtectionCommand] {
        var blocks = blocks, safe = safeModeActive
        var commands: [ProtectionCommand] = []
        for trip in trips where !(equityUncertain && judgesEquity(trip.name)) {
            switch trip.action {
            case .blockEntries:
                guard trip.until > (blocks[trip.name.rawValue] ?? 0) else { continue }
                blocks[trip.name.rawValue] = trip.until
                commands.append(.blockEntries(trip))
            case .safeMode:
                guard !safe else { continue }
                safe = true
                commands.append(.enterSafeMode(trip))
            }
        }
        return commands
    }
}
