import Foundation
import TradingDomain

/// The shape nearly every OHLCV CSV has — the header `time,open,high,low,close,volume`, then lines of exactly six
/// fields ending in `\n`: a time `YYYY-MM-DDTHH:MM:SSZ` and five plain decimals (`[-]digits[.digits]`, no spaces) —
/// read straight from the bytes, a block at a time like `OHLCVCSV.read`. It gives the candles `OHLCVCSV` gives for
/// such a file (the same checks, the same correctly rounded doubles: `OHLCVCSV.exactDecimal`'s rule), and nil for any
/// file it does not vouch for — another shape, a value the rule does not cover, anything `OHLCVCSV` would refuse, a
/// file that is not a regular file — which `CSVMarket.load` then reads the general way, with its messages.
/// A large file is read in chunks on several threads, split at line starts; each chunk's candles go straight to their
/// place in the result (the thread of chunk j first counts the lines before it), and the open times must increase
/// across each seam too, so the result is the one-thread reading's. (`PlainOHLCVFileTests` compares them all.)
public enum PlainOHLCVFile {
    static let header = Array("time,open,high,low,close,volume\n".utf8)

    /// The fewest bytes per chunk when a file is split (smaller files are read on one thread).
    static let minimumChunkBytes = 4 << 20

    /// The fewest bytes a data line of this shape takes: the time and its comma (21), five one-digit numbers and their
    /// four commas (9), and its newline — which bounds the number of candles a file can hold.
    static let minimumLineBytes = 31

    /// The file's candles, or nil when it is not of this shape or `OHLCVCSV` would refuse it. `chunks`: how many
    /// pieces to read concurrently (default: one per core, at most 4, none under `minimumChunkBytes`).
    public static func candles(path: String, blockSize: Int = 1 << 20, chunks: Int? = nil) -> [Candle]? {
        candles(path: path, blockSize: blockSize) { size in splits(from: header.count, size: size, chunks: chunks ?? defaultChunks(size: size)) }
    }

