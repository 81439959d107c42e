// Patterns cdl2crows ... cdlhomingpigeon. Each function writes TA-Lib's value per bar into `out`
// (pre-filled with zeros, `bars.count` long). Implementations may move to their own files.

extension CandlestickPatterns {
    static func cdl2crows(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3blackcrows(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3inside(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3linestrike(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3outside(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3starsinsouth(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3whitesoldiers(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlabandonedbaby(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdladvanceblock(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlbelthold(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlbreakaway(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlclosingmarubozu(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyLong, .shadowVeryShort]) { b, i, a in
            b.realBody(i) > a[0] && ((b.color(i) == 1 && b.upperShadow(i) < a[1]) || (b.color(i) == -1 && b.lowerShadow(i) < a[1]))
                ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlconcealbabyswall(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlcounterattack(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdldarkcloudcover(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdldoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji]) { b, i, a in b.realBody(i) <= a[0] ? 100 : 0 }
    }

    static func cdldojistar(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdldragonflydoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort]) { b, i, a in
            b.realBody(i) <= a[0] && b.upperShadow(i) < a[1] && b.lowerShadow(i) > a[1] ? 100 : 0
        }
    }

    static func cdlengulfing(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdleveningdojistar(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdleveningstar(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlgapsidesidewhite(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlgravestonedoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort]) { b, i, a in
            b.realBody(i) <= a[0] && b.lowerShadow(i) < a[1] && b.upperShadow(i) > a[1] ? 100 : 0
        }
    }

    static func cdlhammer(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlhangingman(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlharami(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlharamicross(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlhighwave(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyShort, .shadowVeryLong]) { b, i, a in
            b.realBody(i) < a[0] && b.upperShadow(i) > a[1] && b.lowerShadow(i) > a[1] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlhikkake(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlhikkakemod(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdlhomingpigeon(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

}
