/// Sums over a sliding window where each window is summed on its own, in its own order (`0 + x[t] + x[t+1] + …`), so
/// that every value is bit for bit what a plain loop over that one window gives. Eight windows side by side in SIMD
/// lanes (each lane does the same additions as the plain loop), the rest one at a time.
public enum WindowSums {
    /// `out[t] = x[t] + … + x[t + period − 1]`, added from 0 in that order, for `t` in `0..<count`.
    public static func sums(_ x: UnsafePointer<Double>, count: Int, period: Int, into out: UnsafeMutablePointer<Double>) {
        var t = 0
        while t &+ 8 <= count {
            var sum = SIMD8<Double>()
            for k in 0..<period { sum += UnsafeRawPointer(x + (t &+ k)).loadUnaligned(as: SIMD8<Double>.self) }
            UnsafeMutableRawPointer(out + t).storeBytes(of: sum, as: SIMD8<Double>.self)
            t &+= 8
        }
        while t < count {
            var sum = 0.0
            for k in 0..<period { sum += x[t &+ k] }
            out[t] = sum
            t &+= 1
        }
    }

    /// `out[t] = (x[t] − mean[t])² + … + (x[t + period − 1] − mean[t])²`, added from 0 in that order, each square
    /// as `(x − m) × (x − m)`, for `t` in `0..<count`.
    public static func squaredDeviations(_ x: UnsafePointer<Double>, means mean: UnsafePointer<Double>, count: Int, period: Int,
                                         into out: UnsafeMutablePointer<Double>) {
        var t = 0
        while t &+ 8 <= count {
            let m = UnsafeRawPointer(mean + t).loadUnaligned(as: SIMD8<Double>.self)
            var sum = SIMD8<Double>()
            for k in 0..<period {
                let d = UnsafeRawPointer(x + (t &+ k)).loadUnaligned(as: SIMD8<Double>.self) - m
                sum += d * d
            }
            UnsafeMutableRawPointer(out + t).storeBytes(of: sum, as: SIMD8<Double>.self)
            t &+= 8
        }
        while t < count {
            var sum = 0.0
            for k in 0..<period { sum += (x[t &+ k] - mean[t]) * (x[t &+ k] - mean[t]) }
            out[t] = sum
            t &+= 1
        }
    }
}
