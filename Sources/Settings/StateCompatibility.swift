import Foundation

/// Whether a configuration fits the paper state it is about to run on. A `paper.quote_asset` other than the one the
/// stored wallet was kept in would value the wallet at 0 — a drawdown that trips safe mode and sells every position —
/// so such a run is refused (exit 78) before anything is written.
public enum StateCompatibility {
    /// A `ConfigError` naming `paper.quote_asset`, the configuration's value and the state's, when the stored paper
    /// state is kept in another quote asset: its wallet (`walletAssets`, the asset names; the paper broker funds it in
    /// the quote asset and never removes that row) has no balance in the configured one, or its fills paid fees
    /// (`feeAssets`, always the quote asset in paper trading) only in others. Nil when they agree or the state is new.
    /// `activeSymbols` (open positions) only help name the state's asset. Live configurations are not checked (the
    /// wallet mirrors the venue's account).
    /// `newState` says how to start a new state instead (a new `--state-dir`, or a new `state.account`).
    public static func check(_ config: ResolvedConfig, state: String, walletAssets: Set<String>, feeAssets: Set<String>,
                             activeSymbols: [String], newState: String = "give a new --state-dir") -> ConfigError? {
        guard config.string("mode") == "paper" else { return nil }
        let quote = config.string("paper.quote_asset")
        let walletDisagrees = !walletAssets.isEmpty && !walletAssets.contains(quote)
        let feesDisagree = !feeAssets.isEmpty && !feeAssets.contains(quote)
        guard walletDisagrees || feesDisagree else { return nil }
        let stored = feeAssets.isEmpty ? storedQuoteAssets(walletAssets: walletAssets, activeSymbols: activeSymbols) : feeAssets.sorted()
        var problem = "paper.quote_asset: got \(ConfigValue.quote(quote)), but the state in \(state) is kept in "
            + (stored.isEmpty ? "another quote asset" : stored.map(ConfigValue.quote).joined(separator: " or "))
            + " (wallet: \(walletAssets.sorted().joined(separator: ", ")); open positions: \(activeSymbols.isEmpty ? "none" : activeSymbols.joined(separator: ", ")))"
        problem += "; refusing to run, which would value the wallet at 0 and close every position."
            + " Set paper.quote_asset to the state's asset, or \(newState)"
        return ConfigError(file: config.file, problems: [problem])
    }

    /// The wallet assets that every open position's symbol is quoted in (all wallet assets when nothing is open).
    static func storedQuoteAssets(walletAssets: Set<String>, activeSymbols: [String]) -> [String] {
        walletAssets.sorted().filter { asset in activeSymbols.allSatisfy { $0.hasSuffix(asset) && $0.count > asset.count } }
    }
}
