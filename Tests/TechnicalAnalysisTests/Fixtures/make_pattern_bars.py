#!/usr/bin/env python3
"""Write OHLCV bars built to trigger TA-Lib's rarer candlestick patterns (and awkward inputs).

Usage: make_pattern_bars.py OUTPUT.csv KIND [BARS] [SEED]

KIND is one of:
  patterns  bars drawn from a small set of shapes (doji, marubozu, long and short bodies, long shadows) on a
            coarse price grid, with frequent gaps, so that equal prices, gaps and every candle setting occur;
            planted sequences (kicking, breakaway, mat hold, rising/falling three methods, concealing baby
            swallow, three stars in the south, abandoned baby) make sure the rare patterns fire.
  awkward   flat stretches (open = high = low = close), zero-range bars, zero volume, large gaps up and down.
The golden values are then made with ../shared/tools/make_talib_golden.py (TA-Lib from PyPI).
Deterministic for a given seed. Needs: numpy.
"""
import sys
from datetime import datetime, timedelta, timezone

import numpy as np


def bar(rng, prev_close, grid):
    """One bar: open near or gapped from the previous close, a body and shadows from a few shape classes."""
    gap = rng.choice([0, 0, 0, 1, -1, 3, -3, 8, -8])
    o = prev_close + gap * grid
    body = rng.choice([0, 0, 1, 2, 4, 8, 12, 16]) * grid * rng.choice([1, -1])
    c = o + body
    upper = rng.choice([0, 0, 0, 1, 2, 6, 12]) * grid
    lower = rng.choice([0, 0, 0, 1, 2, 6, 12]) * grid
    return o, max(o, c) + upper, min(o, c) - lower, c


def planted(kind, p, g):
    """A short sequence of (open, high, low, close) that forms one rare pattern, starting around price p."""
    L = 16 * g
    if kind == "kicking_bull":      # black marubozu, then a white marubozu gapping above it
        return [(p + L, p + L, p, p), (p + L + 2 * g, p + 2 * L + 2 * g, p + L + 2 * g, p + 2 * L + 2 * g)]
    if kind == "kicking_bear":
        return [(p, p + L, p, p + L), (p - 2 * g, p - 2 * g, p - L - 2 * g, p - L - 2 * g)]
    if kind == "breakaway_bull":    # long black, gap down black, two lower bars, white closing into the gap
        return [(p + L, p + L + g, p - g, p), (p - 3 * g, p - 2 * g, p - 6 * g, p - 5 * g),
                (p - 6 * g, p - 3 * g, p - 8 * g, p - 7 * g), (p - 8 * g, p - 4 * g, p - 10 * g, p - 9 * g),
                (p - 9 * g, p - g, p - 10 * g, p - 2 * g)]
    if kind == "breakaway_bear":
        return [(p, p + L + g, p - g, p + L), (p + L + 3 * g, p + L + 6 * g, p + L + 2 * g, p + L + 5 * g),
                (p + L + 6 * g, p + L + 8 * g, p + L + 3 * g, p + L + 7 * g),
                (p + L + 8 * g, p + L + 10 * g, p + L + 4 * g, p + L + 9 * g),
                (p + L + 9 * g, p + L + 10 * g, p + L + g, p + L + 2 * g)]
    if kind == "mathold":           # long white, small black gapping up, two small reactions, white breaking out
        return [(p, p + L + g, p - g, p + L), (p + L + 3 * g, p + L + 4 * g, p + L + g, p + L + 2 * g),
                (p + L + 0.5 * g, p + L + g, p + L - g, p + L - 0.5 * g),
                (p + L - g, p + L + 1.5 * g, p + L - 2 * g, p + L - 1.5 * g),
                (p + L, p + L + 8 * g, p + L - g, p + L + 7 * g)]
    if kind == "rising3":           # long white, three small blacks inside it falling, long white above
        return [(p, p + L + g, p - g, p + L), (p + L - 2 * g, p + L - g, p + L - 4 * g, p + L - 3 * g),
                (p + L - 4 * g, p + L - 3 * g, p + L - 6 * g, p + L - 5 * g),
                (p + L - 6 * g, p + L - 5 * g, p + L - 8 * g, p + L - 7 * g),
                (p + L - 6 * g, p + 2 * L + g, p + L - 7 * g, p + 2 * L)]
    if kind == "falling3":
        return [(p + L, p + L + g, p - g, p), (p + 2 * g, p + 4 * g, p + g, p + 3 * g),
                (p + 4 * g, p + 6 * g, p + 3 * g, p + 5 * g), (p + 6 * g, p + 8 * g, p + 5 * g, p + 7 * g),
                (p + 6 * g, p + 7 * g, p - L - g, p - L)]
    if kind == "concealing":        # two black marubozu, a black gapping down with an upper shadow into the gap, engulfing black
        return [(p + L, p + L, p, p), (p - g, p - g, p - L, p - L), (p - L - 3 * g, p - L + 2 * g, p - L - 6 * g, p - L - 5 * g),
                (p - L - 2 * g, p - L + 3 * g, p - L - 9 * g, p - L - 8 * g)]
    if kind == "stars_south":       # long black with long lower shadow, smaller black higher low, small black marubozu inside
        return [(p + L, p + L + g, p - 2 * L, p), (p + 8 * g, p + 9 * g, p - 8 * g, p - 2 * g), (p - g, p - g, p - 2 * g, p - 2 * g)]
    if kind == "abandoned_bull":    # long black, doji gapping below, white gapping above the doji
        return [(p + L, p + L + g, p - g, p), (p - 4 * g, p - 3.5 * g, p - 4.5 * g, p - 4 * g), (p - 2 * g, p + 10 * g, p - 2.5 * g, p + 9 * g)]
    if kind == "abandoned_bear":
        return [(p, p + L + g, p - g, p + L), (p + L + 4 * g, p + L + 4.5 * g, p + L + 3.5 * g, p + L + 4 * g),
                (p + L + 2 * g, p + L + 2.5 * g, p + L - 10 * g, p + L - 9 * g)]
    raise ValueError(kind)


