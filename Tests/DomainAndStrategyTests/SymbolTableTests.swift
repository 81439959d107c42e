import Testing
import TradingDomain

@Suite("Symbol table")
struct SymbolTableTests {
    /// The table answers as a dictionary does through inserts, overwrites and removals, below and past the 16 symbols
    /// where it keeps an index (which it now extends on each insert instead of rebuilding).
    @Test func answersAsADictionary() {
        var table = SymbolTable<Int>()
        var plain: [Symbol: Int] = [:]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let symbols = (0..<60).map { Symbol(rawValue: "S\($0)USDT") }
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
}
