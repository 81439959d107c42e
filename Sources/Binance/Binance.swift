// Binance module: see Package.swift for its role.
