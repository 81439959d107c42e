#!/usr/bin/env bash
# Start-up against a static "hello world" that imports Foundation, measured in the same run (README "Start-up"):
# `--help`, `run --if-due` when not due, and an 8-symbol cycle with a new candle (each run on a fresh copy of a state
# one candle behind). Wall time from hyperfine, CPU time (task-clock) from `perf stat` when it is installed; this
# machine's wall times swing with its load, the CPU times much less. Run from the repository root after `make release`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/tradejob}
RUNS=${RUNS:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'import Foundation\nprint("hello \\(Date().timeIntervalSince1970 > 0)")\n' > "$work/hello.swift"
swiftc -O -static-stdlib "$work/hello.swift" -o "$work/hello" 2>/dev/null
config=config/default.json
"$BIN" run --config $config --state-dir "$work/behind" --now 2024-03-01T00:00:15Z >/dev/null 2>&1
cp -a "$work/behind" "$work/notdue"
"$BIN" run --config $config --state-dir "$work/notdue" --now 2024-03-01T00:15:15Z >/dev/null 2>&1

hello="$work/hello"
help="$BIN --help"
ifdue="$BIN run --if-due --config $config --state-dir $work/notdue --now 2024-03-01T00:16:00Z"
cycle="$BIN run --config $config --state-dir $work/cycle --now 2024-03-01T00:15:15Z"
fresh="rm -rf $work/cycle && cp -a $work/behind $work/cycle"

if command -v hyperfine >/dev/null; then
  echo "== wall time (hyperfine, $RUNS runs each)"
  hyperfine -N --warmup 3 --runs "$RUNS" -n hello "$hello" -n help "$help" -n if-due "$ifdue" 2>/dev/null | grep -E '^Benchmark|Time|Range'
  hyperfine --warmup 2 --runs "$RUNS" --prepare "$fresh" -n cycle-8-symbols "$cycle" 2>/dev/null | grep -E '^Benchmark|Time|Range'
else
  echo "hyperfine not installed (apt-get install hyperfine)"
fi
if command -v perf >/dev/null; then
  echo "== CPU time (perf stat task-clock, $RUNS runs each)"
  for name in hello help ifdue; do
    printf '%-8s ' "$name"; perf stat -r "$RUNS" ${!name} 2>&1 >/dev/null | awk '/task-clock/ {print $1, "ms"}'
  done
  total=0
  for _ in $(seq "$RUNS"); do
    bash -c "$fresh"
    ms=$(perf stat -x, -e task-clock $cycle 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
    total=$(python3 -c "print($total + $ms)")
  done
  printf '%-8s %s ms\n' cycle "$(python3 -c "print(round($total / $RUNS, 2))")"
else
  echo "perf not installed: no CPU times"
fi