PLANTS = ["kicking_bull", "kicking_bear", "breakaway_bull", "breakaway_bear", "mathold", "rising3", "falling3",
          "concealing", "stars_south", "abandoned_bull", "abandoned_bear"]


def patterns(n, seed):
    rng = np.random.default_rng(seed)
    g, p, rows = 0.25, 100.0, []
    while len(rows) < n:
        if rng.random() < 0.03:
            # a calm run of small bars so that "long" in a planted sequence is long relative to the averages
            for _ in range(10):
                rows.append((p, p + g, p - g, p + rng.choice([-1, 0, 1]) * g * 0.5))
            for r in planted(PLANTS[int(rng.integers(len(PLANTS)))], p, g):
                rows.append(r)
        else:
            rows.append(bar(rng, p, g))
        p = rows[-1][3]
        if p < 40:                              # keep prices positive and on the grid
            p += 40
    return rows[:n]


def awkward(n, seed):
    rng = np.random.default_rng(seed)
    rows, p = [], 50.0
    for i in range(n):
        phase = (i // 40) % 4
        if phase == 0:                          # flat: nothing moves
            rows.append((p, p, p, p))
        elif phase == 1:                        # zero-range bars that gap
            p += rng.choice([-2.0, -0.5, 0.5, 2.0])
            rows.append((p, p, p, p))
        elif phase == 2:                        # ordinary bars
            o = p + rng.normal(0, 0.3)
            c = o + rng.normal(0, 0.5)
            rows.append((o, max(o, c) + abs(rng.normal(0, 0.2)), min(o, c) - abs(rng.normal(0, 0.2)), c))
            p = c
        else:                                   # large gaps up and down on every bar
            o = p * (1.1 if i % 2 else 0.9)
            c = o * (1.01 if i % 3 else 0.99)
            rows.append((o, max(o, c), min(o, c), c))
            p = c
    return rows


def main(dst, kind, n=2000, seed=5):
    rows = patterns(n, seed) if kind == "patterns" else awkward(n, seed)
    t0, step = datetime(2021, 1, 1, tzinfo=timezone.utc), timedelta(hours=1)
    with open(dst, "w") as f:
        f.write("time,open,high,low,close,volume\n")
        for i, (o, h, l, c) in enumerate(rows):
            v = 0 if kind == "awkward" and (i // 40) % 4 == 0 else 1000 + (i * 37) % 500
            t = (t0 + i * step).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.write(f"{t},{o:.4f},{h:.4f},{l:.4f},{c:.4f},{v}\n")


if __name__ == "__main__":
    a = sys.argv
    if len(a) < 3 or a[2] not in ("patterns", "awkward"):
        sys.exit(__doc__)
    main(a[1], a[2], *(int(x) for x in a[3:5]))
