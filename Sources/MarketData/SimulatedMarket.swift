import Foundation
import TradingDomain

/// The built-in deterministic simulated market: the same symbol and time give the same candle on every
/// machine and every run, at any timeframe, from 2020-01-01T00:00:00Z on — each candle computed in O(1)
/// from (seed, symbol, time), so no history is generated.
///
/// Model. The log-price of a symbol at minute t (since 2020-01-01) is
///   x(t) = drift·t + σ·v(t)·Σₒ aₒ·N(t / 2ᵒ) + σ·Σₒ' bₒ'·N(t / 2ᵒ')
/// where N is smooth value noise (a hash of the lattice point → uniform in [−1, 1], smoothstep-interpolated),
/// the first sum runs over the fast octaves (1 min … 1024 min) with amplitudes aₒ ∝ √(2ᵒ) (random-walk
/// scaling), the second over slow octaves (2048 min … ~45 days) that make trends and reversals, and v(t) is
/// the market-wide **volatility regime** (shared by all symbols): exp(1.5·(N(t / 360 min) + 0.4·N(t / 97 min))) clipped to [0.2, 4], drifting between calm,
/// normal and wild over hours, so all three run intervals and both stop-loss and take-profit exits occur
/// within a few simulated days. Price = base · exp(x). Symbols differ in base price, drift and σ (a table for
/// common symbols; any other symbol derives its character from its FNV-1a hash). The hash is SplitMix64 of
/// (seed, symbol hash, octave, lattice index); seed = 20200101.
///
/// A candle [t₀, t₀ + tf) has open = p(t₀), close = p(t₀ + tf) (so each open equals the previous close), and
/// high/low the extremes of p sampled at up to 48 evenly spaced points inside it, with the open and close.
public struct SimulatedMarket: ImmediateMarketData {
    public let name = "simulated"
    public static let epoch: Int64 = 1_577_836_800_000  // 2020-01-01T00:00:00Z
    public static let seed: UInt64 = 20_200_101

    /// A symbol's character.
    public struct Character: Sendable, Equatable {
        public var basePrice: Double
        /// Log-drift per year.
        public var drift: Double
        /// Volatility scale (≈ annualised volatility in the normal regime).
        public var sigma: Double
    }

    /// The default symbols' characters, in a short list (a dictionary's first use costs a run-time conformance look-up
    /// at start-up, more than searching eight names).
    static let characters: [(symbol: Symbol, character: Character)] = [
        ("BTCUSDT", Character(basePrice: 40000, drift: 0.15, sigma: 0.55)),
        ("ETHUSDT", Character(basePrice: 2500, drift: 0.10, sigma: 0.65)),
        ("SOLUSDT", Character(basePrice: 100, drift: 0.05, sigma: 0.95)),
        ("BNBUSDT", Character(basePrice: 300, drift: 0.08, sigma: 0.50)),
        ("XRPUSDT", Character(basePrice: 0.5, drift: 0.0, sigma: 0.70)),
        ("ADAUSDT", Character(basePrice: 0.4, drift: -0.05, sigma: 0.75)),
        ("DOGEUSDT", Character(basePrice: 0.08, drift: 0.0, sigma: 0.90)),
        ("LTCUSDT", Character(basePrice: 80, drift: -0.02, sigma: 0.60)),
    ]

    public init() {}

    public static func character(of symbol: Symbol) -> Character {
        if let known = characters.first(where: { $0.symbol == symbol }) { return known.character }
        let h = fnv1a(symbol.rawValue)
        let u1 = Double(h & 0xFFFF) / 65535, u2 = Double((h >> 16) & 0xFFFF) / 65535, u3 = Double((h >> 32) & 0xFFFF) / 65535
        return Character(basePrice: pow(10, -1 + 4 * u1), drift: -0.1 + 0.3 * u2, sigma: 0.4 + 0.6 * u3)
    }

    public func closedCandlesNow(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) -> [Candle] {
        Self.closedCandles(symbol: symbol, timeframe: timeframe, after: after, limit: limit, now: now)
    }

    public static func closedCandles(symbol: Symbol, timeframe: Timeframe, after: Int64?, limit: Int, now: Int64) -> [Candle] {
        let step = timeframe.milliseconds
        let lastOpen = timeframe.lastClosedBarOpen(at: now)
        guard lastOpen >= epoch, limit > 0 else { return [] }
        var first = max(epoch, lastOpen - Int64(limit - 1) * step)
        if let after { first = max(first, after + step) }
        guard first <= lastOpen else { return [] }
        let path = PricePath(symbol: symbol)
        var candles: [Candle] = []
        candles.reserveCapacity(Int((lastOpen - first) / step) + 1)
        var t = first
        while t <= lastOpen {
            candles.append(path.candle(openTime: t, length: step))
            t += step
        }
        return candles
    }

