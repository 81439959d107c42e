// LLM module: see Package.swift for its role.
