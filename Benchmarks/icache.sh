#!/usr/bin/env bash
# Where a backtest's time goes besides instructions (README "Benchmarks → what bounds the backtest"): the reference run
# (sma-cross 10/30, every candle) on BARS synthetic 15-minute bars under cachegrind's cache simulation (the host's
# cache sizes), and the figures per cycle run in full (the cycles that act; the idle ones are recorded without the
# cycle). Cachegrind counts misses, it does not time them, and it models no prefetcher and no TLB: read the instruction
# cache misses as the amount of code a cycle runs through once, cold. Needs valgrind (apt-get install valgrind) and
# python3 with numpy (the data generator in ../shared/tools). Run from the repository root after `make release`.
# BIN=path/to/another/tradejob compares a build; BARS (default 100000) sets the history's length.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/tradejob}
BARS=${BARS:-100000}
TOOLS=${TRADEJOB_SHARED_DIR:-../shared}/tools
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Valgrind cannot read the debug information of the static binary: a copy without it (the same code).
strip --strip-debug -o "$work/tradejob" "$BIN"
python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/bars.csv" "$BARS"
"$work/tradejob" backtest --csv "$work/bars.csv" --strategy sma-cross --every-candle --timing > /dev/null 2> "$work/timing"
# (A build older than that count prints none: its figures per cycle run in full are left out.)
full=$(sed -n 's/.*; \([0-9]*\) cycles run in full.*/\1/p' "$work/timing")
full=${full:-0}
valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file="$work/out" \
  "$work/tradejob" backtest --csv "$work/bars.csv" --strategy sma-cross --every-candle > /dev/null 2> "$work/cg"
python3 - "$work/cg" "$full" "$BARS" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
full, bars = int(sys.argv[2]), int(sys.argv[3])
def figure(name):
    m = re.search(re.escape(name) + r":\s+([\d,]+)", text)
    return int(m.group(1).replace(",", "")) if m else 0
rows = [("instructions", "I   refs"), ("instruction cache (L1i) misses", "I1  misses"), ("data cache (L1d) misses", "D1  misses"),
        ("last-level misses", "LL misses")]
print(f"== reference run on {bars:,} bars under cachegrind" + (f": {full:,} of its cycles run in full" if full else ""))
for label, key in rows:
    print(f"{label:<32} {figure(key):>15,}")
refs, misses = figure("I   refs"), figure("I1  misses")
if refs: print(f"instruction cache miss rate      {100 * misses / refs:>14.2f} % (one miss per {refs / max(misses, 1):.0f} instructions)")
# The idle cycles run a short loop whose code stays cached: nearly every miss is a full cycle's.
if full: print(f"L1i misses per cycle run in full {misses / full:>15,.0f}   (at most: all the run's misses over them; {64 * misses / full / 1024:,.0f} KiB of code lines)")
PY