    /// The file's candles read in chunks split at the first line start at or after each of `splits(size)` (file offsets).
    static func candles(path: String, blockSize: Int, splits: (Int) -> [Int]) -> [Candle]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        let size = Int(status.st_size), block = max(256, blockSize)
        guard size > header.count else { return nil }
        var head = [UInt8](repeating: 0, count: header.count)
        guard head.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, header.count, 0) }) == header.count, head == header else { return nil }
        let bounds = seams(fd, from: header.count, size: size, splits: splits(size))
        let capacity = (size - header.count + 1) / minimumLineBytes + 1
        var failed = false
        let result = [Candle](unsafeUninitializedCapacity: capacity) { out, initialized in
            guard let base = out.baseAddress else { failed = true; return }
            if size >= hugePagesFromBytes { adviseHugePages(UnsafeMutableRawPointer(base), bytes: capacity * MemoryLayout<Candle>.stride) }
            let pieces = bounds.count - 1
            // Per chunk: where its candles start (the lines before it) and how many it wrote; -1: refused.
            let report = UnsafeMutableBufferPointer<Int>.allocate(capacity: 2 * pieces)
            defer { report.deallocate() }
            report.initialize(repeating: -1)
            let shared = Shared(out: base, capacity: capacity, report: report)
            DispatchQueue.concurrentPerform(iterations: pieces) { j in
                let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: block)
                defer { buffer.deallocate() }
                guard let before = j == 0 ? 0 : newlines(fd, from: bounds[0], to: bounds[j], buffer: buffer), before < shared.capacity,
                      let count = parse(fd, from: bounds[j], to: bounds[j + 1], atEnd: j == pieces - 1, buffer: buffer,
                                        into: shared.out + before, capacity: shared.capacity - before) else { return }
                shared.report[2 * j] = before
                shared.report[2 * j + 1] = count
            }
            var total = 0
            for j in 0..<pieces {
                // Each chunk read, right after the one before it, its first time after that one's last.
                guard report[2 * j] == total, report[2 * j + 1] > 0 else { failed = true; return }
                if j > 0, base[total].openTime <= base[total - 1].openTime { failed = true; return }
                total += report[2 * j + 1]
            }
            initialized = total
        }
        return failed || result.isEmpty ? nil : result
    }

    /// The smallest file whose candles get huge pages (a partly written last huge page is resident whole: at most
    /// 2 MiB more, small beside the candles of such a file).
    static let hugePagesFromBytes = 16 << 20

    /// Asks the kernel for huge pages for the whole 2 MiB pages in `bytes` at `start` (the result's storage, written
    /// once from start to end): a fault per 2 MiB instead of per 4 KiB. Only the pages written are ever resident.
    static func adviseHugePages(_ start: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let huge = 2 << 20
        let first = (Int(bitPattern: start) + huge - 1) / huge * huge, last = (Int(bitPattern: start) + bytes) / huge * huge
        if last > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) { _ = madvise(aligned, last - first, MADV_HUGEPAGE) }
        #endif
    }

    /// What the chunks' threads share: the result's storage and each chunk's report (each thread writes its own
    /// places only).
    struct Shared: @unchecked Sendable {
        let out: UnsafeMutablePointer<Candle>
        let capacity: Int
        let report: UnsafeMutableBufferPointer<Int>
    }

    /// One chunk per core, at most 4, each at least `minimumChunkBytes`.
    static func defaultChunks(size: Int) -> Int {
        let cores = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, min(cores, 4, size / minimumChunkBytes))
    }

    /// Where to split `from..<size` into `chunks`: chunk j's thread first counts the lines before it (reading and
    /// counting a byte costs about a fifth of parsing it), so the chunks shrink by that much one after another to end
    /// together.
    static func splits(from: Int, size: Int, chunks: Int) -> [Int] {
        guard chunks > 1 else { return [] }
        let weights = (0..<chunks).map { pow(0.8, Double($0)) }
        let total = weights.reduce(0, +)
        var sum = 0.0
        return weights.dropLast().map { weight in
            sum += weight
            return from + Int(Double(size - from) * sum / total)
        }
    }

    /// The chunks' bounds in the file: `from`, the first line start at or after each split (in order, each once, within
    /// the file), and `size`. A split with no newline near it is dropped (such a long line is not of this shape anyway).
    static func seams(_ fd: Int32, from: Int, size: Int, splits: [Int]) -> [Int] {
        var bounds = [from]
        var window = [UInt8](repeating: 0, count: 512)
        for split in splits where split > from && split < size {
            // Just past the first newline at or after split − 1.
            let got = window.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(split - 1)) }
            guard got > 0, let newline = window[..<got].firstIndex(of: UInt8(ascii: "\n")) else { continue }
            let start = split + newline
            if let last = bounds.last, start > last, start < size { bounds.append(start) }
        }
        return bounds + [size]
    }

    /// The number of newlines in bytes `from..<to` of the file, read through `buffer`; nil when the file does not give them.
    static func newlines(_ fd: Int32, from: Int, to: Int, buffer: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        var offset = from, count = 0
        while offset < to {
            let got = pread(fd, base, min(buffer.count, to - offset), off_t(offset))
            guard got > 0 else { return nil }
            count += newlineCount(UnsafeRawPointer(base), got)
            offset += got
        }
        return count
    }

    /// The newlines among `count` bytes at `p`, 16 at a time.
    @inline(__always)
    static func newlineCount(_ p: UnsafeRawPointer, _ count: Int) -> Int {
        let newline = SIMD16<UInt8>(repeating: UInt8(ascii: "\n")), zero = SIMD16<UInt8>(), one = SIMD16<UInt8>(repeating: 1)
        var total = 0, i = 0
        while i + 16 <= count {
            var lanes = zero  // each lane counts at most 255 groups
            let stop = min(count, i + 255 * 16)
            while i + 16 <= stop {
                lanes &+= zero.replacing(with: one, where: p.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self) .== newline)
                i += 16
            }
            total += Int(SIMD16<UInt16>(truncatingIfNeeded: lanes).wrappedSum())
        }
        while i < count {
            if p.load(fromByteOffset: i, as: UInt8.self) == UInt8(ascii: "\n") { total += 1 }
            i += 1
        }
        return total
    }

    /// Parses the lines of bytes `from..<to` of the file (`from` a line start; `to` just past a newline, or the file's
    /// end when `atEnd`, where the last line may lack its newline) into `out`, read a block at a time through `buffer`:
    /// the number of candles written, or nil when a line is not of this shape, the times do not increase, there are
    /// more than `capacity`, or the file does not give those bytes.
    static func parse(_ fd: Int32, from: Int, to end: Int, atEnd: Bool, buffer: UnsafeMutableBufferPointer<UInt8>,
                      into out: UnsafeMutablePointer<Candle>, capacity: Int) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        var offset = from
        var held = 0  // bytes at the start of `buffer` not parsed yet (an incomplete line)
        var count = 0
        var previous = Int64.min
        var day = Day()
        let rule = LineRule()
        while true {
            let want = min(buffer.count - held, end - offset)
            guard want > 0 || offset == end else { return nil }  // a line longer than a block: not this shape
            if want > 0 {
                let got = pread(fd, base + held, want, off_t(offset))
                guard got > 0 else { return nil }
                offset += got
                held += got
            }
            let bytes = UnsafeBufferPointer(start: UnsafePointer(base), count: held)
            var pos = 0
            while true {
                // The usual line, its numbers read eight bytes at a time (while the block holds more than such a line needs).
                if held - pos >= QuickLine.slack, let (candle, next) = QuickLine.read(UnsafePointer(base), bytes, at: pos, limit: held, day: &day, rule) {
                    guard count < capacity, candle.openTime > previous else { return nil }
                    previous = candle.openTime
                    (out + count).initialize(to: candle)
                    count += 1
                    pos = next
                    continue
                }
                // Any other line up to its newline, by the general rule (which decides, a refusal included).
                guard let newline = memchr(base + pos, Int32(UInt8(ascii: "\n")), held - pos) else { break }
                let lineEnd = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                guard count < capacity, let candle = line(bytes, from: pos, to: lineEnd, day: &day, rule), candle.openTime > previous else { return nil }
                previous = candle.openTime
                (out + count).initialize(to: candle)
                count += 1
                pos = lineEnd + 1
            }
            if offset == end {
                guard pos < held else { return count }
                // The file's last line, without its newline.
                guard atEnd, count < capacity, let candle = line(bytes, from: pos, to: held, day: &day, rule), candle.openTime > previous else { return nil }
                (out + count).initialize(to: candle)
                return count + 1
            }
            held -= pos
            if held > 0, pos > 0 { memmove(base, base + pos, held) }
        }
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

    /// What every line is checked against, read once per parse instead of from the globals at each line.
    struct LineRule {
        let times = Timestamp.validRange
        let powers = OHLCVCSV.exactPowersOfTen
        /// 10^k for k ≤ 8, as integers (`QuickLine`'s fractions).
        let tens: [UInt64] = [1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000]
    }

    /// One data line (`from` ..< `to`, without its newline) as a candle, with `OHLCVCSV`'s checks; nil otherwise.
    @inline(never)  // the general line, rare beside `QuickLine`: kept out of the loop
    static func line(_ b: UnsafeBufferPointer<UInt8>, from: Int, to end: Int, day: inout Day, _ rule: LineRule) -> Candle? {
        guard end - from > 21, b[from + 20] == UInt8(ascii: ","),
              let time = time(b, from: from, day: &day),
              rule.times.contains(time) else { return nil }
        var pos = from + 21
        let powers = rule.powers
        guard let open = number(b, &pos, end, last: false, powers), let high = number(b, &pos, end, last: false, powers),
              let low = number(b, &pos, end, last: false, powers), let close = number(b, &pos, end, last: false, powers),
              let volume = number(b, &pos, end, last: true, powers) else { return nil }
        guard high >= low, high >= max(open, close), low <= min(open, close), volume >= 0 else { return nil }
        return Candle(openTime: time, open: open, high: high, low: low, close: close, volume: volume)
    }

    /// The field from `pos` to the next comma (or, for the `last` field, to `end`) by `OHLCVCSV.exactDecimal`'s rule,
    /// moving `pos` past the comma. Nil for anything else.
    @inline(__always)
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ pos: inout Int, _ end: Int, last: Bool, _ powers: [Double]) -> Double? {
        guard let (value, next) = OHLCVCSV.exactDecimalPrefix(b, from: pos, to: end, stop: last ? 0 : UInt8(ascii: ","), powers),
              last ? next == end : next < end else { return nil }
        pos = next + 1
        return value
    }
}
