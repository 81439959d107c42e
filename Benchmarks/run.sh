#!/usr/bin/env bash
# Release-build benchmarks behind the README's figures. Run from the repository root: `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/tradejob
BENCH=.build/release/tradejob-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== cycle: tradejob run on config/default.json (8 symbols, 500 candles each), process start included"
# First run backfills 500 candles per symbol; the measured runs are steady-state cycles 15 minutes apart.
"$BIN" run --config config/default.json --state-dir "$work/state" --now 2024-03-01T00:00:15Z >/dev/null 2>&1
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 3 --runs 30 -N \
    --prepare "true" \
    "$BIN run --config config/default.json --state-dir $work/state --now 2024-03-01T00:15:15Z" 2>/dev/null | sed -n '1,6p'
  "$BIN" run --config config/default.json --state-dir "$work/state" --now 2024-03-01T00:15:15Z >/dev/null 2>&1 || true
  echo "== tradejob run --if-due when not due"
  hyperfine --warmup 3 --runs 50 -N "$BIN run --if-due --config config/default.json --state-dir $work/state --now 2024-03-01T00:16:00Z" | sed -n '1,6p'
else
  echo "hyperfine not installed (apt-get install hyperfine)"
fi

echo "== first cycle (backfill of 8 × 500 candles)"
rm -rf "$work/fresh"
/usr/bin/time -f "%e s wall, %M KiB max RSS" -o "$work/first.time" "$BIN" run --config config/default.json --state-dir "$work/fresh" --now 2024-03-01T00:00:15Z >/dev/null 2>&1
cat "$work/first.time"

echo "== one risk decision (sizing + all limits + protections)"
"$BENCH" risk
