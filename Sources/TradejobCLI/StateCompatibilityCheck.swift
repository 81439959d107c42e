import Foundation
import Settings
import Storage

extension RunCommand {
    /// Throws the `ConfigError` of `StateCompatibility.check` (exit 78) when the configuration contradicts the stored
    /// paper state (another quote asset); reads only, so a refused run leaves the state as it was.
    static func refuseIncompatibleState(config: ResolvedConfig, ledger: SQLiteLedger, stateDirectory: String) throws {
        guard config.string("mode") == "paper" else { return }  // a live wallet is the venue's balances
        // A state whose first run died before its tables were made holds nothing to contradict.
        guard try ["wallet", "fills", "positions"].allSatisfy({ try ledger.tableExists($0) }) else { return }
        let assets = Set(try ledger.balances().keys)
        let fees = Set(try ledger.feeAssets())
        let symbols = try ledger.activePositions().map(\.symbol)
        if let conflict = StateCompatibility.check(config, state: stateDirectory, walletAssets: assets, feeAssets: fees, activeSymbols: symbols.map(\.rawValue)) {
            throw conflict
        }
    }
}
