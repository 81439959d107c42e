import Foundation
import GRDB
import Settings
import Storage

extension RunCommand {
    /// Throws the `ConfigError` of `StateCompatibility.check` (exit 78) when the configuration contradicts the stored
    /// paper state (another quote asset); reads only, so a refused run leaves the state as it was.
    static func refuseIncompatibleState(config: ResolvedConfig, database: StateDatabase, stateDirectory: String) throws {
        let (assets, fees, symbols) = try database.writer.read { db in
            (Set(try Wallet.balances(db).keys), Set(try String.fetchAll(db, sql: "SELECT DISTINCT fee_asset FROM fills")),
             try Positions.active(db).map(\.symbol))
        }
        if let conflict = StateCompatibility.check(config, state: stateDirectory, walletAssets: assets, feeAssets: fees, activeSymbols: symbols) {
            throw conflict
        }
    }
}
