import Testing
import TestSupport
import TradingDomain

@Suite("Symbol table")
struct SymbolTableTests {
    /// The table answers as a dictionary does through inserts, overwrites and removals: with one to three symbols
    /// (the entry held inline, and another taking its place when it is removed), and below and past the 16 symbols
    /// where it keeps an index (which it now extends on each insert instead of rebuilding).
    @Test(arguments: [1, 2, 3, 60]) func answersAsADictionary(symbolCount: Int) {
        var table = SymbolTable<Int>()
        var plain: [Symbol: Int] = [:]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let symbols = (0..<symbolCount).map { Symbol(rawValue: "S\($0)USDT") }
        for step in 0..<5000 {
            let symbol = symbols[next(symbols.count)]
            if next(5) == 0 {
                table[symbol] = nil
                plain[symbol] = nil
            } else {
                table[symbol] = step
                plain[symbol] = step
            }
            let probe = symbols[next(symbols.count)]
            #expect(table[probe] == plain[probe])
        }
        for symbol in symbols { #expect(table[symbol] == plain[symbol]) }
    }

    /// A symbol's base asset, read byte by byte for ASCII names, is what the Unicode text comparison gives (seeded names
    /// over a small alphabet so that suffixes often match; and non-ASCII names, which take the text path).
    @Test func baseAssetIsTheTextSuffixRemoved() {
        var g = SeededGenerator(seed: 3)
        let alphabet: [String] = ["U", "S", "D", "T", "B", "C", "e\u{301}", "é", "1", "\r", "\n"]
        func name(_ length: Int) -> String { (0..<length).map { _ in alphabet.randomElement(using: &g) ?? "U" }.joined() }
        var cases: [(String, String)] = [("BTCUSDT", "USDT"), ("USDT", "USDT"), ("SDT", "USDT"), ("", "USDT"), ("BTCUSDT", ""), ("ÉTHUSDT", "USDT"), ("BTC\r\n", "\n"), ("BTC\r\nX", "\nX"), ("BTC\r", "\r")]
        for _ in 0..<3_000 { cases.append((name(Int.random(in: 0...7, using: &g)) + (Bool.random(using: &g) ? "USDT" : ""), name(Int.random(in: 0...4, using: &g)))) }
        for (raw, quote) in cases {
            let expected = raw.hasSuffix(quote) ? String(raw.dropLast(quote.count)) : nil
            #expect(Symbol(rawValue: raw).baseAsset(quotedIn: quote) == expected, "\(raw) quoted in \(quote)")
        }
    }
}
