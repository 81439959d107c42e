// Patterns cdl2crows ... cdlhomingpigeon. Each function writes TA-Lib's value per bar into `out`
// (pre-filled with zeros, `bars.count` long). Implementations may move to their own files.

extension CandlestickPatterns {
    static func cdl2crows(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2)]) { b, i, a in
            b.color(i - 2) == 1 &&& b.realBody(i - 2) > a[0] &&& b.color(i - 1) == -1 &&& b.realBodyGapUp(i - 1, i - 2) &&& b.color(i) == -1
                &&& b.open[i] < b.open[i - 1] &&& b.open[i] > b.close[i - 1] &&& b.close[i] > b.open[i - 2] &&& b.close[i] < b.close[i - 2] ? -100 : 0
        }
    }

    static func cdl3blackcrows(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 13, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0)]) { b, i, a in
            b.color(i - 3) == 1 &&& b.color(i - 2) == -1 &&& b.lowerShadow(i - 2) < a[0] &&& b.color(i - 1) == -1 &&& b.lowerShadow(i - 1) < a[1]
                &&& b.color(i) == -1 &&& b.lowerShadow(i) < a[2] &&& b.open[i - 1] < b.open[i - 2] &&& b.open[i - 1] > b.close[i - 2]
                &&& b.open[i] < b.open[i - 1] &&& b.open[i] > b.close[i - 1] &&& b.high[i - 3] > b.close[i - 2]
                &&& b.close[i - 2] > b.close[i - 1] &&& b.close[i - 1] > b.close[i] ? -100 : 0
        }
    }

    static func cdl3inside(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1)]) { b, i, a in
            b.realBody(i - 2) > a[0] &&& b.realBody(i - 1) <= a[1] &&& b.bodyTop(i - 1) < b.bodyTop(i - 2) &&& b.bodyBottom(i - 1) > b.bodyBottom(i - 2)
                &&& ((b.color(i - 2) == 1 &&& b.color(i) == -1 &&& b.close[i] < b.open[i - 2]) ||| (b.color(i - 2) == -1 &&& b.color(i) == 1 &&& b.close[i] > b.open[i - 2]))
                ? Int32(-b.color(i - 2) * 100) : 0
        }
    }

    static func cdl3linestrike(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 8, [(.near, 3), (.near, 2)]) { b, i, a in
            let c = b.color(i - 1)
            guard b.color(i - 3) == c &&& b.color(i - 2) == c &&& b.color(i) == -c,
                  b.open[i - 2] >= b.bodyBottom(i - 3) - a[0] &&& b.open[i - 2] <= b.bodyTop(i - 3) + a[0],
                  b.open[i - 1] >= b.bodyBottom(i - 2) - a[1] &&& b.open[i - 1] <= b.bodyTop(i - 2) + a[1] else { return 0 }
            if c == 1 &&& b.close[i - 1] > b.close[i - 2] &&& b.close[i - 2] > b.close[i - 3] &&& b.open[i] > b.close[i - 1] &&& b.close[i] < b.open[i - 3] {
                return 100
            }
            if c == -1 &&& b.close[i - 1] < b.close[i - 2] &&& b.close[i - 2] < b.close[i - 3] &&& b.open[i] < b.close[i - 1] &&& b.close[i] > b.open[i - 3] {
                return -100
            }
            return 0
        }
    }

    static func cdl3outside(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 3, []) { b, i, _ in
            if b.color(i - 1) == 1 &&& b.color(i - 2) == -1 &&& b.close[i - 1] > b.open[i - 2] &&& b.open[i - 1] < b.close[i - 2] &&& b.close[i] > b.close[i - 1] {
                return 100
            }
            if b.color(i - 1) == -1 &&& b.color(i - 2) == 1 &&& b.open[i - 1] > b.close[i - 2] &&& b.close[i - 1] < b.open[i - 2] &&& b.close[i] < b.close[i - 1] {
                return -100
            }
            return 0
        }
    }

    static func cdl3starsinsouth(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.shadowLong, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0), (.bodyShort, 0)]) { b, i, a in
            // 1: long black with a long lower shadow; 2: smaller black opening within 1's range, lower low above 1's low,
            // with a lower shadow; 3: small black marubozu inside 2's range.
            b.color(i - 2) == -1 &&& b.realBody(i - 2) > a[0] &&& b.lowerShadow(i - 2) > a[1]
                &&& b.color(i - 1) == -1 &&& b.realBody(i - 1) < b.realBody(i - 2) &&& b.open[i - 1] > b.close[i - 2] &&& b.open[i - 1] <= b.high[i - 2]
                &&& b.low[i - 1] < b.close[i - 2] &&& b.low[i - 1] >= b.low[i - 2] &&& b.lowerShadow(i - 1) > a[2]
                &&& b.color(i) == -1 &&& b.realBody(i) < a[4] &&& b.lowerShadow(i) < a[3] &&& b.upperShadow(i) < a[3]
                &&& b.low[i] > b.low[i - 1] &&& b.high[i] < b.high[i - 1] ? 100 : 0
        }
    }

    static func cdl3whitesoldiers(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0),
                                           (.near, 2), (.near, 1), (.far, 2), (.far, 1), (.bodyShort, 0)]) { b, i, a in
            b.color(i - 2) == 1 &&& b.upperShadow(i - 2) < a[0] &&& b.color(i - 1) == 1 &&& b.upperShadow(i - 1) < a[1]
                &&& b.color(i) == 1 &&& b.upperShadow(i) < a[2] &&& b.close[i] > b.close[i - 1] &&& b.close[i - 1] > b.close[i - 2]
                &&& b.open[i - 1] > b.open[i - 2] &&& b.open[i - 1] <= b.close[i - 2] + a[3]
                &&& b.open[i] > b.open[i - 1] &&& b.open[i] <= b.close[i - 1] + a[4]
                &&& b.realBody(i - 1) > b.realBody(i - 2) - a[5] &&& b.realBody(i) > b.realBody(i - 1) - a[6] &&& b.realBody(i) > a[7] ? 100 : 0
        }
    }

    static func cdlabandonedbaby(_ bars: PatternBars, into out: inout [Int32]) {
        cdlabandonedbaby(bars, into: &out, penetration: 0.3)
    }

    /// Abandoned baby with TA-Lib's `optInPenetration` (how far the third candle closes into the first one's body).
    static func cdlabandonedbaby(_ bars: PatternBars, into out: inout [Int32], penetration: Double) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyDoji, 1), (.bodyShort, 0)]) { b, i, a in
            guard b.realBody(i - 2) > a[0] &&& b.realBody(i - 1) <= a[1] &&& b.realBody(i) > a[2] else { return 0 }
            if b.color(i - 2) == 1 &&& b.color(i) == -1 &&& b.close[i] < b.close[i - 2] - b.realBody(i - 2) * penetration
                &&& b.candleGapUp(i - 1, i - 2) &&& b.candleGapDown(i, i - 1) { return -100 }
            if b.color(i - 2) == -1 &&& b.color(i) == 1 &&& b.close[i] > b.close[i - 2] + b.realBody(i - 2) * penetration
                &&& b.candleGapDown(i - 1, i - 2) &&& b.candleGapUp(i, i - 1) { return 100 }
            return 0
        }
    }

    static func cdladvanceblock(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.shadowShort, 2), (.shadowShort, 1), (.shadowShort, 0), (.shadowLong, 0),
                                           (.near, 2), (.near, 1), (.far, 2), (.far, 1), (.bodyLong, 2)]) { b, i, a in
            guard b.color(i - 2) == 1 &&& b.color(i - 1) == 1 &&& b.color(i) == 1,
                  b.close[i] > b.close[i - 1] &&& b.close[i - 1] > b.close[i - 2],
                  b.open[i - 1] > b.open[i - 2] &&& b.open[i - 1] <= b.close[i - 2] + a[4],
                  b.open[i] > b.open[i - 1] &&& b.open[i] <= b.close[i - 1] + a[5],
                  b.realBody(i - 2) > a[8] &&& b.upperShadow(i - 2) < a[0] else { return 0 }
            let (r2, r1, r0) = (b.realBody(i - 2), b.realBody(i - 1), b.realBody(i))
            let weakening = (r1 < r2 - a[6] &&& r0 < r1 + a[5])          // 2 far smaller than 1, 3 not longer than 2
                ||| r0 < r1 - a[7]                                         // 3 far smaller than 2
                ||| (r0 < r1 &&& r1 < r2 &&& (b.upperShadow(i) > a[2] ||| b.upperShadow(i - 1) > a[1]))
                ||| (r0 < r1 &&& b.upperShadow(i) > a[3])                   // 3 smaller with a long upper shadow
            return weakening ? -100 : 0
        }
    }

    static func cdlbelthold(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 10, [(.bodyLong, 0), (.shadowVeryShort, 0)]) { b, i, a in
            b.realBody(i) > a[0] &&& ((b.color(i) == 1 &&& b.lowerShadow(i) < a[1]) ||| (b.color(i) == -1 &&& b.upperShadow(i) < a[1]))
                ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlbreakaway(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 14, [(.bodyLong, 4)]) { b, i, a in
            guard b.realBody(i - 4) > a[0], b.color(i - 4) == b.color(i - 3), b.color(i - 3) == b.color(i - 1),
                  b.color(i - 1) == -b.color(i) else { return 0 }
            if b.color(i - 4) == -1 &&& b.realBodyGapDown(i - 3, i - 4) &&& b.high[i - 2] < b.high[i - 3] &&& b.low[i - 2] < b.low[i - 3]
                &&& b.high[i - 1] < b.high[i - 2] &&& b.low[i - 1] < b.low[i - 2] &&& b.close[i] > b.open[i - 3] &&& b.close[i] < b.close[i - 4] {
                return 100
            }
            if b.color(i - 4) == 1 &&& b.realBodyGapUp(i - 3, i - 4) &&& b.high[i - 2] > b.high[i - 3] &&& b.low[i - 2] > b.low[i - 3]
                &&& b.high[i - 1] > b.high[i - 2] &&& b.low[i - 1] > b.low[i - 2] &&& b.close[i] < b.open[i - 3] &&& b.close[i] > b.close[i - 4] {
                return -100
            }
            return 0
        }
    }

    static func cdlclosingmarubozu(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyLong, .shadowVeryShort]) { b, i, a in
            b.realBody(i) > a[0] &&& ((b.color(i) == 1 &&& b.upperShadow(i) < a[1]) ||| (b.color(i) == -1 &&& b.lowerShadow(i) < a[1]))
                ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlconcealbabyswall(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 13, [(.shadowVeryShort, 3), (.shadowVeryShort, 2), (.shadowVeryShort, 1)]) { b, i, a in
            b.color(i - 3) == -1 &&& b.color(i - 2) == -1 &&& b.color(i - 1) == -1 &&& b.color(i) == -1
                &&& b.lowerShadow(i - 3) < a[0] &&& b.upperShadow(i - 3) < a[0] &&& b.lowerShadow(i - 2) < a[1] &&& b.upperShadow(i - 2) < a[1]
                &&& b.realBodyGapDown(i - 1, i - 2) &&& b.upperShadow(i - 1) > a[2] &&& b.high[i - 1] > b.close[i - 2]
                &&& b.high[i] > b.high[i - 1] &&& b.low[i] < b.low[i - 1] ? 100 : 0
        }
    }

    static func cdlcounterattack(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1), (.bodyLong, 0)]) { b, i, a in
            b.color(i - 1) == -b.color(i) &&& b.realBody(i - 1) > a[1] &&& b.realBody(i) > a[2]
                &&& b.close[i] <= b.close[i - 1] + a[0] &&& b.close[i] >= b.close[i - 1] - a[0] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdldarkcloudcover(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1)]) { b, i, a in
            b.color(i - 1) == 1 &&& b.realBody(i - 1) > a[0] &&& b.color(i) == -1 &&& b.open[i] > b.high[i - 1]
                &&& b.close[i] > b.open[i - 1] &&& b.close[i] < b.close[i - 1] - b.realBody(i - 1) * 0.5 ? -100 : 0
        }
    }

    static func cdldoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji]) { b, i, a in b.realBody(i) <= a[0] ? 100 : 0 }
    }

    static func cdldojistar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyDoji, 0)]) { b, i, a in
            b.realBody(i - 1) > a[0] &&& b.realBody(i) <= a[1]
                &&& ((b.color(i - 1) == 1 &&& b.realBodyGapUp(i, i - 1)) ||| (b.color(i - 1) == -1 &&& b.realBodyGapDown(i, i - 1)))
                ? Int32(-b.color(i - 1) * 100) : 0
        }
    }

    static func cdldragonflydoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort]) { b, i, a in
            b.realBody(i) <= a[0] &&& b.upperShadow(i) < a[1] &&& b.lowerShadow(i) > a[1] ? 100 : 0
        }
    }

    static func cdlengulfing(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 2, []) { b, i, _ in
            let white = b.color(i) == 1 &&& b.color(i - 1) == -1
                &&& ((b.close[i] >= b.open[i - 1] &&& b.open[i] < b.close[i - 1]) ||| (b.close[i] > b.open[i - 1] &&& b.open[i] <= b.close[i - 1]))
            let black = b.color(i) == -1 &&& b.color(i - 1) == 1
                &&& ((b.open[i] >= b.close[i - 1] &&& b.close[i] < b.open[i - 1]) ||| (b.open[i] > b.close[i - 1] &&& b.close[i] <= b.open[i - 1]))
            guard white ||| black else { return 0 }
            return Int32(b.color(i) * (b.open[i] != b.close[i - 1] &&& b.close[i] != b.open[i - 1] ? 100 : 80))
        }
    }

    static func cdleveningdojistar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyDoji, 1), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] &&& b.color(i - 2) == 1 &&& b.realBody(i - 1) <= a[1] &&& b.realBodyGapUp(i - 1, i - 2)
                &&& b.realBody(i) > a[2] &&& b.color(i) == -1 &&& b.close[i] < b.close[i - 2] - b.realBody(i - 2) * 0.3 ? -100 : 0
        }
    }

    static func cdleveningstar(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1), (.bodyShort, 0)]) { b, i, a in
            b.realBody(i - 2) > a[0] &&& b.color(i - 2) == 1 &&& b.realBody(i - 1) <= a[1] &&& b.realBodyGapUp(i - 1, i - 2)
                &&& b.realBody(i) > a[2] &&& b.color(i) == -1 &&& b.close[i] < b.close[i - 2] - b.realBody(i - 2) * 0.3 ? -100 : 0
        }
    }

    static func cdlgapsidesidewhite(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 7, [(.near, 1), (.equal, 1)]) { b, i, a in
            let up = b.realBodyGapUp(i - 1, i - 2) &&& b.realBodyGapUp(i, i - 2)
            let down = b.realBodyGapDown(i - 1, i - 2) &&& b.realBodyGapDown(i, i - 2)
            return (up ||| down) &&& b.color(i - 1) == 1 &&& b.color(i) == 1 &&& b.realBody(i) >= b.realBody(i - 1) - a[0]
                &&& b.realBody(i) <= b.realBody(i - 1) + a[0] &&& b.open[i] >= b.open[i - 1] - a[1] &&& b.open[i] <= b.open[i - 1] + a[1]
                ? (b.realBodyGapUp(i - 1, i - 2) ? 100 : -100) : 0
        }
    }

    static func cdlgravestonedoji(_ bars: PatternBars, into out: inout [Int32]) {
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort]) { b, i, a in
            b.realBody(i) <= a[0] &&& b.lowerShadow(i) < a[1] &&& b.upperShadow(i) > a[1] ? 100 : 0
        }
    }

    static func cdlhammer(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowLong, 0), (.shadowVeryShort, 0), (.near, 1)]) { b, i, a in
            b.realBody(i) < a[0] &&& b.lowerShadow(i) > a[1] &&& b.upperShadow(i) < a[2] &&& b.bodyBottom(i) <= b.low[i - 1] + a[3] ? 100 : 0
        }
    }

    static func cdlhangingman(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowLong, 0), (.shadowVeryShort, 0), (.near, 1)]) { b, i, a in
            b.realBody(i) < a[0] &&& b.lowerShadow(i) > a[1] &&& b.upperShadow(i) < a[2] &&& b.bodyBottom(i) >= b.high[i - 1] - a[3] ? -100 : 0
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
            b.realBody(i) < a[0] &&& b.upperShadow(i) > a[1] &&& b.lowerShadow(i) > a[1] ? Int32(b.color(i) * 100) : 0
        }
    }

    static func cdlhikkake(_ bars: PatternBars, into out: inout [Int32]) {
        // An inside bar (2 inside 1) followed by a bar breaking out of it (lower high and lower low: bullish setup,
        // higher high and higher low: bearish) gives ±100; a close back beyond the inside bar's high (low) within the
        // next three bars confirms it with ±200. TA-Lib primes the state on the three bars before the first output.
        let start = 5
        guard bars.count > start else { return }
        var tracker = HikkakeTracker()
        for i in (start - 3)..<bars.count {
            let b = bars.view
            let setup = b.high[i - 1] < b.high[i - 2] &&& b.low[i - 1] > b.low[i - 2]
                &&& ((b.high[i] < b.high[i - 1] &&& b.low[i] < b.low[i - 1]) ||| (b.high[i] > b.high[i - 1] &&& b.low[i] > b.low[i - 1]))
            let value = tracker.step(b, i, setup: setup)
            if i >= start { out[i] = value }
        }
    }

    static func cdlhikkakemod(_ bars: PatternBars, into out: inout [Int32]) {
        // Modified hikkake: 2 inside 1, 3 inside 2, 4 breaks out; the second candle must close near its low (bullish)
        // or near its high (bearish), "near" judged on the average range before it. Confirmation as in the hikkake.
        let start = 10
        guard bars.count > start else { return }
        var near = RunningCandleAverage(.near, bars: bars.view, start: start - 3, offset: 2)
        var tracker = HikkakeTracker()
        for i in (start - 3)..<bars.count {
            let b = bars.view
            let nearAverage = near.average(b, i)
            let setup = b.high[i - 2] < b.high[i - 3] &&& b.low[i - 2] > b.low[i - 3] &&& b.high[i - 1] < b.high[i - 2] &&& b.low[i - 1] > b.low[i - 2]
                &&& ((b.high[i] < b.high[i - 1] &&& b.low[i] < b.low[i - 1] &&& b.close[i - 2] <= b.low[i - 2] + nearAverage)
                    ||| (b.high[i] > b.high[i - 1] &&& b.low[i] > b.low[i - 1] &&& b.close[i - 2] >= b.high[i - 2] - nearAverage))
            let value = tracker.step(b, i, setup: setup)
            if i >= start { out[i] = value }
            near.advance(b, i)
        }
    }

    static func cdlhomingpigeon(_ bars: PatternBars, into out: inout [Int32]) {
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyShort, 0)]) { b, i, a in
            b.color(i - 1) == -1 &&& b.color(i) == -1 &&& b.realBody(i - 1) > a[0] &&& b.realBody(i) <= a[1]
                &&& b.open[i] < b.open[i - 1] &&& b.close[i] > b.close[i - 1] ? 100 : 0
        }
    }


    /// A long candle whose body contains the next, small one: ±100 strictly inside, ±80 when a body edge is shared.
    static func harami(_ b: BarView, _ i: Int, longBody: Double, smallBody: Double) -> Int32 {
        guard b.realBody(i - 1) > longBody, b.realBody(i) <= smallBody else { return 0 }
        if b.bodyTop(i) < b.bodyTop(i - 1) &&& b.bodyBottom(i) > b.bodyBottom(i - 1) { return Int32(-b.color(i - 1) * 100) }
        if b.bodyTop(i) <= b.bodyTop(i - 1) &&& b.bodyBottom(i) >= b.bodyBottom(i - 1) { return Int32(-b.color(i - 1) * 80) }
        return 0
    }
}

/// The state both hikkake patterns carry from bar to bar: the last setup bar and its direction.
struct HikkakeTracker {
    private var patternIndex = 0
    private var patternResult: Int32 = 0

    /// The value for bar `i`: ±100 on a setup bar, ±200 when a close within three bars of the setup confirms it.
    mutating func step(_ b: BarView, _ i: Int, setup: Bool) -> Int32 {
        if setup {
            patternResult = b.high[i] < b.high[i - 1] ? 100 : -100
            patternIndex = i
            return patternResult
        }
        if i <= patternIndex + 3
            && ((patternResult > 0 && b.close[i] > b.high[patternIndex - 1]) || (patternResult < 0 && b.close[i] < b.low[patternIndex - 1])) {
            patternIndex = 0
            return patternResult + (patternResult > 0 ? 100 : -100)
        }
        return 0
    }
}
