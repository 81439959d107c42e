import TradingDomain

extension PlainOHLCVFile {
    /// The usual plain line — the time, then five numbers of at most 7 digits before and 7 after an optional dot, no
    /// sign — read eight bytes at a time: each number's digits are found and summed as one 64-bit word (the digits of
    /// "100.297671" in two steps, not ten). It gives what `PlainOHLCVFile.line` gives for such a line (the same checks,
    /// the same mantissa divided by the same power of ten), and nil for any other line, which `line` then reads (and
    /// refuses or not). It reads at most `slack` bytes from the line's start, so it is asked only where the block
    /// holds that many. (`PlainOHLCVFileTests` compares it with the general rule, number by number and file by file.)
    enum QuickLine {
        /// The most bytes a read looks at from the line's start: the time and its comma (21), then 16 per number (its
        /// first word, the byte after it, the second word, the byte after that).
        static let slack = 21 + 5 * 16

        /// The candle of the line at `from` and where the next line starts, or nil when the line is not of this form.
        @inline(__always)
        static func read(_ base: UnsafePointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>, at from: Int, day: inout Day, _ rule: LineRule) -> (Candle, next: Int)? {
            guard base[from + 20] == UInt8(ascii: ","), let time = PlainOHLCVFile.time(bytes, from: from, day: &day), rule.times.contains(time) else { return nil }
            var p = base + from + 21
            let comma = UInt8(ascii: ","), powers = rule.powers, tens = rule.tens
            guard let (open, a) = number(p, stop: comma, powers, tens) else { return nil }
            p += a + 1
            guard let (high, b) = number(p, stop: comma, powers, tens) else { return nil }
            p += b + 1
            guard let (low, c) = number(p, stop: comma, powers, tens) else { return nil }
            p += c + 1
            guard let (close, d) = number(p, stop: comma, powers, tens) else { return nil }
            p += d + 1
            guard let (volume, e) = number(p, stop: UInt8(ascii: "\n"), powers, tens) else { return nil }
            p += e + 1
            guard high >= low, high >= max(open, close), low <= min(open, close) else { return nil }
            return (Candle(openTime: time, open: open, high: high, low: low, close: close, volume: volume), base.distance(to: p))
        }

        /// The number at `p` ended by `stop`, and its length (the index of `stop`); nil unless it is 1 to 7 digits,
        /// then optionally a dot and 0 to 7 digits. Reads the 16 bytes from `p`.
        @inline(__always)
        static func number(_ p: UnsafePointer<UInt8>, stop: UInt8, _ powers: [Double], _ tens: [UInt64]) -> (Double, Int)? {
            let first = word(p)
            let i = leadingDigits(first)
            guard i > 0, i < 8 else { return nil }
            let integer = value(first, digits: i)
            let after = p[i]
            if after == stop { return (Double(Int64(bitPattern: integer)) / powers[0], i) }
            guard after == UInt8(ascii: ".") else { return nil }
            let second = word(p + i + 1)
            let j = leadingDigits(second)
            guard j < 8, p[i + 1 + j] == stop else { return nil }
            let mantissa = integer &* tens[j] &+ value(second, digits: j)
            return (Double(Int64(bitPattern: mantissa)) / powers[j], i + 1 + j)
        }

        /// The eight bytes at `p`, the first in the lowest byte.
        @inline(__always)
        static func word(_ p: UnsafePointer<UInt8>) -> UInt64 {
            UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
        }

        /// How many of the word's bytes, from the first, are ASCII digits (0 to 8). A digit's high half is 3 and
        /// stays 3 when 6 is added to it; any other byte's does not. (Adding 6 carries out of a byte only from one that is
        /// not a digit, so the bytes up to the first that is not are judged right.)
        @inline(__always)
        static func leadingDigits(_ w: UInt64) -> Int {
            let high: UInt64 = 0xF0F0_F0F0_F0F0_F0F0, threes: UInt64 = 0x3030_3030_3030_3030
            let other = ((w & high) ^ threes) | (((w &+ 0x0606_0606_0606_0606) & high) ^ threes)
            return other.trailingZeroBitCount &>> 3
        }

        /// The value of the word's first `digits` bytes (ASCII digits, 0 to 7 of them): moved to the word's end behind
        /// zeros, then summed pairwise — two digits, four, eight — in three multiplications.
        @inline(__always)
        static func value(_ w: UInt64, digits: Int) -> UInt64 {
            guard digits > 0 else { return 0 }
            let zeros: UInt64 = 0x3030_3030_3030_3030, shift = UInt64(truncatingIfNeeded: 8 &* digits)
            var v = (w &<< (64 &- shift)) | (zeros &>> shift)
            v &-= zeros
            v = v &* 10 &+ (v >> 8)
            let ones = v & 0x0000_00FF_0000_00FF, hundreds = (v >> 16) & 0x0000_00FF_0000_00FF
            return (ones &* (100 &+ (1_000_000 << 32)) &+ hundreds &* (1 &+ (10_000 << 32))) >> 32
        }
    }
}
