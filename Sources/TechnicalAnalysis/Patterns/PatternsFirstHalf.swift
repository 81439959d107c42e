// Patterns cdl2crows ... cdlhomingpigeon. Each function writes TA-Lib's value per bar into `out`
// (pre-filled with zeros, `bars.count` long). In a rule, `w.open(k)` etc. are the values of the candle `k` bars
// before each lane's bar and `w.average(s)` is the average of the s-th setting listed (see `Window`).

extension CandlestickPatterns {
    static func cdl2crows(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let first: LaneMask = w.white(2) &&& w.body(2) .> w.average(0) &&& w.black(1) &&& w.bodyGapUp(1, 2)
                let third: LaneMask = w.black(0) &&& w.open(0) .< w.open(1) &&& w.open(0) .> w.close(1)
                    &&& w.close(0) .> w.open(2) &&& w.close(0) .< w.close(2)
                return fire(first &&& third, -100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2)], Rule())
    }

    static func cdl3blackcrows(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let colors: LaneMask = w.white(3) &&& w.black(2) &&& w.black(1) &&& w.black(0)
                let shadows: LaneMask = w.lowerShadow(2) .< w.average(0) &&& w.lowerShadow(1) .< w.average(1) &&& w.lowerShadow(0) .< w.average(2)
                let opens: LaneMask = w.open(1) .< w.open(2) &&& w.open(1) .> w.close(2) &&& w.open(0) .< w.open(1) &&& w.open(0) .> w.close(1)
                let closes: LaneMask = w.high(3) .> w.close(2) &&& w.close(2) .> w.close(1) &&& w.close(1) .> w.close(0)
                return fire(colors &&& shadows &&& opens &&& closes, -100)
            }
        }
        candles(bars, &out, lookback: 13, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0)], Rule())
    }

    static func cdl3inside(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let harami: LaneMask = w.body(2) .> w.average(0) &&& w.body(1) .<= w.average(1)
                    &&& w.top(1) .< w.top(2) &&& w.bottom(1) .> w.bottom(2)
                let up: LaneMask = w.white(2) &&& w.black(0) &&& w.close(0) .< w.open(2)
                let down: LaneMask = w.black(2) &&& w.white(0) &&& w.close(0) .> w.open(2)
                return fire(harami &&& (up ||| down), positive: w.black(2))
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1)], Rule())
    }

    static func cdl3linestrike(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let colors: LaneMask = w.sameColor(3, 1) &&& w.sameColor(2, 1) &&& .!w.sameColor(0, 1)
                let opens: LaneMask = w.open(2) .>= w.bottom(3) - w.average(0) &&& w.open(2) .<= w.top(3) + w.average(0)
                    &&& w.open(1) .>= w.bottom(2) - w.average(1) &&& w.open(1) .<= w.top(2) + w.average(1)
                let setup = colors &&& opens
                let up: LaneMask = w.white(1) &&& w.close(1) .> w.close(2) &&& w.close(2) .> w.close(3)
                    &&& w.open(0) .> w.close(1) &&& w.close(0) .< w.open(3)
                let down: LaneMask = w.black(1) &&& w.close(1) .< w.close(2) &&& w.close(2) .< w.close(3)
                    &&& w.open(0) .< w.close(1) &&& w.close(0) .> w.open(3)
                return fire(up: setup &&& up, down: setup &&& down)
            }
        }
        candles(bars, &out, lookback: 8, [(.near, 3), (.near, 2)], Rule())
    }

    static func cdl3outside(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let up: LaneMask = w.white(1) &&& w.black(2) &&& w.close(1) .> w.open(2) &&& w.open(1) .< w.close(2)
                    &&& w.close(0) .> w.close(1)
                let down: LaneMask = w.black(1) &&& w.white(2) &&& w.open(1) .> w.close(2) &&& w.close(1) .< w.open(2)
                    &&& w.close(0) .< w.close(1)
                return fire(up: up, down: down)
            }
        }
        candles(bars, &out, lookback: 3, [], Rule())
    }

    static func cdl3starsinsouth(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                // 1: long black with a long lower shadow; 2: smaller black opening within 1's range, lower low above 1's low,
                // with a lower shadow; 3: small black marubozu inside 2's range.
                let first: LaneMask = w.black(2) &&& w.body(2) .> w.average(0) &&& w.lowerShadow(2) .> w.own(.shadowLong, 2)
                let second: LaneMask = w.black(1) &&& w.body(1) .< w.body(2) &&& w.open(1) .> w.close(2) &&& w.open(1) .<= w.high(2)
                    &&& w.low(1) .< w.close(2) &&& w.low(1) .>= w.low(2) &&& w.lowerShadow(1) .> w.average(1)
                let third: LaneMask = w.black(0) &&& w.body(0) .< w.average(3) &&& w.lowerShadow(0) .< w.average(2)
                    &&& w.upperShadow(0) .< w.average(2) &&& w.low(0) .> w.low(1) &&& w.high(0) .< w.high(1)
                return fire(first &&& second &&& third, 100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0), (.bodyShort, 0)], Rule())
    }

    static func cdl3whitesoldiers(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let white: LaneMask = w.white(2) &&& w.white(1) &&& w.white(0)
                let shadows: LaneMask = w.upperShadow(2) .< w.average(0) &&& w.upperShadow(1) .< w.average(1) &&& w.upperShadow(0) .< w.average(2)
                let closes: LaneMask = w.close(0) .> w.close(1) &&& w.close(1) .> w.close(2)
                let opens: LaneMask = w.open(1) .> w.open(2) &&& w.open(1) .<= w.close(2) + w.average(3)
                    &&& w.open(0) .> w.open(1) &&& w.open(0) .<= w.close(1) + w.average(4)
                let bodies: LaneMask = w.body(1) .> w.body(2) - w.average(5) &&& w.body(0) .> w.body(1) - w.average(6)
                    &&& w.body(0) .> w.average(7)
                return fire(white &&& shadows &&& closes &&& opens &&& bodies, 100)
            }
        }
        candles(bars, &out, lookback: 12, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0),
                                           (.near, 2), (.near, 1), (.far, 2), (.far, 1), (.bodyShort, 0)], Rule())
    }

    static func cdlabandonedbaby(_ bars: PatternBars, into out: inout [Int32]) {
        cdlabandonedbaby(bars, into: &out, penetration: 0.3)
    }

    /// Abandoned baby with TA-Lib's `optInPenetration` (how far the third candle closes into the first one's body).
    static func cdlabandonedbaby(_ bars: PatternBars, into out: inout [Int32], penetration: Double) {
        struct Rule: CandleRule {
            let penetration: Double
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let reach = w.body(2) * Lanes(repeating: penetration)
                let bodies: LaneMask = w.body(2) .> w.average(0) &&& w.body(1) .<= w.average(1) &&& w.body(0) .> w.average(2)
                let down: LaneMask = w.white(2) &&& w.black(0) &&& w.close(0) .< w.close(2) - reach
                    &&& w.candleGapUp(1, 2) &&& w.candleGapDown(0, 1)
                let up: LaneMask = w.black(2) &&& w.white(0) &&& w.close(0) .> w.close(2) + reach
                    &&& w.candleGapDown(1, 2) &&& w.candleGapUp(0, 1)
                return fire(up: bodies &&& up, down: bodies &&& down)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyDoji, 1), (.bodyShort, 0)], Rule(penetration: penetration))
    }

    static func cdladvanceblock(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let (r2, r1, r0) = (w.body(2), w.body(1), w.body(0))
                let advance: LaneMask = w.white(2) &&& w.white(1) &&& w.white(0)
                    &&& w.close(0) .> w.close(1) &&& w.close(1) .> w.close(2)
                    &&& w.open(1) .> w.open(2) &&& w.open(1) .<= w.close(2) + w.average(3)
                    &&& w.open(0) .> w.open(1) &&& w.open(0) .<= w.close(1) + w.average(4)
                    &&& r2 .> w.average(7) &&& w.upperShadow(2) .< w.average(0)
                let shrinking: LaneMask = r1 .< r2 - w.average(5) &&& r0 .< r1 + w.average(4)   // 2 far smaller than 1, 3 not longer than 2
                let farSmaller: LaneMask = r0 .< r1 - w.average(6)                                 // 3 far smaller than 2
                let shadowed: LaneMask = r0 .< r1 &&& r1 .< r2 &&& (w.upperShadow(0) .> w.average(2) ||| w.upperShadow(1) .> w.average(1))
                let longShadow: LaneMask = r0 .< r1 &&& w.upperShadow(0) .> w.own(.shadowLong, 0)  // 3 smaller with a long upper shadow
                return fire(advance &&& (shrinking ||| farSmaller ||| shadowed ||| longShadow), -100)
            }
        }
        candles(bars, &out, lookback: 12, [(.shadowShort, 2), (.shadowShort, 1), (.shadowShort, 0),
                                           (.near, 2), (.near, 1), (.far, 2), (.far, 1), (.bodyLong, 2)], Rule())
    }

    static func cdlbelthold(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let shaven: LaneMask = (w.white(0) &&& w.lowerShadow(0) .< w.average(1)) ||| (w.black(0) &&& w.upperShadow(0) .< w.average(1))
                return fire(w.body(0) .> w.average(0) &&& shaven, positive: w.white(0))
            }
        }
        candles(bars, &out, lookback: 10, [(.bodyLong, 0), (.shadowVeryShort, 0)], Rule())
    }

    static func cdlbreakaway(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let setup: LaneMask = w.body(4) .> w.average(0) &&& w.sameColor(4, 3) &&& w.sameColor(3, 1) &&& .!w.sameColor(1, 0)
                let up: LaneMask = w.black(4) &&& w.bodyGapDown(3, 4) &&& w.high(2) .< w.high(3) &&& w.low(2) .< w.low(3)
                    &&& w.high(1) .< w.high(2) &&& w.low(1) .< w.low(2) &&& w.close(0) .> w.open(3) &&& w.close(0) .< w.close(4)
                let down: LaneMask = w.white(4) &&& w.bodyGapUp(3, 4) &&& w.high(2) .> w.high(3) &&& w.low(2) .> w.low(3)
                    &&& w.high(1) .> w.high(2) &&& w.low(1) .> w.low(2) &&& w.close(0) .< w.open(3) &&& w.close(0) .> w.close(4)
                return fire(up: setup &&& up, down: setup &&& down)
            }
        }
        candles(bars, &out, lookback: 14, [(.bodyLong, 4)], Rule())
    }

    static func cdlclosingmarubozu(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let shaven: LaneMask = (w.white(0) &&& w.upperShadow(0) .< w.average(1)) ||| (w.black(0) &&& w.lowerShadow(0) .< w.average(1))
                return fire(w.body(0) .> w.average(0) &&& shaven, positive: w.white(0))
            }
        }
        singleCandle(bars, &out, [.bodyLong, .shadowVeryShort], Rule())
    }

    static func cdlconcealbabyswall(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let black: LaneMask = w.black(3) &&& w.black(2) &&& w.black(1) &&& w.black(0)
                let marubozu: LaneMask = w.lowerShadow(3) .< w.average(0) &&& w.upperShadow(3) .< w.average(0)
                    &&& w.lowerShadow(2) .< w.average(1) &&& w.upperShadow(2) .< w.average(1)
                let third: LaneMask = w.bodyGapDown(1, 2) &&& w.upperShadow(1) .> w.average(2) &&& w.high(1) .> w.close(2)
                let fourth: LaneMask = w.high(0) .> w.high(1) &&& w.low(0) .< w.low(1)
                return fire(black &&& marubozu &&& third &&& fourth, 100)
            }
        }
        candles(bars, &out, lookback: 13, [(.shadowVeryShort, 3), (.shadowVeryShort, 2), (.shadowVeryShort, 1)], Rule())
    }

    static func cdlcounterattack(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = .!w.sameColor(1, 0) &&& w.body(1) .> w.average(1) &&& w.body(0) .> w.average(2)
                    &&& w.close(0) .<= w.close(1) + w.average(0) &&& w.close(0) .>= w.close(1) - w.average(0)
                return fire(m, positive: w.white(0))
            }
        }
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1), (.bodyLong, 0)], Rule())
    }

    static func cdldarkcloudcover(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.white(1) &&& w.body(1) .> w.average(0) &&& w.black(0) &&& w.open(0) .> w.high(1)
                    &&& w.close(0) .> w.open(1) &&& w.close(0) .< w.close(1) - w.body(1) * 0.5
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyLong, 1)], Rule())
    }

    static func cdldoji(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues { fire(w.body(0) .<= w.average(0), 100) }
        }
        singleCandle(bars, &out, [.bodyDoji], Rule())
    }

    static func cdldojistar(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let gap: LaneMask = (w.white(1) &&& w.bodyGapUp(0, 1)) ||| (w.black(1) &&& w.bodyGapDown(0, 1))
                return fire(w.body(1) .> w.average(0) &&& w.body(0) .<= w.average(1) &&& gap, positive: w.black(1))
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyDoji, 0)], Rule())
    }

    static func cdldragonflydoji(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                fire(w.body(0) .<= w.average(0) &&& w.upperShadow(0) .< w.average(1) &&& w.lowerShadow(0) .> w.average(1), 100)
            }
        }
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort], Rule())
    }

    static func cdlengulfing(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let up: LaneMask = w.white(0) &&& w.black(1)
                    &&& ((w.close(0) .>= w.open(1) &&& w.open(0) .< w.close(1)) ||| (w.close(0) .> w.open(1) &&& w.open(0) .<= w.close(1)))
                let down: LaneMask = w.black(0) &&& w.white(1)
                    &&& ((w.open(0) .>= w.close(1) &&& w.close(0) .< w.open(1)) ||| (w.open(0) .> w.close(1) &&& w.close(0) .<= w.open(1)))
                // 100 when both body edges differ, 80 when one is shared.
                let strict: LaneMask = w.open(0) .!= w.close(1) &&& w.close(0) .!= w.open(1)
                return fire(up: up, down: down, values: LaneValues(repeating: 80).replacing(with: 100, where: strict))
            }
        }
        candles(bars, &out, lookback: 2, [], Rule())
    }

    static func cdleveningdojistar(_ bars: PatternBars, into out: inout [Int32]) {
        eveningStar(bars, &out, middle: .bodyDoji)
    }

    static func cdleveningstar(_ bars: PatternBars, into out: inout [Int32]) {
        eveningStar(bars, &out, middle: .bodyShort)
    }

    /// A long white candle, a small one (`middle`) gapping above it, then a black one closing well into the first.
    private static func eveningStar(_ bars: PatternBars, _ out: inout [Int32], middle: CandleSetting) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(2) .> w.average(0) &&& w.white(2) &&& w.body(1) .<= w.average(1) &&& w.bodyGapUp(1, 2)
                    &&& w.body(0) .> w.average(2) &&& w.black(0) &&& w.close(0) .< w.close(2) - w.body(2) * 0.3
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (middle, 1), (.bodyShort, 0)], Rule())
    }

    static func cdlgapsidesidewhite(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let gapUp = w.bodyGapUp(1, 2)
                let gaps: LaneMask = (gapUp &&& w.bodyGapUp(0, 2)) ||| (w.bodyGapDown(1, 2) &&& w.bodyGapDown(0, 2))
                let twins: LaneMask = w.white(1) &&& w.white(0)
                    &&& w.body(0) .>= w.body(1) - w.average(0) &&& w.body(0) .<= w.body(1) + w.average(0)
                    &&& w.open(0) .>= w.open(1) - w.average(1) &&& w.open(0) .<= w.open(1) + w.average(1)
                return fire(gaps &&& twins, positive: gapUp)
            }
        }
        candles(bars, &out, lookback: 7, [(.near, 1), (.equal, 1)], Rule())
    }

    static func cdlgravestonedoji(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                fire(w.body(0) .<= w.average(0) &&& w.lowerShadow(0) .< w.average(1) &&& w.upperShadow(0) .> w.average(1), 100)
            }
        }
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort], Rule())
    }

    static func cdlhammer(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .< w.average(0) &&& w.lowerShadow(0) .> w.own(.shadowLong, 0)
                    &&& w.upperShadow(0) .< w.average(1) &&& w.bottom(0) .<= w.low(1) + w.average(2)
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowVeryShort, 0), (.near, 1)], Rule())
    }

    static func cdlhangingman(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .< w.average(0) &&& w.lowerShadow(0) .> w.own(.shadowLong, 0)
                    &&& w.upperShadow(0) .< w.average(1) &&& w.bottom(0) .>= w.high(1) - w.average(2)
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowVeryShort, 0), (.near, 1)], Rule())
    }

    static func cdlharami(_ bars: PatternBars, into out: inout [Int32]) {
        harami(bars, &out, small: .bodyShort)
    }

    static func cdlharamicross(_ bars: PatternBars, into out: inout [Int32]) {
        harami(bars, &out, small: .bodyDoji)
    }

    /// A long candle whose body contains the next, small one (`small`): ±100 strictly inside, ±80 when a body edge
    /// is shared; positive after a black candle.
    private static func harami(_ bars: PatternBars, _ out: inout [Int32], small: CandleSetting) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let sizes: LaneMask = w.body(1) .> w.average(0) &&& w.body(0) .<= w.average(1)
                let strict: LaneMask = w.top(0) .< w.top(1) &&& w.bottom(0) .> w.bottom(1)
                let inside: LaneMask = w.top(0) .<= w.top(1) &&& w.bottom(0) .>= w.bottom(1)
                let m = sizes &&& inside
                return fire(up: m &&& w.black(1), down: m &&& w.white(1), values: LaneValues(repeating: 80).replacing(with: 100, where: strict))
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (small, 0)], Rule())
    }

    static func cdlhighwave(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let long = w.own(.shadowVeryLong, 0)
                return fire(w.body(0) .< w.average(0) &&& w.upperShadow(0) .> long &&& w.lowerShadow(0) .> long, positive: w.white(0))
            }
        }
        singleCandle(bars, &out, [.bodyShort], Rule())
    }

    static func cdlhikkake(_ bars: PatternBars, into out: inout [Int32]) {
        // An inside bar (2 inside 1) followed by a bar breaking out of it (lower high and lower low: bullish setup,
        // +100; higher high and higher low: bearish, −100). A close beyond the inside bar's high (low) within the next
        // three bars confirms the latest setup with ±200, once. TA-Lib starts its state three bars before the first
        // output.
        struct Setup: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let inside: LaneMask = w.high(1) .< w.high(2) &&& w.low(1) .> w.low(2)
                let lowerHigh = w.high(0) .< w.high(1)
                let down: LaneMask = lowerHigh &&& w.low(0) .< w.low(1)
                let up: LaneMask = w.high(0) .> w.high(1) &&& w.low(0) .> w.low(1)
                return fire(inside &&& (down ||| up), positive: lowerHigh)
            }
        }
        hikkake(bars, &out, start: 5, [], Setup())
    }

    static func cdlhikkakemod(_ bars: PatternBars, into out: inout [Int32]) {
        // Modified hikkake: 2 inside 1, 3 inside 2, 4 breaks out; the second candle must close near its low (bullish)
        // or near its high (bearish), "near" judged on the average range before it. Confirmation as in the hikkake.
        struct Setup: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let inside: LaneMask = w.high(2) .< w.high(3) &&& w.low(2) .> w.low(3) &&& w.high(1) .< w.high(2) &&& w.low(1) .> w.low(2)
                let lowerHigh = w.high(0) .< w.high(1)
                let down: LaneMask = lowerHigh &&& w.low(0) .< w.low(1) &&& w.close(2) .<= w.low(2) + w.average(0)
                let up: LaneMask = w.high(0) .> w.high(1) &&& w.low(0) .> w.low(1) &&& w.close(2) .>= w.high(2) - w.average(0)
                return fire(inside &&& (down ||| up), positive: lowerHigh)
            }
        }
        hikkake(bars, &out, start: 10, [(.near, 2)], Setup())
    }

    /// A hikkake-like pattern with first output bar `start`: its setups (±100, `setup` with `settings`) from three
    /// bars before `start` on are written to `out` first; then a second pass adds the confirmations (±200) reading
    /// them back, and the setups before `start` are cleared again.
    @inline(__always)
    fileprivate static func hikkake<Setup: CandleRule>(_ bars: PatternBars, _ out: inout [Int32], start: Int,
                                                         _ settings: [(CandleSetting, Int)], _ setup: Setup) {
        let n = bars.count
        guard n > start, out.count >= n else { return }
        guard n - start >= laneCount else {
            // Too few bars for the lanes of the second pass: on a copy padded with repeats of the last bar (a bar's
            // value depends only on it and the bars before).
            let padded = bars.padded(to: start + laneCount)
            var values = [Int32](repeating: 0, count: padded.count)
            hikkake(padded, &values, start: start, settings, setup)
            for j in start..<n { out[j] = values[j] }
            return
        }
        candles(bars, &out, lookback: start - 3, settings, setup)
        out.withUnsafeMutableBufferPointer { o in
            guard let base = o.baseAddress else { return }
            hikkakeConfirmations(bars.view, base, from: start)
            for j in (start - 3)..<start { base[j] = 0 }
        }
    }

    /// The confirmations of the setups (±100 in `out` from `first − 3` on), from `first` on (at least `laneCount`
    /// bars): the value of a bar that is not a setup is ±200 if it confirms the latest setup of the three bars before
    /// it (a close beyond that setup's inside candle) and no bar in between did.
    ///
    /// Values are written a block at a time after the block is computed: loading lanes that overlap a store just made
    /// would stall the loads. (Setups are read; a confirmation is written only where there is none, so reading a block
    /// before or after its confirmations are written gives the same setups.)
    private static func hikkakeConfirmations(_ view: BarView, _ out: UnsafeMutablePointer<Int32>, from first: Int) {
        let n = view.count
        let none = AverageSlots(c0: view.close, c1: view.close, c2: view.close, c3: view.close, c4: view.close, c5: view.close,
                                c6: view.close, c7: view.close, s0: 0, s1: 0, s2: 0, s3: 0, s4: 0, s5: 0, s6: 0, s7: 0)
        let groups = 64
        let block = UnsafeMutablePointer<SIMD4<Int32>>.allocate(capacity: groups)
        defer { block.deallocate() }
        var i = first
        while i < n {
            // Groups of lanes from i on; the last one of the series overlaps the one before it.
            var count = 0
            while count < groups && i + count * laneCount < n {
                let at = min(i + count * laneCount, n - laneCount)
                block[count] = SIMD4<Int32>(truncatingIfNeeded: confirmation(Window(bars: view, i: at, averages: none), out + at))
                count += 1
            }
            for g in 0..<count {
                let at = min(i + g * laneCount, n - laneCount)
                UnsafeMutableRawPointer(out + at).storeBytes(of: block[g], as: SIMD4<Int32>.self)
            }
            i += count * laneCount
        }
    }

    /// A hikkake value for the lanes of `w`, given their setups at `setups` (`setups[-d]`: d bars back).
    @inline(__always) private static func confirmation(_ w: Window, _ setups: UnsafePointer<Int32>) -> LaneValues {
        // The values d bars back: a setup is ±100 (confirmations already written are ±200). Compared as doubles:
        // SSE2 has no 64-bit integer comparison, and `Int64` lanes would be compared one by one.
        @inline(__always) func values(_ d: Int) -> Lanes {
            Lanes(UnsafeRawPointer(setups - d).loadUnaligned(as: SIMD4<Int32>.self))
        }
        @inline(__always) func setup(_ d: Int) -> (setup: LaneMask, bullish: LaneMask) {
            let v = values(d)
            return ((v .== 100) ||| (v .== -100), v .== 100)
        }
        // The setup d bars back is confirmed at the candle j bars back (j < d).
        @inline(__always) func confirms(_ j: Int, _ d: Int, bullish: LaneMask) -> LaneMask {
            (bullish &&& w.close(j) .> w.high(d + 1)) ||| (.!bullish &&& w.close(j) .< w.low(d + 1))
        }
        let current = values(0)
        let s0: LaneMask = (current .== 100) ||| (current .== -100)
        let (s1, b1) = setup(1), (s2, b2) = setup(2), (s3, b3) = setup(3)
        let c1: LaneMask = s1 &&& confirms(0, 1, bullish: b1)
        let c2: LaneMask = .!s1 &&& s2 &&& .!confirms(1, 2, bullish: b2) &&& confirms(0, 2, bullish: b2)
        let c3: LaneMask = .!s1 &&& .!s2 &&& s3 &&& .!confirms(2, 3, bullish: b3) &&& .!confirms(1, 3, bullish: b3)
            &&& confirms(0, 3, bullish: b3)
        let bullish: LaneMask = (c1 &&& b1) ||| (c2 &&& b2) ||| (c3 &&& b3)
        return fire(s0, positive: current .== 100) &+ fire(.!s0 &&& (c1 ||| c2 ||| c3), positive: bullish, 200)
    }

    static func cdlhomingpigeon(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(1) &&& w.black(0) &&& w.body(1) .> w.average(0) &&& w.body(0) .<= w.average(1)
                    &&& w.open(0) .< w.open(1) &&& w.close(0) .> w.close(1)
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyShort, 0)], Rule())
    }
}
