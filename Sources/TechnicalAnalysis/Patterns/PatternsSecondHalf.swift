// Patterns cdlidentical3crows ... cdlxsidegap3methods. Each function writes TA-Lib's value per bar into `out`
// (pre-filled with zeros, `bars.count` long). Implementations may move to their own files.

extension CandlestickPatterns {
    static func cdlidentical3crows(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0), (.equal, 2), (.equal, 1)]) { b, i, a in
            b.color(i - 2) == -1 &&& b.lowerShadow(i - 2) < a[0] &&& b.color(i - 1) == -1 &&& b.lowerShadow(i - 1) < a[1]
                &&& b.color(i) == -1 &&& b.lowerShadow(i) < a[2] &&& b.close[i - 2] > b.close[i - 1] &&& b.close[i - 1] > b.close[i]
                &&& b.open[i - 1] <= b.close[i - 2] + a[3] &&& b.open[i - 1] >= b.close[i - 2] - a[3]
                &&& b.open[i] <= b.close[i - 1] + a[4] &&& b.open[i] >= b.close[i - 1] - a[4] ? -100 : 0
        }
    }

    static func cdlinneck(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1)]) { b, i, a in
            b.color(i - 1) == -1 &&& b.realBody(i - 1) > a[1] &&& b.color(i) == 1 &&& b.open[i] < b.low[i - 1]
                &&& b.close[i] <= b.close[i - 1] + a[0] &&& b.close[i] >= b.close[i - 1] ? -100 : 0
        }
    }

    static func cdlinvertedhammer(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowLong, 0), (.shadowVeryShort, 0)]) { b, i, a in
            b.realBody(i) < a[0] &&& b.upperShadow(i) > a[1] &&& b.lowerShadow(i) < a[2] &&& b.realBodyGapDown(i, i - 1) ? 100 : 0
        }
    }

    static func cdlkicking(_ bars: PatternBars, into out: inout [Int32]) {
        kicking(bars, &out) { b, i in Int32(b.color(i) * 100) }
    }

    static func cdlkickingbylength(_ bars: PatternBars, into out: inout [Int32]) {
        // The direction is the colour of the marubozu with the longer real body.
        kicking(bars, &out) { b, i in Int32(b.color(b.realBody(i) > b.realBody(i - 1) ? i : i - 1) * 100) }
    }

    /// Two opposite marubozu with a gap between them (black then a gap up, or white then a gap down).
    private static func kicking(_ bars: PatternBars, _ out: inout [Int32], direction: (BarView, Int) -> Int32) {
        candles(bars, &out, lookback: 11, [(.shadowVeryShort, 1), (.shadowVeryShort, 0), (.bodyLong, 1), (.bodyLong, 0)]) { b, i, a in
            b.color(i - 1) == -b.color(i)
                &&& b.realBody(i - 1) > a[2] &&& b.upperShadow(i - 1) < a[0] &&& b.lowerShadow(i - 1) < a[0]
                &&& b.realBody(i) > a[3] &&& b.upperShadow(i) < a[1] &&& b.lowerShadow(i) < a[1]
                &&& ((b.color(i - 1) == -1 &&& b.candleGapUp(i, i - 1)) ||| (b.color(i - 1) == 1 &&& b.candleGapDown(i, i - 1)))
                ? direction(b, i) : 0
        }
    }

    static func cdlladderbottom(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 14, [(.shadowVeryShort, 1)]) { b, i, a in
            b.color(i - 4) == -1 &&& b.color(i - 3) == -1 &&& b.color(i - 2) == -1
                &&& b.open[i - 4] > b.open[i - 3] &&& b.open[i - 3] > b.open[i - 2] &&& b.close[i - 4] > b.close[i - 3] &&& b.close[i - 3] > b.close[i - 2]
                &&& b.color(i - 1) == -1 &&& b.upperShadow(i - 1) > a[0]
                &&& b.color(i) == 1 &&& b.open[i] > b.open[i - 1] &&& b.close[i] > b.high[i - 1] ? 100 : 0
        }
    }

    static func cdllongleggeddoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowLong]) { b, i, a in
            b.realBody(i) <= a[0] &&& (b.lowerShadow(i) > a[1] ||| b.upperShadow(i) > a[1]) ? 100 : 0
        }
    }

    static func cdllongline(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyLong, .shadowShort]) { b, i, a in
            b.realBody(i) > a[0] &&& b.upperShadow(i) < a[1] &&& b.lowerShadow(i) < a[1] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlmarubozu(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyLong, .shadowVeryShort]) { b, i, a in
            b.realBody(i) > a[0] &&& b.upperShadow(i) < a[1] &&& b.lowerShadow(i) < a[1] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlmatchinglow(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 6, [(.equal, 1)]) { b, i, a in
            b.color(i - 1) == -1 &&& b.color(i) == -1 &&& b.close[i] <= b.close[i - 1] + a[0] &&& b.close[i] >= b.close[i - 1] - a[0] ? 100 : 0
        }
    }

    static func cdlmathold(_ bars: PatternBars, into out: inout [Int32]) {
        cdlmathold(bars, into: &out, penetration: 0.5)
    }

    /// Mat hold with TA-Lib's `optInPenetration` (how deep the reaction candles may reach into the first body).
    static func cdlmathold(_ bars: PatternBars, into out: inout [Int32], penetration: Double) {
        candles(bars, &out, lookback: 14, [(.bodyLong, 4), (.bodyShort, 3), (.bodyShort, 2), (.bodyShort, 1)]) { b, i, a in
            let floor = b.close[i - 4] - b.realBody(i - 4) * penetration
            return b.realBody(i - 4) > a[0] &&& b.realBody(i - 3) < a[1] &&& b.realBody(i - 2) < a[2] &&& b.realBody(i - 1) < a[3]
                &&& b.color(i - 4) == 1 &&& b.color(i - 3) == -1 &&& b.color(i) == 1 &&& b.realBodyGapUp(i - 3, i - 4)
                &&& b.bodyBottom(i - 2) < b.close[i - 4] &&& b.bodyBottom(i - 1) < b.close[i - 4]
                &&& b.bodyBottom(i - 2) > floor &&& b.bodyBottom(i - 1) > floor
                &&& b.bodyTop(i - 2) < b.open[i - 3] &&& b.bodyTop(i - 1) < b.bodyTop(i - 2)
                &&& b.open[i] > b.close[i - 1] &&& b.close[i] > max(b.high[i - 3], b.high[i - 2], b.high[i - 1]) ? 100 : 0
        }
    }

    static func cdlmorningdojistar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyDoji, 1), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] &&& b.color(i - 2) == -1 &&& b.realBody(i - 1) <= a[1] &&& b.realBodyGapDown(i - 1, i - 2)
                &&& b.realBody(i) > a[2] &&& b.color(i) == 1 &&& b.close[i] > b.close[i - 2] + b.realBody(i - 2) * 0.3 ? 100 : 0
        }
    }

    static func cdlmorningstar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] &&& b.color(i - 2) == -1 &&& b.realBody(i - 1) <= a[1] &&& b.realBodyGapDown(i - 1, i - 2)
                &&& b.realBody(i) > a[2] &&& b.color(i) == 1 &&& b.close[i] > b.close[i - 2] + b.realBody(i - 2) * 0.3 ? 100 : 0
        }
    }

    static func cdlonneck(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1)]) { b, i, a in
            b.color(i - 1) == -1 &&& b.realBody(i - 1) > a[1] &&& b.color(i) == 1 &&& b.open[i] < b.low[i - 1]
                &&& b.close[i] <= b.low[i - 1] + a[0] &&& b.close[i] >= b.low[i - 1] - a[0] ? -100 : 0
        }
    }

    static func cdlpiercing(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyLong, 0)]) { b, i, a in
            b.color(i - 1) == -1 &&& b.realBody(i - 1) > a[0] &&& b.color(i) == 1 &&& b.realBody(i) > a[1] &&& b.open[i] < b.low[i - 1]
                &&& b.close[i] < b.open[i - 1] &&& b.close[i] > b.close[i - 1] + b.realBody(i - 1) * 0.5 ? 100 : 0
        }
    }

    static func cdlrickshawman(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowLong, .near]) { b, i, a in
            let middle = b.low[i] + b.highLowRange(i) / 2
            return b.realBody(i) <= a[0] &&& b.lowerShadow(i) > a[1] &&& b.upperShadow(i) > a[1]
                &&& b.bodyBottom(i) <= middle + a[2] &&& b.bodyTop(i) >= middle - a[2] ? 100 : 0
        }
    }

    static func cdlrisefall3methods(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 14, [(.bodyLong, 4), (.bodyShort, 3), (.bodyShort, 2), (.bodyShort, 1), (.bodyLong, 0)]) { b, i, a in
            let c = Double(b.color(i - 4))
            return b.realBody(i - 4) > a[0] &&& b.realBody(i - 3) < a[1] &&& b.realBody(i - 2) < a[2] &&& b.realBody(i - 1) < a[3] &&& b.realBody(i) > a[4]
                &&& b.color(i - 4) == -b.color(i - 3) &&& b.color(i - 3) == b.color(i - 2) &&& b.color(i - 2) == b.color(i - 1) &&& b.color(i - 1) == -b.color(i)
                &&& b.bodyBottom(i - 3) < b.high[i - 4] &&& b.bodyTop(i - 3) > b.low[i - 4]
                &&& b.bodyBottom(i - 2) < b.high[i - 4] &&& b.bodyTop(i - 2) > b.low[i - 4]
                &&& b.bodyBottom(i - 1) < b.high[i - 4] &&& b.bodyTop(i - 1) > b.low[i - 4]
                &&& b.close[i - 2] * c < b.close[i - 3] * c &&& b.close[i - 1] * c < b.close[i - 2] * c
                &&& b.open[i] * c > b.close[i - 1] * c &&& b.close[i] * c > b.close[i - 4] * c ? Int32(b.color(i - 4) * 100) : 0
        }
    }

    static func cdlseparatinglines(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.shadowVeryShort, 0), (.bodyLong, 0), (.equal, 1)]) { b, i, a in
            b.color(i - 1) == -b.color(i) &&& b.open[i] <= b.open[i - 1] + a[2] &&& b.open[i] >= b.open[i - 1] - a[2] &&& b.realBody(i) > a[1]
                &&& ((b.color(i) == 1 &&& b.lowerShadow(i) < a[0]) ||| (b.color(i) == -1 &&& b.upperShadow(i) < a[0])) ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlshootingstar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowLong, 0), (.shadowVeryShort, 0)]) { b, i, a in
            b.realBody(i) < a[0] &&& b.upperShadow(i) > a[1] &&& b.lowerShadow(i) < a[2] &&& b.realBodyGapUp(i, i - 1) ? -100 : 0
        }
    }

    static func cdlshortline(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyShort, .shadowShort]) { b, i, a in
            b.realBody(i) < a[0] &&& b.upperShadow(i) < a[1] &&& b.lowerShadow(i) < a[1] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlspinningtop(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyShort]) { b, i, a in
            b.realBody(i) < a[0] &&& b.upperShadow(i) > b.realBody(i) &&& b.lowerShadow(i) > b.realBody(i) ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlstalledpattern(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyLong, 1), (.bodyShort, 0), (.shadowVeryShort, 1), (.near, 2), (.near, 1)]) { b, i, a in
            b.color(i - 2) == 1 &&& b.color(i - 1) == 1 &&& b.color(i) == 1 &&& b.close[i] > b.close[i - 1] &&& b.close[i - 1] > b.close[i - 2]
                &&& b.realBody(i - 2) > a[0] &&& b.realBody(i - 1) > a[1] &&& b.upperShadow(i - 1) < a[3]
                &&& b.open[i - 1] > b.open[i - 2] &&& b.open[i - 1] <= b.close[i - 2] + a[4]
                &&& b.realBody(i) < a[2] &&& b.open[i] >= b.close[i - 1] - b.realBody(i) - a[5] ? -100 : 0
        }
    }

    static func cdlsticksandwich(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 7, [(.equal, 2)]) { b, i, a in
            b.color(i - 2) == -1 &&& b.color(i - 1) == 1 &&& b.color(i) == -1 &&& b.low[i - 1] > b.close[i - 2]
                &&& b.close[i] <= b.close[i - 2] + a[0] &&& b.close[i] >= b.close[i - 2] - a[0] ? 100 : 0
        }
    }

    static func cdltakuri(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort, .shadowVeryLong]) { b, i, a in
            b.realBody(i) <= a[0] &&& b.upperShadow(i) < a[1] &&& b.lowerShadow(i) > a[2] ? 100 : 0
        }
    }

    static func cdltasukigap(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 7, [(.near, 1)]) { b, i, a in
            let similar = abs(b.realBody(i - 1) - b.realBody(i)) < a[0]
            if b.realBodyGapUp(i - 1, i - 2) &&& b.color(i - 1) == 1 &&& b.color(i) == -1 &&& b.open[i] < b.close[i - 1] &&& b.open[i] > b.open[i - 1]
                &&& b.close[i] < b.open[i - 1] &&& b.close[i] > b.bodyTop(i - 2) &&& similar { return 100 }
            if b.realBodyGapDown(i - 1, i - 2) &&& b.color(i - 1) == -1 &&& b.color(i) == 1 &&& b.open[i] < b.open[i - 1] &&& b.open[i] > b.close[i - 1]
                &&& b.close[i] > b.open[i - 1] &&& b.close[i] < b.bodyBottom(i - 2) &&& similar { return -100 }
            return 0
        }
    }

    static func cdlthrusting(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1)]) { b, i, a in
            b.color(i - 1) == -1 &&& b.realBody(i - 1) > a[1] &&& b.color(i) == 1 &&& b.open[i] < b.low[i - 1]
                &&& b.close[i] > b.close[i - 1] + a[0] &&& b.close[i] <= b.close[i - 1] + b.realBody(i - 1) * 0.5 ? -100 : 0
        }
    }

    static func cdltristar(_ bars: PatternBars, into out: inout [Int32]) {
        // Three doji, all judged against the average before the first one; the middle one gaps away from the others.
        candles(bars, &out, lookback: 12, [(.bodyDoji, 2)]) { b, i, a in
            guard b.realBody(i - 2) <= a[0] &&& b.realBody(i - 1) <= a[0] &&& b.realBody(i) <= a[0] else { return 0 }
            if b.realBodyGapUp(i - 1, i - 2) &&& b.bodyTop(i) < b.bodyTop(i - 1) { return -100 }
            if b.realBodyGapDown(i - 1, i - 2) &&& b.bodyBottom(i) > b.bodyBottom(i - 1) { return 100 }
            return 0
        }
    }

    static func cdlunique3river(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] &&& b.color(i - 2) == -1
                &&& b.color(i - 1) == -1 &&& b.close[i - 1] > b.close[i - 2] &&& b.open[i - 1] <= b.open[i - 2] &&& b.low[i - 1] < b.low[i - 2]
                &&& b.realBody(i) < a[1] &&& b.color(i) == 1 &&& b.open[i] > b.low[i - 1] ? 100 : 0
        }
    }

    static func cdlupsidegap2crows(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1)]) { b, i, a in
            b.color(i - 2) == 1 &&& b.realBody(i - 2) > a[0] &&& b.color(i - 1) == -1 &&& b.realBody(i - 1) <= a[1] &&& b.realBodyGapUp(i - 1, i - 2)
                &&& b.color(i) == -1 &&& b.open[i] > b.open[i - 1] &&& b.close[i] < b.close[i - 1] &&& b.close[i] > b.close[i - 2] ? -100 : 0
        }
    }

    static func cdlxsidegap3methods(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 2, []) { b, i, _ in
            b.color(i - 2) == b.color(i - 1) &&& b.color(i - 1) == -b.color(i)
                &&& b.open[i] < b.bodyTop(i - 1) &&& b.open[i] > b.bodyBottom(i - 1)
                &&& b.close[i] < b.bodyTop(i - 2) &&& b.close[i] > b.bodyBottom(i - 2)
                &&& ((b.color(i - 2) == 1 &&& b.realBodyGapUp(i - 1, i - 2)) ||| (b.color(i - 2) == -1 &&& b.realBodyGapDown(i - 1, i - 2)))
                ? Int32(b.color(i - 2) * 100) : 0
        }
    }
}
