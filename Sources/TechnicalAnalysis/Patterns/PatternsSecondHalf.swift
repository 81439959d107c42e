// Patterns cdlidentical3crows ... cdlxsidegap3methods. Each function writes TA-Lib's value per bar into `out`
// (pre-filled with zeros, `bars.count` long). See PatternsFirstHalf.swift for how rules read the bars.

extension CandlestickPatterns {
    static func cdlidentical3crows(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let black: LaneMask = w.black(2) &&& w.black(1) &&& w.black(0)
                let shadows: LaneMask = w.lowerShadow(2) .< w.average(0) &&& w.lowerShadow(1) .< w.average(1) &&& w.lowerShadow(0) .< w.average(2)
                let closes: LaneMask = w.close(2) .> w.close(1) &&& w.close(1) .> w.close(0)
                let opens: LaneMask = w.open(1) .<= w.close(2) + w.average(3) &&& w.open(1) .>= w.close(2) - w.average(3)
                    &&& w.open(0) .<= w.close(1) + w.average(4) &&& w.open(0) .>= w.close(1) - w.average(4)
                return fire(black &&& shadows &&& closes &&& opens, -100)
            }
        }
        candles(bars, &out, lookback: 12, [(.shadowVeryShort, 2), (.shadowVeryShort, 1), (.shadowVeryShort, 0), (.equal, 2), (.equal, 1)], Rule())
    }

    static func cdlinneck(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(1) &&& w.body(1) .> w.average(1) &&& w.white(0) &&& w.open(0) .< w.low(1)
                    &&& w.close(0) .<= w.close(1) + w.average(0) &&& w.close(0) .>= w.close(1)
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1)], Rule())
    }

    static func cdlinvertedhammer(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .< w.average(0) &&& w.upperShadow(0) .> w.own(.shadowLong, 0)
                    &&& w.lowerShadow(0) .< w.average(1) &&& w.bodyGapDown(0, 1)
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowVeryShort, 0)], Rule())
    }

    static func cdlkicking(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues { fire(CandlestickPatterns.kicking(w), positive: w.white(0)) }
        }
        candles(bars, &out, lookback: 11, kickingSettings, Rule())
    }

    static func cdlkickingbylength(_ bars: PatternBars, into out: inout [Int32]) {
        // The direction is the colour of the marubozu with the longer real body.
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let secondLonger = w.body(0) .> w.body(1)
                return fire(CandlestickPatterns.kicking(w), positive: (secondLonger &&& w.white(0)) ||| (.!secondLonger &&& w.white(1)))
            }
        }
        candles(bars, &out, lookback: 11, kickingSettings, Rule())
    }

    private static let kickingSettings: [(CandleSetting, Int)] = [(.shadowVeryShort, 1), (.shadowVeryShort, 0), (.bodyLong, 1), (.bodyLong, 0)]

    /// Two opposite marubozu with a gap between them (black then a gap up, or white then a gap down).
    @inline(__always)
    fileprivate static func kicking(_ w: Window) -> LaneMask {
        let first: LaneMask = w.body(1) .> w.average(2) &&& w.upperShadow(1) .< w.average(0) &&& w.lowerShadow(1) .< w.average(0)
        let second: LaneMask = w.body(0) .> w.average(3) &&& w.upperShadow(0) .< w.average(1) &&& w.lowerShadow(0) .< w.average(1)
        let gap: LaneMask = (w.black(1) &&& w.candleGapUp(0, 1)) ||| (w.white(1) &&& w.candleGapDown(0, 1))
        return .!w.sameColor(1, 0) &&& first &&& second &&& gap
    }

    static func cdlladderbottom(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let descent: LaneMask = w.black(4) &&& w.black(3) &&& w.black(2)
                    &&& w.open(4) .> w.open(3) &&& w.open(3) .> w.open(2) &&& w.close(4) .> w.close(3) &&& w.close(3) .> w.close(2)
                let turn: LaneMask = w.black(1) &&& w.upperShadow(1) .> w.average(0)
                    &&& w.white(0) &&& w.open(0) .> w.open(1) &&& w.close(0) .> w.high(1)
                return fire(descent &&& turn, 100)
            }
        }
        candles(bars, &out, lookback: 14, [(.shadowVeryShort, 1)], Rule())
    }

    static func cdllongleggeddoji(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let long = w.own(.shadowLong, 0)
                return fire(w.body(0) .<= w.average(0) &&& (w.lowerShadow(0) .> long ||| w.upperShadow(0) .> long), 100)
            }
        }
        singleCandle(bars, &out, [.bodyDoji], Rule())
    }

    static func cdllongline(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .> w.average(0) &&& w.upperShadow(0) .< w.average(1) &&& w.lowerShadow(0) .< w.average(1)
                return fire(m, positive: w.white(0))
            }
        }
        singleCandle(bars, &out, [.bodyLong, .shadowShort], Rule())
    }

    static func cdlmarubozu(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .> w.average(0) &&& w.upperShadow(0) .< w.average(1) &&& w.lowerShadow(0) .< w.average(1)
                return fire(m, positive: w.white(0))
            }
        }
        singleCandle(bars, &out, [.bodyLong, .shadowVeryShort], Rule())
    }

    static func cdlmatchinglow(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(1) &&& w.black(0)
                    &&& w.close(0) .<= w.close(1) + w.average(0) &&& w.close(0) .>= w.close(1) - w.average(0)
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 6, [(.equal, 1)], Rule())
    }

    static func cdlmathold(_ bars: PatternBars, into out: inout [Int32]) {
        cdlmathold(bars, into: &out, penetration: 0.5)
    }

    /// Mat hold with TA-Lib's `optInPenetration` (how deep the reaction candles may reach into the first body).
    static func cdlmathold(_ bars: PatternBars, into out: inout [Int32], penetration: Double) {
        struct Rule: CandleRule {
            let penetration: Double
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let floor = w.close(4) - w.body(4) * Lanes(repeating: penetration)
                let bodies: LaneMask = w.body(4) .> w.average(0) &&& w.body(3) .< w.average(1) &&& w.body(2) .< w.average(2)
                    &&& w.body(1) .< w.average(3)
                let colors: LaneMask = w.white(4) &&& w.black(3) &&& w.white(0) &&& w.bodyGapUp(3, 4)
                let reaction: LaneMask = w.bottom(2) .< w.close(4) &&& w.bottom(1) .< w.close(4)
                    &&& w.bottom(2) .> floor &&& w.bottom(1) .> floor &&& w.top(2) .< w.open(3) &&& w.top(1) .< w.top(2)
                // Closing above the highest of the three reaction highs is closing above each of them.
                let resumption: LaneMask = w.open(0) .> w.close(1)
                    &&& w.close(0) .> w.high(3) &&& w.close(0) .> w.high(2) &&& w.close(0) .> w.high(1)
                return fire(bodies &&& colors &&& reaction &&& resumption, 100)
            }
        }
        candles(bars, &out, lookback: 14, [(.bodyLong, 4), (.bodyShort, 3), (.bodyShort, 2), (.bodyShort, 1)], Rule(penetration: penetration))
    }

    static func cdlmorningdojistar(_ bars: PatternBars, into out: inout [Int32]) {
        morningStar(bars, &out, middle: .bodyDoji)
    }

    static func cdlmorningstar(_ bars: PatternBars, into out: inout [Int32]) {
        morningStar(bars, &out, middle: .bodyShort)
    }

    /// A long black candle, a small one (`middle`) gapping below it, then a white one closing well into the first.
    private static func morningStar(_ bars: PatternBars, _ out: inout [Int32], middle: CandleSetting) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(2) .> w.average(0) &&& w.black(2) &&& w.body(1) .<= w.average(1) &&& w.bodyGapDown(1, 2)
                    &&& w.body(0) .> w.average(2) &&& w.white(0) &&& w.close(0) .> w.close(2) + w.body(2) * 0.3
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (middle, 1), (.bodyShort, 0)], Rule())
    }

    static func cdlonneck(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(1) &&& w.body(1) .> w.average(1) &&& w.white(0) &&& w.open(0) .< w.low(1)
                    &&& w.close(0) .<= w.low(1) + w.average(0) &&& w.close(0) .>= w.low(1) - w.average(0)
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1)], Rule())
    }

    static func cdlpiercing(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(1) &&& w.body(1) .> w.average(0) &&& w.white(0) &&& w.body(0) .> w.average(1)
                    &&& w.open(0) .< w.low(1) &&& w.close(0) .< w.open(1) &&& w.close(0) .> w.close(1) + w.body(1) * 0.5
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyLong, 1), (.bodyLong, 0)], Rule())
    }

    static func cdlrickshawman(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let long = w.own(.shadowLong, 0)
                let middle = w.low(0) + w.range(0) / 2
                let m: LaneMask = w.body(0) .<= w.average(0) &&& w.lowerShadow(0) .> long &&& w.upperShadow(0) .> long
                    &&& w.bottom(0) .<= middle + w.average(1) &&& w.top(0) .>= middle - w.average(1)
                return fire(m, 100)
            }
        }
        singleCandle(bars, &out, [.bodyDoji, .near], Rule())
    }

    static func cdlrisefall3methods(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                // TA-Lib compares prices multiplied by the first candle's colour (±1, exact), so one rule covers both trends.
                let c = Lanes(repeating: -1).replacing(with: 1, where: w.white(4))
                let bodies: LaneMask = w.body(4) .> w.average(0) &&& w.body(3) .< w.average(1) &&& w.body(2) .< w.average(2)
                    &&& w.body(1) .< w.average(3) &&& w.body(0) .> w.average(4)
                let colors: LaneMask = .!w.sameColor(4, 3) &&& w.sameColor(3, 2) &&& w.sameColor(2, 1) &&& .!w.sameColor(1, 0)
                let (high4, low4) = (w.high(4), w.low(4))
                let inside: LaneMask = w.bottom(3) .< high4 &&& w.top(3) .> low4 &&& w.bottom(2) .< high4 &&& w.top(2) .> low4
                    &&& w.bottom(1) .< high4 &&& w.top(1) .> low4
                let closes: LaneMask = w.close(2) * c .< w.close(3) * c &&& w.close(1) * c .< w.close(2) * c
                    &&& w.open(0) * c .> w.close(1) * c &&& w.close(0) * c .> w.close(4) * c
                return fire(bodies &&& colors &&& inside &&& closes, positive: w.white(4))
            }
        }
        candles(bars, &out, lookback: 14, [(.bodyLong, 4), (.bodyShort, 3), (.bodyShort, 2), (.bodyShort, 1), (.bodyLong, 0)], Rule())
    }

    static func cdlseparatinglines(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = .!w.sameColor(1, 0) &&& w.open(0) .<= w.open(1) + w.average(2) &&& w.open(0) .>= w.open(1) - w.average(2)
                    &&& w.body(0) .> w.average(1)
                let shaven: LaneMask = (w.white(0) &&& w.lowerShadow(0) .< w.average(0)) ||| (w.black(0) &&& w.upperShadow(0) .< w.average(0))
                return fire(m &&& shaven, positive: w.white(0))
            }
        }
        candles(bars, &out, lookback: 11, [(.shadowVeryShort, 0), (.bodyLong, 0), (.equal, 1)], Rule())
    }

    static func cdlshootingstar(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .< w.average(0) &&& w.upperShadow(0) .> w.own(.shadowLong, 0)
                    &&& w.lowerShadow(0) .< w.average(1) &&& w.bodyGapUp(0, 1)
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 11, [(.bodyShort, 0), (.shadowVeryShort, 0)], Rule())
    }

    static func cdlshortline(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .< w.average(0) &&& w.upperShadow(0) .< w.average(1) &&& w.lowerShadow(0) .< w.average(1)
                return fire(m, positive: w.white(0))
            }
        }
        singleCandle(bars, &out, [.bodyShort, .shadowShort], Rule())
    }

    static func cdlspinningtop(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let body = w.body(0)
                let m: LaneMask = body .< w.average(0) &&& w.upperShadow(0) .> body &&& w.lowerShadow(0) .> body
                return fire(m, positive: w.white(0))
            }
        }
        singleCandle(bars, &out, [.bodyShort], Rule())
    }

    static func cdlstalledpattern(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let advance: LaneMask = w.white(2) &&& w.white(1) &&& w.white(0) &&& w.close(0) .> w.close(1) &&& w.close(1) .> w.close(2)
                let second: LaneMask = w.body(2) .> w.average(0) &&& w.body(1) .> w.average(1) &&& w.upperShadow(1) .< w.average(3)
                    &&& w.open(1) .> w.open(2) &&& w.open(1) .<= w.close(2) + w.average(4)
                let body = w.body(0)
                let third: LaneMask = body .< w.average(2) &&& w.open(0) .>= w.close(1) - body - w.average(5)
                return fire(advance &&& second &&& third, -100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyLong, 1), (.bodyShort, 0), (.shadowVeryShort, 1), (.near, 2), (.near, 1)], Rule())
    }

    static func cdlsticksandwich(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(2) &&& w.white(1) &&& w.black(0) &&& w.low(1) .> w.close(2)
                    &&& w.close(0) .<= w.close(2) + w.average(0) &&& w.close(0) .>= w.close(2) - w.average(0)
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 7, [(.equal, 2)], Rule())
    }

    static func cdltakuri(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(0) .<= w.average(0) &&& w.upperShadow(0) .< w.average(1)
                    &&& w.lowerShadow(0) .> w.own(.shadowVeryLong, 0)
                return fire(m, 100)
            }
        }
        singleCandle(bars, &out, [.bodyDoji, .shadowVeryShort], Rule())
    }

    static func cdltasukigap(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let similar = (w.body(1) - w.body(0)).magnitude .< w.average(0)
                let up: LaneMask = w.bodyGapUp(1, 2) &&& w.white(1) &&& w.black(0) &&& w.open(0) .< w.close(1) &&& w.open(0) .> w.open(1)
                    &&& w.close(0) .< w.open(1) &&& w.close(0) .> w.top(2)
                let down: LaneMask = w.bodyGapDown(1, 2) &&& w.black(1) &&& w.white(0) &&& w.open(0) .< w.open(1) &&& w.open(0) .> w.close(1)
                    &&& w.close(0) .> w.open(1) &&& w.close(0) .< w.bottom(2)
                return fire(up: up &&& similar, down: down &&& similar)
            }
        }
        candles(bars, &out, lookback: 7, [(.near, 1)], Rule())
    }

    static func cdlthrusting(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.black(1) &&& w.body(1) .> w.average(1) &&& w.white(0) &&& w.open(0) .< w.low(1)
                    &&& w.close(0) .> w.close(1) + w.average(0) &&& w.close(0) .<= w.close(1) + w.body(1) * 0.5
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 11, [(.equal, 1), (.bodyLong, 1)], Rule())
    }

    static func cdltristar(_ bars: PatternBars, into out: inout [Int32]) {
        // Three doji, all judged against the average before the first one; the middle one gaps away from the others.
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let doji: LaneMask = w.body(2) .<= w.average(0) &&& w.body(1) .<= w.average(0) &&& w.body(0) .<= w.average(0)
                let top: LaneMask = w.bodyGapUp(1, 2) &&& w.top(0) .< w.top(1)
                let bottom: LaneMask = w.bodyGapDown(1, 2) &&& w.bottom(0) .> w.bottom(1)
                return fire(up: doji &&& bottom, down: doji &&& top)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyDoji, 2)], Rule())
    }

    static func cdlunique3river(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.body(2) .> w.average(0) &&& w.black(2)
                    &&& w.black(1) &&& w.close(1) .> w.close(2) &&& w.open(1) .<= w.open(2) &&& w.low(1) .< w.low(2)
                    &&& w.body(0) .< w.average(1) &&& w.white(0) &&& w.open(0) .> w.low(1)
                return fire(m, 100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 0)], Rule())
    }

    static func cdlupsidegap2crows(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.white(2) &&& w.body(2) .> w.average(0) &&& w.black(1) &&& w.body(1) .<= w.average(1)
                    &&& w.bodyGapUp(1, 2) &&& w.black(0) &&& w.open(0) .> w.open(1) &&& w.close(0) .< w.close(1) &&& w.close(0) .> w.close(2)
                return fire(m, -100)
            }
        }
        candles(bars, &out, lookback: 12, [(.bodyLong, 2), (.bodyShort, 1)], Rule())
    }

    static func cdlxsidegap3methods(_ bars: PatternBars, into out: inout [Int32]) {
        struct Rule: CandleRule {
            @inline(__always) func callAsFunction(_ w: Window) -> LaneValues {
                let m: LaneMask = w.sameColor(2, 1) &&& .!w.sameColor(1, 0)
                    &&& w.open(0) .< w.top(1) &&& w.open(0) .> w.bottom(1) &&& w.close(0) .< w.top(2) &&& w.close(0) .> w.bottom(2)
                let gap: LaneMask = (w.white(2) &&& w.bodyGapUp(1, 2)) ||| (w.black(2) &&& w.bodyGapDown(1, 2))
                return fire(m &&& gap, positive: w.white(2))
            }
        }
        candles(bars, &out, lookback: 2, [], Rule())
    }
}
