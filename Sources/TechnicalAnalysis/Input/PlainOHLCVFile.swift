import Foundation
import TradingDomain

/// The shape nearly every OHLCV CSV has — the header `time,open,high,low,close,volume`, then lines of exactly six
/// fields ending in `\n`: a time `YYYY-MM-DDTHH:MM:SSZ` and five plain decimals (`[-]digits[.digits]`, no spaces) —
/// read in one pass over the bytes, a block at a time like `OHLCVCSV.read`. It gives the candles `OHLCVCSV` gives for
/// such a file (the same checks, the same correctly rounded doubles: `OHLCVCSV.exactDecimal`'s rule), and nil for any
/// file it does not vouch for — another shape, a value the rule does not cover, anything `OHLCVCSV` would refuse —
/// which `CSVMarket.load` then reads the general way, with its messages. (`PlainOHLCVFileTests` compares the two.)
public enum PlainOHLCVFile {
    static let header = Array("time,open,high,low,close,volume\n".utf8)

    /// The file's candles, or nil when it is not of this shape or `OHLCVCSV` would refuse it.
    public static func candles(path: String, blockSize: Int = 1 << 20) -> [Candle]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var result: [Candle] = []
        var status = stat()
        if fstat(fileno(file), &status) == 0, status.st_size > 0 { result.reserveCapacity(Int(status.st_size) / 48) }
        var buffer = [UInt8](repeating: 0, count: max(256, blockSize) + 1)
        var held = 0  // bytes at the start of `buffer` not parsed yet (an incomplete last line)
        var sawHeader = false
        var previous = Int64.min
        var day = Day()
        while true {
            if held >= buffer.count - 1 { return nil }  // a line longer than a block: not this shape
            let got = buffer.withUnsafeMutableBufferPointer { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return fread(base + held, 1, b.count - 1 - held, file)
            }
            if got == 0, ferror(file) != 0 { return nil }
            let final = got == 0
            var available = held + got
            if final {
                guard held > 0 else { break }
                buffer[available] = UInt8(ascii: "\n")  // the last line without its newline
                available += 1
            }
            let used: Int? = buffer.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress else { return nil }
                let bytes = UnsafeBufferPointer(rebasing: b[..<available])
                var pos = 0
                if !sawHeader {
                    guard available >= header.count else { return final ? nil : 0 }
                    for k in 0..<header.count where base[k] != header[k] { return nil }
                    sawHeader = true
                    pos = header.count
                }
                while let lineEnd = memchr(base + pos, Int32(UInt8(ascii: "\n")), available - pos) {
                    let end = base.distance(to: lineEnd.assumingMemoryBound(to: UInt8.self))
                    guard let candle = line(bytes, from: pos, to: end, day: &day), candle.openTime > previous else { return nil }
                    previous = candle.openTime
                    result.append(candle)
                    pos = end + 1
                }
                return pos
            }
            guard let used else { return nil }
            if final { break }
            held = available - used
            if held > 0, used > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    guard let base = b.baseAddress else { return }
                    _ = memmove(base, base + used, held)
                }
            }
        }
        return sawHeader && !result.isEmpty ? result : nil
    }

    /// The date (`YYYY-MM-DDT`, 11 bytes) of the last time read, and its midnight: the lines of a day share it, so only
    /// their time of day is read (with the checks `Timestamp.plainUTCMilliseconds` makes of it).
    struct Day {
        var bytes0 = UInt64.max, bytes7 = UInt32.max
        var midnight: Int64 = 0
        var known = false
    }

    /// `Timestamp.plainUTCMilliseconds` of the 20 bytes at `from`, the date taken from `day` when it is the same.
    @inline(__always)
    static func time(_ b: UnsafeBufferPointer<UInt8>, from: Int, day: inout Day) -> Int64? {
        guard let base = b.baseAddress else { return nil }
        let raw = UnsafeRawPointer(base + from)
        let bytes0 = raw.loadUnaligned(as: UInt64.self), bytes7 = raw.loadUnaligned(fromByteOffset: 7, as: UInt32.self)
        if day.known, bytes0 == day.bytes0, bytes7 == day.bytes7 {
            @inline(__always) func two(_ k: Int) -> Int? {
                let high = Int(base[from + k]) - 48, low = Int(base[from + k + 1]) - 48
                return high >= 0 && high <= 9 && low >= 0 && low <= 9 ? high * 10 + low : nil
            }
            guard base[from + 13] == UInt8(ascii: ":"), base[from + 16] == UInt8(ascii: ":"), base[from + 19] == UInt8(ascii: "Z"),
                  let hour = two(11), let minute = two(14), let second = two(17), hour < 24, minute < 60, second < 60 else { return nil }
            return day.midnight + Int64((hour * 60 + minute) * 60 + second) * 1000
        }
        guard let time = Timestamp.plainUTCMilliseconds(UnsafeBufferPointer(rebasing: b[from..<from + 20])) else { return nil }
        let msPerDay: Int64 = 86_400_000
        day = Day(bytes0: bytes0, bytes7: bytes7, midnight: time - ((time % msPerDay) + msPerDay) % msPerDay, known: true)
        return time
    }

    /// One data line (`from` ..< `to`, without its newline) as a candle, with `OHLCVCSV`'s checks; nil otherwise.
    @inline(__always)
    static func line(_ b: UnsafeBufferPointer<UInt8>, from: Int, to end: Int, day: inout Day) -> Candle? {
        guard end - from > 21, b[from + 20] == UInt8(ascii: ","),
              let time = time(b, from: from, day: &day),
              Timestamp.validRange.contains(time) else { return nil }
        var pos = from + 21
        guard let open = number(b, &pos, end, last: false), let high = number(b, &pos, end, last: false),
              let low = number(b, &pos, end, last: false), let close = number(b, &pos, end, last: false),
              let volume = number(b, &pos, end, last: true) else { return nil }
        guard high >= low, high >= max(open, close), low <= min(open, close), volume >= 0 else { return nil }
        return Candle(openTime: time, open: open, high: high, low: low, close: close, volume: volume)
    }

    /// The field from `pos` to the next comma (or, for the `last` field, to `end`) by `OHLCVCSV.exactDecimal`'s rule,
    /// moving `pos` past the comma. Nil for anything else.
    @inline(__always)
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ pos: inout Int, _ end: Int, last: Bool) -> Double? {
        guard let (value, next) = OHLCVCSV.exactDecimalPrefix(b, from: pos, to: end, stop: last ? 0 : UInt8(ascii: ",")),
              last ? next == end : next < end else { return nil }
        pos = next + 1
        return value
    }
}
