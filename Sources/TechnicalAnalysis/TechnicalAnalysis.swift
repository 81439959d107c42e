/// Technical analysis with TA-Lib's conventions: indicators over `Double` arrays
/// (NaN during the warm-up exactly where TA-Lib has no value), all 61 candlestick
/// patterns (TA-Lib's integer per bar), and chart structure (pivots, levels, breakouts, trend).
///
/// Pure: no I/O, no clock, no global state.
public enum TechnicalAnalysis {}
