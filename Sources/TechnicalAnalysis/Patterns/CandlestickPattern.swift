/// The 61 candlestick patterns of TA-Lib, in the column order of the golden file.
/// The raw value is the column name (`cdl2crows` ... `cdlxsidegap3methods`).
public enum CandlestickPattern: String, CaseIterable, Sendable {
    case cdl2crows
    case cdl3blackcrows
    case cdl3inside
    case cdl3linestrike
    case cdl3outside
    case cdl3starsinsouth
    case cdl3whitesoldiers
    case cdlabandonedbaby
    case cdladvanceblock
    case cdlbelthold
    case cdlbreakaway
    case cdlclosingmarubozu
    case cdlconcealbabyswall
    case cdlcounterattack
    case cdldarkcloudcover
    case cdldoji
    case cdldojistar
    case cdldragonflydoji
    case cdlengulfing
    case cdleveningdojistar
    case cdleveningstar
    case cdlgapsidesidewhite
    case cdlgravestonedoji
    case cdlhammer
    case cdlhangingman
    case cdlharami
    case cdlharamicross
    case cdlhighwave
    case cdlhikkake
    case cdlhikkakemod
    case cdlhomingpigeon
    case cdlidentical3crows
    case cdlinneck
    case cdlinvertedhammer
    case cdlkicking
    case cdlkickingbylength
    case cdlladderbottom
    case cdllongleggeddoji
    case cdllongline
    case cdlmarubozu
    case cdlmatchinglow
    case cdlmathold
    case cdlmorningdojistar
    case cdlmorningstar
    case cdlonneck
    case cdlpiercing
    case cdlrickshawman
    case cdlrisefall3methods
    case cdlseparatinglines
    case cdlshootingstar
    case cdlshortline
    case cdlspinningtop
    case cdlstalledpattern
    case cdlsticksandwich
    case cdltakuri
    case cdltasukigap
    case cdlthrusting
    case cdltristar
    case cdlunique3river
    case cdlupsidegap2crows
    case cdlxsidegap3methods
}

extension CandlestickPattern {
    /// TA-Lib's integer per bar for this pattern (0 where it does not fire or during the warm-up).
    public func compute(_ bars: PatternBars) -> [Int32] {
        var out = [Int32](repeating: 0, count: bars.count)
        compute(bars, into: &out)
        return out
    }

