#!/usr/bin/env bash
# Start-up against a static "hello world" that imports Foundation, measured in the same run (README "Start-up"):
# `--help`, `run --if-due` when not due, and an 8-symbol cycle with a new candle (each run on a fresh copy of a state
# one candle behind). Wall time from hyperfine, CPU time (task-clock) from `perf stat` when it is installed; this
# machine's wall times swing with its load, the CPU times much less. Run from the repository root after `make release`.
# BEFORE=path/to/an/older/tradejob adds its `--help`, not-due tick and cycle to the same run (rows help_before,
# ifdue_before, cycle_before; its not-due tick validates the configuration, which the state's record names BIN for).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/tradejob}
BEFORE=${BEFORE:-}
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
names="hello help ifdue"
if [ -n "$BEFORE" ]; then
  help_before="$BEFORE --help"
  ifdue_before="$BEFORE run --if-due --config $config --state-dir $work/notdue --now 2024-03-01T00:16:00Z"
  names="$names help_before ifdue_before"
fi
cycle="$BIN run --config $config --state-dir $work/cycle --now 2024-03-01T00:15:15Z"
cycle_before="$BEFORE run --config $config --state-dir $work/cycle --now 2024-03-01T00:15:15Z"
fresh="rm -rf $work/cycle && cp -a $work/behind $work/cycle"

if command -v hyperfine >/dev/null; then
  echo "== wall time (hyperfine, $RUNS runs each)"
  extra=()
  [ -n "$BEFORE" ] && extra=(-n help-before "$help_before" -n if-due-before "$ifdue_before")
  hyperfine -N --warmup 3 --runs "$RUNS" -n hello "$hello" -n help "$help" -n if-due "$ifdue" "${extra[@]}" 2>/dev/null | grep -E '^Benchmark|Time|Range'
  hyperfine --warmup 2 --runs "$RUNS" --prepare "$fresh" -n cycle-8-symbols "$cycle" 2>/dev/null | grep -E '^Benchmark|Time|Range'
else
  echo "hyperfine not installed (apt-get install hyperfine)"
fi
if command -v perf >/dev/null; then
  # Interleaved (one run of each command per round), so that a change in the machine's load hits every command alike.
  echo "== CPU time (perf stat task-clock, $RUNS interleaved runs each: mean, median)"
  times="$work/times"
  : > "$times"
  for _ in $(seq "$RUNS"); do
    for name in $names; do
      ms=$(perf stat -x, -e task-clock ${!name} 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
      echo "$name $ms" >> "$times"
    done
    bash -c "$fresh"
    ms=$(perf stat -x, -e task-clock $cycle 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
    echo "cycle $ms" >> "$times"
    if [ -n "$BEFORE" ]; then
      bash -c "$fresh"
      ms=$(perf stat -x, -e task-clock $cycle_before 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
      echo "cycle_before $ms" >> "$times"
    fi
  done
  python3 - "$times" $names cycle $([ -n "$BEFORE" ] && echo cycle_before) <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
hello = statistics.mean(float(v) for n, v in rows if n == "hello")
for name in sys.argv[2:]:
    values = [float(v) for n, v in rows if n == name]
    mean = statistics.mean(values)
    print(f"{name:<13} {mean:.2f} ms  (median {statistics.median(values):.2f}, {mean / hello:.2f}x hello)")
PY
else
  echo "perf not installed: no CPU times"
fi