    public func currentPriceNow(symbol: Symbol, timeframe: Timeframe, now: Int64) -> Double {
        PricePath(symbol: symbol).price(at: now)
    }

    /// The candle of `symbol` opening at `openTime` (any time; aligned by the caller).
    public func candle(symbol: Symbol, timeframe: Timeframe, openTime: Int64) -> Candle {
        PricePath(symbol: symbol).candle(openTime: openTime, length: timeframe.milliseconds)
    }

    /// The market-wide volatility regime multiplier at `ms` (calm < 1 < wild).
    public static func regime(at ms: Int64) -> Double {
        PricePath(key: seed, character: character(of: "")).regime(Double(ms - epoch) / 60_000)
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// One symbol's deterministic price path.
    struct PricePath {
        let key: UInt64
        let character: Character
        static let fastOctaves = 0...10
        static let slowOctaves = 11...16
        /// Amplitudes chosen so that σ is about the annualised volatility in the normal regime.
        static let fastScale: Double = 1.0 / sqrt(525_600.0) * 0.42
        static let slowScale: Double = 1.0 / sqrt(525_600.0) * 0.25

        init(key: UInt64, character: Character) {
            self.key = key
            self.character = character
        }

        init(symbol: Symbol) {
            key = SimulatedMarket.fnv1a(symbol.rawValue) ^ SimulatedMarket.seed
            character = SimulatedMarket.character(of: symbol)
        }

        @inline(__always) static func mix(_ z0: UInt64) -> UInt64 {
            var z = z0 &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// Uniform in [−1, 1] at lattice point `i` of `octave`.
        @inline(__always) func lattice(_ octave: Int, _ i: Int64) -> Double {
            let h = Self.mix(key ^ (UInt64(octave) &* 0x1000_0000_01B3) ^ UInt64(bitPattern: i) &* 0x9E37_79B9)
            return Double(h >> 11) / Double(UInt64(1) << 53) * 2 - 1
        }

        /// Smooth value noise at position `u` (in lattice units).
        @inline(__always) func noise(_ octave: Int, _ u: Double) -> Double {
            let i = Int64(floor(u))
            let f = u - Double(i)
            let s = f * f * (3 - 2 * f)
            let a = lattice(octave, i), b = lattice(octave, i + 1)
            return a + (b - a) * s
        }

        /// The market-wide volatility regime (the same for every symbol, like a real market's).
        func regime(_ minutes: Double) -> Double {
            let market = PricePath(key: SimulatedMarket.seed, character: character)
            let v = exp(1.5 * (market.noise(40, minutes / 360 + 0.37) + 0.4 * market.noise(41, minutes / 97)))
            return min(4, max(0.2, v))
        }

        func logPrice(_ minutes: Double) -> Double {
            var fast = 0.0
            for o in Self.fastOctaves {
                let length = Double(1 << o)
                fast += sqrt(length) * noise(o, minutes / length)
            }
            var slow = 0.0
            for o in Self.slowOctaves {
                let length = Double(1 << o)
                slow += sqrt(length) * noise(o, minutes / length)
            }
            let years = minutes / 525_600
            return character.drift * years + character.sigma * (regime(minutes) * Self.fastScale * fast + Self.slowScale * slow)
        }

        func price(at ms: Int64) -> Double {
            character.basePrice * exp(logPrice(Double(ms - SimulatedMarket.epoch) / 60_000))
        }

        func candle(openTime: Int64, length: Int64) -> Candle {
            let open = price(at: openTime)
            let close = price(at: openTime + length)
            var high = max(open, close), low = min(open, close)
            let minutes = max(1, length / 60_000)
            let samples = min(48, minutes - 1)
            if samples > 0 {
                for k in 1...samples {
                    let p = price(at: openTime + length * k / (samples + 1))
                    if p > high { high = p }
                    if p < low { low = p }
                }
            }
            let volume = 1000 * (1 + abs(log(close / open)) * 400) * (0.5 + Double(Self.mix(key ^ UInt64(bitPattern: openTime)) >> 11) / Double(1 << 53))
            return Candle(openTime: openTime, open: open, high: high, low: low, close: close, volume: (volume * 100).rounded() / 100)
        }
    }
}