    /// Writes TA-Lib's integer per bar into `out` (which must hold `bars.count` values).
    public func compute(_ bars: PatternBars, into out: inout [Int32]) {
        switch self {
        case .cdl2crows: CandlestickPatterns.cdl2crows(bars, into: &out)
        case .cdl3blackcrows: CandlestickPatterns.cdl3blackcrows(bars, into: &out)
        case .cdl3inside: CandlestickPatterns.cdl3inside(bars, into: &out)
        case .cdl3linestrike: CandlestickPatterns.cdl3linestrike(bars, into: &out)
        case .cdl3outside: CandlestickPatterns.cdl3outside(bars, into: &out)
        case .cdl3starsinsouth: CandlestickPatterns.cdl3starsinsouth(bars, into: &out)
        case .cdl3whitesoldiers: CandlestickPatterns.cdl3whitesoldiers(bars, into: &out)
        case .cdlabandonedbaby: CandlestickPatterns.cdlabandonedbaby(bars, into: &out)
        case .cdladvanceblock: CandlestickPatterns.cdladvanceblock(bars, into: &out)
        case .cdlbelthold: CandlestickPatterns.cdlbelthold(bars, into: &out)
        case .cdlbreakaway: CandlestickPatterns.cdlbreakaway(bars, into: &out)
        case .cdlclosingmarubozu: CandlestickPatterns.cdlclosingmarubozu(bars, into: &out)
        case .cdlconcealbabyswall: CandlestickPatterns.cdlconcealbabyswall(bars, into: &out)
        case .cdlcounterattack: CandlestickPatterns.cdlcounterattack(bars, into: &out)
        case .cdldarkcloudcover: CandlestickPatterns.cdldarkcloudcover(bars, into: &out)
        case .cdldoji: CandlestickPatterns.cdldoji(bars, into: &out)
        case .cdldojistar: CandlestickPatterns.cdldojistar(bars, into: &out)
        case .cdldragonflydoji: CandlestickPatterns.cdldragonflydoji(bars, into: &out)
        case .cdlengulfing: CandlestickPatterns.cdlengulfing(bars, into: &out)
        case .cdleveningdojistar: CandlestickPatterns.cdleveningdojistar(bars, into: &out)
        case .cdleveningstar: CandlestickPatterns.cdleveningstar(bars, into: &out)
        case .cdlgapsidesidewhite: CandlestickPatterns.cdlgapsidesidewhite(bars, into: &out)
        case .cdlgravestonedoji: CandlestickPatterns.cdlgravestonedoji(bars, into: &out)
        case .cdlhammer: CandlestickPatterns.cdlhammer(bars, into: &out)
        case .cdlhangingman: CandlestickPatterns.cdlhangingman(bars, into: &out)
        case .cdlharami: CandlestickPatterns.cdlharami(bars, into: &out)
        case .cdlharamicross: CandlestickPatterns.cdlharamicross(bars, into: &out)
        case .cdlhighwave: CandlestickPatterns.cdlhighwave(bars, into: &out)
        case .cdlhikkake: CandlestickPatterns.cdlhikkake(bars, into: &out)
        case .cdlhikkakemod: CandlestickPatterns.cdlhikkakemod(bars, into: &out)
        case .cdlhomingpigeon: CandlestickPatterns.cdlhomingpigeon(bars, into: &out)
        case .cdlidentical3crows: CandlestickPatterns.cdlidentical3crows(bars, into: &out)
        case .cdlinneck: CandlestickPatterns.cdlinneck(bars, into: &out)
        case .cdlinvertedhammer: CandlestickPatterns.cdlinvertedhammer(bars, into: &out)
        case .cdlkicking: CandlestickPatterns.cdlkicking(bars, into: &out)
        case .cdlkickingbylength: CandlestickPatterns.cdlkickingbylength(bars, into: &out)
        case .cdlladderbottom: CandlestickPatterns.cdlladderbottom(bars, into: &out)
        case .cdllongleggeddoji: CandlestickPatterns.cdllongleggeddoji(bars, into: &out)
        case .cdllongline: CandlestickPatterns.cdllongline(bars, into: &out)
        case .cdlmarubozu: CandlestickPatterns.cdlmarubozu(bars, into: &out)
        case .cdlmatchinglow: CandlestickPatterns.cdlmatchinglow(bars, into: &out)
        case .cdlmathold: CandlestickPatterns.cdlmathold(bars, into: &out)
        case .cdlmorningdojistar: CandlestickPatterns.cdlmorningdojistar(bars, into: &out)
        case .cdlmorningstar: CandlestickPatterns.cdlmorningstar(bars, into: &out)
        case .cdlonneck: CandlestickPatterns.cdlonneck(bars, into: &out)
        case .cdlpiercing: CandlestickPatterns.cdlpiercing(bars, into: &out)
        case .cdlrickshawman: CandlestickPatterns.cdlrickshawman(bars, into: &out)
        case .cdlrisefall3methods: CandlestickPatterns.cdlrisefall3methods(bars, into: &out)
        case .cdlseparatinglines: CandlestickPatterns.cdlseparatinglines(bars, into: &out)
        case .cdlshootingstar: CandlestickPatterns.cdlshootingstar(bars, into: &out)
        case .cdlshortline: CandlestickPatterns.cdlshortline(bars, into: &out)
        case .cdlspinningtop: CandlestickPatterns.cdlspinningtop(bars, into: &out)
        case .cdlstalledpattern: CandlestickPatterns.cdlstalledpattern(bars, into: &out)
        case .cdlsticksandwich: CandlestickPatterns.cdlsticksandwich(bars, into: &out)
        case .cdltakuri: CandlestickPatterns.cdltakuri(bars, into: &out)
        case .cdltasukigap: CandlestickPatterns.cdltasukigap(bars, into: &out)
        case .cdlthrusting: CandlestickPatterns.cdlthrusting(bars, into: &out)
        case .cdltristar: CandlestickPatterns.cdltristar(bars, into: &out)
        case .cdlunique3river: CandlestickPatterns.cdlunique3river(bars, into: &out)
        case .cdlupsidegap2crows: CandlestickPatterns.cdlupsidegap2crows(bars, into: &out)
        case .cdlxsidegap3methods: CandlestickPatterns.cdlxsidegap3methods(bars, into: &out)
        }
    }
}
