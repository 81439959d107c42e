/// A 64-bit checksum of a run of bytes (XXH64's round function over four 64-bit lanes, the length mixed in): not
/// cryptographic, it finds damage. Whole 32-byte stripes go through the four lanes; only the last `add` may leave a tail.
struct ByteChecksum {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9, p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (p1 &+ p2, p2, 0, 0 &- p1)
    var tail: UInt64 = 0
    var length = 0

    @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        let mixed = acc &+ input &* p2
        return ((mixed << 31) | (mixed >> 33)) &* p1
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var (a, b, c, d) = lanes
        let stripes = bytes.count / 32
        for s in 0..<stripes {
            let o = s * 32
            a = Self.round(a, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
            b = Self.round(b, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self)))
            c = Self.round(c, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 16, as: UInt64.self)))
            d = Self.round(d, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self)))
        }
        for k in (stripes * 32)..<bytes.count {
            tail = Self.round(tail, UInt64(bytes[k]) &+ UInt64(k))
        }
        lanes = (a, b, c, d)
        length += bytes.count
    }

    func finish() -> UInt64 {
        let (a, b, c, d) = lanes
        var h = ((a << 1) | (a >> 63)) &+ ((b << 7) | (b >> 57)) &+ ((c << 12) | (c >> 52)) &+ ((d << 18) | (d >> 46))
        h = (h ^ Self.round(0, tail)) &* Self.p1 &+ Self.p4
        h ^= UInt64(truncatingIfNeeded: length) &* Self.p3
        h ^= h >> 33
        h = h &* Self.p2
        h ^= h >> 29
        h = h &* Self.p3
        h ^= h >> 32
        return h
    }
}
