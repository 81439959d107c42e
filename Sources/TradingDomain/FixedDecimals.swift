import Foundation

/// Doubles written with a fixed number of decimals, as `String(format: "%.<n>f", x)` writes them, without Foundation's
/// formatter (whose first use looks up protocol conformances at run time, about 0.25 ms of a cycle).
public enum FixedDecimals {
    /// `x` with `decimals` (0…9) digits after the point: its exact binary value rounded half to even, as glibc's
    /// `printf` rounds. Values outside what it covers (not finite, 1e15 or more in size, more decimals) are written by
    /// `String(format:)` itself.
    public static func text(_ x: Double, decimals: Int) -> String {
        guard x.isFinite, abs(x) < 1e15, (0...9).contains(decimals) else { return String(format: "%.\(decimals)f", x) }
        var scale: UInt64 = 1
        for _ in 0..<decimals { scale *= 10 }
        // |x| = significand × 2^exponent exactly, the significand below 2^53; below 1e15 the exponent is negative.
        let magnitude = x.magnitude
        guard magnitude.isNormal else {
            guard magnitude == 0 else { return String(format: "%.\(decimals)f", x) }  // subnormal: far below any decimal shown
            return (x.sign == .minus ? "-" : "") + Self.digits(0, scale: scale, decimals: decimals)
        }
        let significand = magnitude.significandBitPattern | 1 << 52
        let shift = 52 - Int(magnitude.exponent)
        guard shift > 0, shift < 128 else { return String(format: "%.\(decimals)f", x) }
        // significand × scale in 128 bits, shifted right by `shift`, rounded half to even on the bits shifted out.
        let product = significand.multipliedFullWidth(by: scale)
        let wide = UInt128(product.high) << 64 | UInt128(product.low)
        let quotient = wide >> shift
        let remainder = wide - (quotient << shift), half = UInt128(1) << (shift - 1)
        let rounded = remainder > half || (remainder == half && quotient & 1 == 1) ? quotient + 1 : quotient
        guard rounded <= UInt128(UInt64.max) else { return String(format: "%.\(decimals)f", x) }
        return (x.sign == .minus ? "-" : "") + Self.digits(UInt64(rounded), scale: scale, decimals: decimals)
    }

    /// `scaled / scale` written with `decimals` digits after the point.
    static func digits(_ scaled: UInt64, scale: UInt64, decimals: Int) -> String {
        var text = String(scaled / scale)
        guard decimals > 0 else { return text }
        let fraction = String(scaled % scale)
        text += "."
        text += String(repeating: "0", count: decimals - fraction.count)
        text += fraction
        return text
    }
}
