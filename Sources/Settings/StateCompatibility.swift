import Foundation

/// Whether a configuration fits the paper state it is about to run on. A `paper.quote_asset` other than the one the
/// stored wallet was kept in would value the wallet at 0 — a drawdown that trips safe mode and sells every position —
/// so such a run is refused (exit 78) before anything is written.
public enum StateCompatibility {
    /// A `ConfigError` naming `paper.quote_asset`, the configuration's value and the state's, when the stored paper
    /// wallet (`walletAssets`, its asset names) or an open position (`activeSymbols`) is in another quote asset; nil
    /// when they agree or the state is new (an empty wallet and no position). Live configurations are not checked
    /// (the wallet mirrors the venue's account).
    public static func check(_ config: ResolvedConfig, state: String, walletAssets: Set<String>, activeSymbols: [String]) -> ConfigError? {
        guard config.string("mode") == "paper", !(walletAssets.isEmpty && activeSymbols.isEmpty) else { return nil }
        let quote = config.string("paper.quote_asset")
        let foreign = activeSymbols.filter { !($0.hasSuffix(quote) && $0.count > quote.count) }
        guard !walletAssets.contains(quote) || !foreign.isEmpty else { return nil }
        let stored = storedQuoteAssets(walletAssets: walletAssets, activeSymbols: activeSymbols)
        var problem = "paper.quote_asset: got \(ConfigValue.quote(quote)), but the state in \(state) is kept in "
            + (stored.isEmpty ? "another quote asset" : stored.map(ConfigValue.quote).joined(separator: " or "))
            + " (wallet: \(walletAssets.sorted().joined(separator: ", ")); open positions: \(activeSymbols.isEmpty ? "none" : activeSymbols.joined(separator: ", ")))"
        problem += "; refusing to run, which would value the wallet at 0 and close every position."
            + " Set paper.quote_asset to the state's asset, or give a new --state-dir"
        return ConfigError(file: config.file, problems: [problem])
    }

    /// The wallet assets that every open position's symbol is quoted in (all wallet assets when nothing is open).
    static func storedQuoteAssets(walletAssets: Set<String>, activeSymbols: [String]) -> [String] {
        walletAssets.sorted().filter { asset in activeSymbols.allSatisfy { $0.hasSuffix(asset) && $0.count > asset.count } }
    }
}
