#!/usr/bin/env bash
# A steady-state cycle over 400 symbols of the simulated market (README "Start-up"): a state prepared at T holds 500
# candles per symbol; each measured run is the cycle at T + 15 min (one new candle per symbol) on a fresh copy of it.
# CPU time (task-clock) from `perf stat`, wall time from hyperfine. Run from the repository root after `make release`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/tradejob}
RUNS=${RUNS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=config/default.json
TRADEJOB__MARKET__SYMBOLS=$(python3 -c "print(','.join('S%03dUSDT' % i for i in range(400)))")
export TRADEJOB__MARKET__SYMBOLS
# The preparing run must succeed: timing cycles on a state it failed to fill would measure nothing useful.
"$BIN" run --config $config --state-dir "$work/prepared" --now 2024-03-01T00:00:15Z >"$work/prepare.log" 2>&1 \
  || { echo "preparing the 400-symbol state failed:" >&2; cat "$work/prepare.log" >&2; exit 1; }
cycle="$BIN run --config $config --state-dir $work/cycle --now 2024-03-01T00:15:15Z"
fresh="rm -rf $work/cycle && cp -a $work/prepared $work/cycle"
echo "== 400-symbol cycle, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "$RUNS" --prepare "$fresh" -n cycle-400-symbols "$cycle" 2>/dev/null | grep -E '^Benchmark|Time|Range'
else
  echo "hyperfine not installed (apt-get install hyperfine)"
fi
if command -v perf >/dev/null; then
  total=0
  for _ in $(seq "$RUNS"); do
    bash -c "$fresh"
    ms=$(perf stat -x, -e task-clock $cycle 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
    total=$(python3 -c "print($total + $ms)")
  done
  printf 'cycle-400 CPU %s ms (task-clock, mean of %s runs)\n' "$(python3 -c "print(round($total / $RUNS, 1))")" "$RUNS"
else
  echo "perf not installed: no CPU times"
fi
