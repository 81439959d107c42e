// Backtest module: see Package.swift for its role.
