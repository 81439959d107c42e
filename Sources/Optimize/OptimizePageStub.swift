// TEMPORARY until the page branch lands.
public enum OptimizePage { public static func render(_ report: OptimizeReport, x: Int?, y: Int?, top: Int = 20, time: (Int64) -> String) -> String { "" } }
