// Patterns cdl2crows ... cdlhomingpigeon. Each function writes TA-Lib's value per bar into `out`
// (pre-filled with zeros, `bars.count` long). Implementations may move to their own files.

extension CandlestickPatterns {
    static func cdl2crows(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2)]) { b, i, a in
            b.color(i - 2) == 1 && b.realBody(i - 2) > a[0] && b.color(i - 1) == -1 && b.realBodyGapUp(i - 1, i - 2) && b.color(i) == -1
                && b.open[i] < b.open[i - 1] && b.open[i] > b.close[i - 1] && b.close[i] > b.open[i - 2] && b.close[i] < b.close[i - 2] ? -100 : 0
        }
    }

    static func cdl3blackcrows(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 13, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0)]) { b, i, a in
            b.color(i - 3) == 1 && b.color(i - 2) == -1 && b.lowerShadow(i - 2) < a[0] && b.color(i - 1) == -1 && b.lowerShadow(i - 1) < a[1]
                && b.color(i) == -1 && b.lowerShadow(i) < a[2] && b.open[i - 1] < b.open[i - 2] && b.open[i - 1] > b.close[i - 2]
                && b.open[i] < b.open[i - 1] && b.open[i] > b.close[i - 1] && b.high[i - 3] > b.close[i - 2]
                && b.close[i - 2] > b.close[i - 1] && b.close[i - 1] > b.close[i] ? -100 : 0
        }
    }

    static func cdl3inside(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1)]) { b, i, a in
            b.realBody(i - 2) > a[0] && b.realBody(i - 1) <= a[1] && b.bodyTop(i - 1) < b.bodyTop(i - 2) && b.bodyBottom(i - 1) > b.bodyBottom(i - 2)
                && ((b.color(i - 2) == 1 && b.color(i) == -1 && b.close[i] < b.open[i - 2]) || (b.color(i - 2) == -1 && b.color(i) == 1 && b.close[i] > b.open[i - 2]))
                ? Int32(-b.color(i - 2) * 100) : 0
        }
    }

    static func cdl3linestrike(_ bars: PatternBars, into out: inout [Int32]) {
        // TODO: not implemented yet
    }

    static func cdl3outside(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 3, []) { b, i, _ in
            if b.color(i - 1) == 1 && b.color(i - 2) == -1 && b.close[i - 1] > b.open[i - 2] && b.open[i - 1] < b.close[i - 2] && b.close[i] > b.close[i - 1] {
                return 100
            }
            if b.color(i - 1) == -1 && b.color(i - 2) == 1 && b.open[i - 1] > b.close[i - 2] && b.close[i - 1] < b.open[i - 2] && b.close[i] < b.close[i - 1] {
                return -100
            }
            return 0
        }
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
        candles(bars, &out, lookback: 10, [(.bodyLong, 0), (.shadowVeryShort, 0)]) { b, i, a in
            b.realBody(i) > a[0] && ((b.color(i) == 1 && b.lowerShadow(i) < a[1]) || (b.color(i) == -1 && b.upperShadow(i) < a[1]))
                ? Int32(b.color(i) * 100) : 0
        }
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
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1), (.bodyLong, 0)]) { b, i, a in
            b.color(i - 1) == -b.color(i) && b.realBody(i - 1) > a[1] && b.realBody(i) > a[2]
                && b.close[i] <= b.close[i - 1] + a[0] && b.close[i] >= b.close[i - 1] - a[0] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdldarkcloudcover(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1)]) { b, i, a in
            b.color(i - 1) == 1 && b.realBody(i - 1) > a[0] && b.color(i) == -1 && b.open[i] > b.high[i - 1]
                && b.close[i] > b.open[i - 1] && b.close[i] < b.close[i - 1] - b.realBody(i - 1) * 0.5 ? -100 : 0
        }
    }

    static func cdldoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji]) { b, i, a in b.realBody(i) <= a[0] ? 100 : 0 }
    }

    static func cdldojistar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyDoji, 0)]) { b, i, a in
            b.realBody(i - 1) > a[0] && b.realBody(i) <= a[1]
                && ((b.color(i - 1) == 1 && b.realBodyGapUp(i, i - 1)) || (b.color(i - 1) == -1 && b.realBodyGapDown(i, i - 1)))
                ? Int32(-b.color(i - 1) * 100) : 0
        }
    }

    static func cdldragonflydoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort]) { b, i, a in
            b.realBody(i) <= a[0] && b.upperShadow(i) < a[1] && b.lowerShadow(i) > a[1] ? 100 : 0
        }
    }

    static func cdlengulfing(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 2, []) { b, i, _ in
            let white = b.color(i) == 1 && b.color(i - 1) == -1
                && ((b.close[i] >= b.open[i - 1] && b.open[i] < b.close[i - 1]) || (b.close[i] > b.open[i - 1] && b.open[i] <= b.close[i - 1]))
            let black = b.color(i) == -1 && b.color(i - 1) == 1
                && ((b.open[i] >= b.close[i - 1] && b.close[i] < b.open[i - 1]) || (b.open[i] > b.close[i - 1] && b.close[i] <= b.open[i - 1]))
            guard white || black else { return 0 }
            return Int32(b.color(i) * (b.open[i] != b.close[i - 1] && b.close[i] != b.open[i - 1] ? 100 : 80))
        }
    }

    static func cdleveningdojistar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyDoji, 1), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] && b.color(i - 2) == 1 && b.realBody(i - 1) <= a[1] && b.realBodyGapUp(i - 1, i - 2)
                && b.realBody(i) > a[2] && b.color(i) == -1 && b.close[i] < b.close[i - 2] - b.realBody(i - 2) * 0.3 ? -100 : 0
        }
    }

    static func cdleveningstar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] && b.color(i - 2) == 1 && b.realBody(i - 1) <= a[1] && b.realBodyGapUp(i - 1, i - 2)
                && b.realBody(i) > a[2] && b.color(i) == -1 && b.close[i] < b.close[i - 2] - b.realBody(i - 2) * 0.3 ? -100 : 0
        }
    }

    static func cdlgapsidesidewhite(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 7, [(.near, 1), (.equal, 1)]) { b, i, a in
            let up = b.realBodyGapUp(i - 1, i - 2) && b.realBodyGapUp(i, i - 2)
            let down = b.realBodyGapDown(i - 1, i - 2) && b.realBodyGapDown(i, i - 2)
            return (up || down) && b.color(i - 1) == 1 && b.color(i) == 1 && b.realBody(i) >= b.realBody(i - 1) - a[0]
                && b.realBody(i) <= b.realBody(i - 1) + a[0] && b.open[i] >= b.open[i - 1] - a[1] && b.open[i] <= b.open[i - 1] + a[1]
                ? (b.realBodyGapUp(i - 1, i - 2) ? 100 : -100) : 0
        }
    }

    static func cdlgravestonedoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort]) { b, i, a in
            b.realBody(i) <= a[0] && b.lowerShadow(i) < a[1] && b.upperShadow(i) > a[1] ? 100 : 0
        }
    }

    static func cdlhammer(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowLong, 0), (.shadowVeryShort, 0), (.near, 1)]) { b, i, a in
            b.realBody(i) < a[0] && b.lowerShadow(i) > a[1] && b.upperShadow(i) < a[2] && b.bodyBottom(i) <= b.low[i - 1] + a[3] ? 100 : 0
        }
    }

    static func cdlhangingman(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowLong, 0), (.shadowVeryShort, 0), (.near, 1)]) { b, i, a in
            b.realBody(i) < a[0] && b.lowerShadow(i) > a[1] && b.upperShadow(i) < a[2] && b.bodyBottom(i) >= b.high[i - 1] - a[3] ? -100 : 0
        }
    }

    static func cdlharami(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyShort, 0)]) { b, i, a in
            harami(b, i, longBody: a[0], smallBody: a[1])
        }
    }

    static func cdlharamicross(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyDoji, 0)]) { b, i, a in
            harami(b, i, longBody: a[0], smallBody: a[1])
        }
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
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyShort, 0)]) { b, i, a in
            b.color(i - 1) == -1 && b.color(i) == -1 && b.realBody(i - 1) > a[0] && b.realBody(i) <= a[1]
                && b.open[i] < b.open[i - 1] && b.close[i] > b.close[i - 1] ? 100 : 0
        }
    }


    /// A long candle whose body contains the next, small one: ±100 strictly inside, ±80 when a body edge is shared.
    static func harami(_ b: PatternBars, _ i: Int, longBody: Double, smallBody: Double) -> Int32 {
        guard b.realBody(i - 1) > longBody, b.realBody(i) <= smallBody else { return 0 }
        if b.bodyTop(i) < b.bodyTop(i - 1) && b.bodyBottom(i) > b.bodyBottom(i - 1) { return Int32(-b.color(i - 1) * 100) }
        if b.bodyTop(i) <= b.bodyTop(i - 1) && b.bodyBottom(i) >= b.bodyBottom(i - 1) { return Int32(-b.color(i - 1) * 80) }
        return 0
    }
}
