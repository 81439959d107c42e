import TradingDomain

extension PlainOHLCVFile {
    /// The usual plain line — the time `YYYY-MM-DDTHH:MM:SSZ`, then five numbers — read without looking for its newline
    /// first, each number of at most 8 digits before and 8 after an optional dot (15 in all, no sign: "100.297671",
    /// Binance's "42000.01000000") found and summed eight bytes at a time, as one 64-bit word each side of the dot. Any
    /// other number (a sign, a longer one) is read by the general rule, `OHLCVCSV.exactDecimalPrefix`, in place. It
    /// gives what `PlainOHLCVFile.line` gives for the line (the same checks, the same mantissa divided by the same power
    /// of ten), or nil, and then `line` reads the line (and refuses it or not). It never reads past `limit`.
    /// (`QuickLineTests` and `PlainOHLCVFileTests` compare it with the general rule, number by number and file by file.)
    enum QuickLine {
        /// The bytes a quick number may look at from its start: its first word and the byte after it, the second word
        /// and the byte after that.
        static let numberSlack = 18

        /// The bytes from the line's start below which no line is read here: the time and its comma (21) and five
        /// quick numbers; a line of this size needs no check of `limit` but the general rule's own.
        static let slack = 21 + 5 * numberSlack

        /// The candle of the line at `from` and where the next line starts, or nil when the line is not of this form
        /// or runs past `limit` (the end of the bytes read so far; at least `slack` bytes from `from`).
        @inline(__always)
        static func read(_ base: UnsafePointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>, at from: Int, limit: Int, day: inout Day,
                         _ rule: LineRule) -> (Candle, next: Int)? {
            guard base[from + 20] == UInt8(ascii: ","), let time = PlainOHLCVFile.time(bytes, from: from, day: &day), rule.times.contains(time) else { return nil }
            // Every number quick (within `slack`), or else each by whichever rule reads it.
            guard let (open, high, low, close, volume, next) = quickNumbers(base, at: from + 21, rule.powers, rule.tens)
                    ?? numbers(base, bytes, at: from + 21, limit: limit, rule.powers, rule.tens) else { return nil }
            guard high >= low, high >= max(open, close), low <= min(open, close), volume >= 0 else { return nil }
            return (Candle(openTime: time, open: open, high: high, low: low, close: close, volume: volume), next)
        }

        typealias Numbers = (open: Double, high: Double, low: Double, close: Double, volume: Double, next: Int)

        /// The line's five numbers from `at`, each quick, and where the next line starts; nil if one is not quick.
        @inline(__always)
        static func quickNumbers(_ base: UnsafePointer<UInt8>, at start: Int, _ powers: [Double], _ tens: [UInt64]) -> Numbers? {
            let comma = UInt8(ascii: ",")
            var at = start
            guard let (open, a) = number(base + at, stop: comma, powers, tens) else { return nil }
            at &+= a &+ 1
            guard let (high, b) = number(base + at, stop: comma, powers, tens) else { return nil }
            at &+= b &+ 1
            guard let (low, c) = number(base + at, stop: comma, powers, tens) else { return nil }
            at &+= c &+ 1
            guard let (close, d) = number(base + at, stop: comma, powers, tens) else { return nil }
            at &+= d &+ 1
            guard let (volume, e) = number(base + at, stop: UInt8(ascii: "\n"), powers, tens) else { return nil }
            return (open, high, low, close, volume, at &+ e &+ 1)
        }

        /// The line's five numbers from `at`, each quick where the bytes before `limit` allow it, else by the general
        /// rule, and where the next line starts; nil where there is no such number before `limit`.
        @inline(never)
        static func numbers(_ base: UnsafePointer<UInt8>, _ bytes: UnsafeBufferPointer<UInt8>, at start: Int, limit: Int,
                            _ powers: [Double], _ tens: [UInt64]) -> Numbers? {
            var at = start
            func field(_ stop: UInt8) -> Double? {
                if limit &- at >= numberSlack, let (value, length) = number(base + at, stop: stop, powers, tens) {
                    at &+= length &+ 1
                    return value
                }
                guard let (value, next) = OHLCVCSV.exactDecimalPrefix(bytes, from: at, to: limit, stop: stop, powers), next < limit,
                      base[next] == stop else { return nil }
                at = next &+ 1
                return value
            }
            let comma = UInt8(ascii: ",")
            guard let open = field(comma), let high = field(comma), let low = field(comma), let close = field(comma),
                  let volume = field(UInt8(ascii: "\n")) else { return nil }
            return (open, high, low, close, volume, at)
        }

        /// The number at `p` ended by `stop`, and its length (the index of `stop`); nil unless it is 1 to 8 digits, then
        /// optionally a dot and 0 to 8 digits, 15 digits at most. Reads the `numberSlack` bytes from `p`.
        @inline(__always)
        static func number(_ p: UnsafePointer<UInt8>, stop: UInt8, _ powers: [Double], _ tens: [UInt64]) -> (Double, Int)? {
            let first = word(p)
            let i = leadingDigits(first)
            guard i > 0 else { return nil }
            let integer = value(first, digits: i)
            let after = p[i]  // a digit when there are more than 8: refused below
            if after == stop { return (Double(Int64(bitPattern: integer)) / powers[0], i) }
            guard after == UInt8(ascii: ".") else { return nil }
            let second = word(p + i + 1)
            let j = leadingDigits(second)
            guard i &+ j <= 15, p[i + 1 + j] == stop else { return nil }
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

        /// The value of the word's first `digits` bytes (ASCII digits, 0 to 8 of them): moved to the word's end behind
        /// zeros, then summed pairwise — two digits, four, eight — in three multiplications.
        @inline(__always)
        static func value(_ w: UInt64, digits: Int) -> UInt64 {
            guard digits > 0 else { return 0 }
            let zeros: UInt64 = 0x3030_3030_3030_3030, shift = UInt64(truncatingIfNeeded: 8 &* digits)
            // (Shifted in two steps so that all eight digits, a shift by 64, leave no zeros behind.)
            var v = (w &<< (64 &- shift)) | ((zeros &>> (shift &- 1)) &>> 1)
            v &-= zeros
            v = v &* 10 &+ (v >> 8)
            let ones = v & 0x0000_00FF_0000_00FF, hundreds = (v >> 16) & 0x0000_00FF_0000_00FF
            return (ones &* (100 &+ (1_000_000 << 32)) &+ hundreds &* (1 &+ (10_000 << 32))) >> 32
        }
    }
}
