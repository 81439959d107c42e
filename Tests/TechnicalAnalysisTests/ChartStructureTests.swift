import Testing
@testable import TechnicalAnalysis

@Suite("Chart structure")
struct ChartStructureTests {
    @Test func swingHighsAndLowsNeedTheirWindowOnBothSides() {
        //              0    1    2    3    4    5    6    7    8
        let high: [Double] = [10, 11, 14, 12, 11, 12, 13, 12, 11]
        let low: [Double] = [9, 10, 12, 10, 8, 10, 11, 10, 9]
        let s = ChartStructure.swings(high: high, low: low, window: 2)
        #expect(s.highs == [2, 6])
        #expect(s.lows == [4])
        // With a wider window the high at 2 has too few bars on its left.
        #expect(ChartStructure.swings(high: high, low: low, window: 3).highs.isEmpty)
        // An equal high to the left disqualifies; to the right it does not.
        #expect(ChartStructure.swings(high: [1, 5, 3, 5, 1], low: [0, 0, 0, 0, 0], window: 1).highs == [1, 3])
        #expect(ChartStructure.swings(high: [5, 5, 1], low: [0, 0, 0], window: 1).highs.isEmpty)
    }

    @Test func levelsClusterNearbyPivots() {
        let levels = ChartStructure.levels([100, 100.4, 99.8, 110, 120, 120.2], tolerance: 0.5)
        #expect(levels.first?.touches == 3)
        #expect(abs((levels.first?.price ?? 0) - 100.066_666_666_666_66) < 1e-9)
        #expect(levels.count == 3)
        #expect(ChartStructure.levels([100, 103], tolerance: 0.5).count == 2)
    }

    /// A range with resistance at 110 (three touches) and support at 100, then a close through one of them.
    func range(lastClose: Double) -> (high: [Double], low: [Double], close: [Double]) {
        var high: [Double] = [], low: [Double] = [], close: [Double] = []
        for i in 0..<30 {
            let top = i % 8 == 4
            let bottom = i % 8 == 0
            high.append(top ? 110 : 106)
            low.append(bottom ? 100 : 104)
            close.append(105)
        }
        high.append(max(lastClose, 106))
        low.append(min(lastClose, 104))
        close.append(lastClose)
        return (high, low, close)
    }

    @Test func breakoutsThroughLevelsFireOnlyBeyondTheMargin() {
        let up = range(lastClose: 111)
        let s = ChartStructure.summary(high: up.high, low: up.low, close: up.close, adx: 10, emaSlope: 0, atr: 2, pivotWindow: 2)
        #expect(s.resistance?.price == 110)
        #expect(s.support?.price == 100)
        #expect(s.breakout == 1)
        let inside = range(lastClose: 110.1)  // beyond the level but not by 0.1 ATR
        #expect(ChartStructure.summary(high: inside.high, low: inside.low, close: inside.close, adx: 10, emaSlope: 0, atr: 2, pivotWindow: 2).breakout == 0)
        let down = range(lastClose: 99)
        #expect(ChartStructure.summary(high: down.high, low: down.low, close: down.close, adx: 10, emaSlope: 0, atr: 2, pivotWindow: 2).breakout == -1)
        let flat = range(lastClose: 105)
        #expect(ChartStructure.summary(high: flat.high, low: flat.low, close: flat.close, adx: 10, emaSlope: 0, atr: 2, pivotWindow: 2).breakout == 0)
    }

    @Test func trendRegimeFromADXAndSlope() {
        #expect(ChartStructure.regime(adx: 30, emaSlope: 0.5) == 1)
        #expect(ChartStructure.regime(adx: 30, emaSlope: -0.5) == -1)
        #expect(ChartStructure.regime(adx: 24.9, emaSlope: 0.5) == 0)
        #expect(ChartStructure.regime(adx: .nan, emaSlope: 0.5) == 0)
    }
}
