#!/usr/bin/env bash
# Counts the executor hops (`swift_task_switch` calls) of the two reference backtests, exactly: a uprobe on the
# function, counted by `perf stat` (README "Benchmarks", "Fewer executor hops"). Needs root, perf and tracefs; run from
# the repository root after `make release`. BIN=path/to/a/tradejob counts another build; TOP=N also prints the N
# async functions that hop most in the sma-cross run (from the resuming partial function in %di).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${BIN:-.build/release/tradejob}")
TOOLS=${TRADEJOB_SHARED_DIR:-../shared}/tools
TOP=${TOP:-0}
tracing=/sys/kernel/tracing
[ -w "$tracing/uprobe_events" ] || tracing=/sys/kernel/debug/tracing
[ -w "$tracing/uprobe_events" ] || { echo "no writable uprobe_events under /sys/kernel/tracing (root and tracefs are needed)"; exit 1; }
work=$(mktemp -d)
event=tjhops$$
trap 'echo "-:uprobes/$event" >> "$tracing/uprobe_events" 2>/dev/null || true; rm -rf "$work"' EXIT

# The static binary has no debug information for `perf probe`: the probe is placed at the symbol's file offset.
address=$(nm "$BIN" | awk '$3 == "swift_task_switch" {print $1}')
[ -n "$address" ] || { echo "$BIN has no swift_task_switch symbol"; exit 1; }
offset=$(readelf -lW "$BIN" | python3 -c '
import sys
a = int(sys.argv[1], 16)
for fields in (line.split() for line in sys.stdin):
    if fields[:1] == ["LOAD"]:
        offset, vaddr, memsz = int(fields[1], 16), int(fields[2], 16), int(fields[5], 16)
        if vaddr <= a < vaddr + memsz: print(hex(a - vaddr + offset))
' "$address")
[ -n "$offset" ] || { echo "cannot place swift_task_switch in $BIN's executable segment"; exit 1; }
echo "p:uprobes/$event $BIN:$offset resume=%di:x64" >> "$tracing/uprobe_events"

python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/M1.csv" 1000000
args=()
for seed in 1 2 3 4 5 6 7 8; do
  python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/S${seed}USDT.csv" 35040 "$seed" 15
  args+=(--csv "$work/S${seed}USDT.csv")
done
count() { perf stat -x, -e "uprobes:$event" "$@" 2>&1 >/dev/null | awk -F, -v e="uprobes:$event" '$3 == e {print $1}'; }
echo "sma-cross, 1,000,000 bars:    $(count "$BIN" backtest --csv "$work/M1.csv" --strategy sma-cross --every-candle) hops"
echo "default, 8 x 35,040 bars:     $(count "$BIN" backtest --config config/default.json "${args[@]}" --every-candle) hops"

if [ "$TOP" -gt 0 ]; then
  # (Recording every hop may drop a few under load: these shares are close, the counts above exact.)
  perf record -q -e "uprobes:$event" -o "$work/hops.data" "$BIN" backtest --csv "$work/M1.csv" --strategy sma-cross --every-candle >/dev/null 2>&1
  perf script -i "$work/hops.data" -F trace 2>/dev/null | awk '{print $NF}' | sort | uniq -c > "$work/counts"
  nm -n "$BIN" | awk '$2 ~ /[tTwW]/' > "$work/symbols"
  python3 - "$work/counts" "$work/symbols" "$TOP" <<'PY'
import bisect, subprocess, sys
symbols = sorted((int(p[0], 16), p[2]) for p in (line.split() for line in open(sys.argv[2])) if len(p) >= 3)
starts = [a for a, _ in symbols]
by_function = {}
for line in open(sys.argv[1]):
    n, value = line.split()
    i = bisect.bisect_right(starts, int(value.split("=")[1], 16)) - 1
    by_function[symbols[i][1]] = by_function.get(symbols[i][1], 0) + int(n)
names = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(by_function),
                       capture_output=True, text=True).stdout.splitlines()
by_name = {}
for name, n in zip(names, by_function.values()):  # a function's partials demangle to its name
    by_name[name] = by_name.get(name, 0) + n
for name, n in sorted(by_name.items(), key=lambda kv: -kv[1])[: int(sys.argv[3])]:
    print(f"{n:>9}  {name[:150]}")
PY
fi
