#!/usr/bin/env bash
# Backtest speed behind the README's figures: `make bench-backtest` (release build). Needs python3 with numpy for the
# data generator in ../shared/tools, and backtesting.py (`pip install backtesting`) for the side-by-side figure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/tradejob
TOOLS=${TRADEJOB_SHARED_DIR:-../shared}/tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A copy of the binary: the file the linker just wrote is mapped with more of its pages resident (max RSS about 20 MB
# higher on the 100,000-bar run than for a copy of the same file), which would hide the program's own memory.
cp "$BIN" "$work/tradejob"
BIN=$work/tradejob

# Prints wall seconds, max RSS (KiB) and CPU seconds (user + system: the figure to compare when the machine is shared).
seconds() { /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" > "$work/out" 2> "$work/err"; awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$work/time"; }

# Interleaved pairs (tradejob, then backtesting.py), so that a swing of the machine's speed hits both programs of a
# pair alike; the figure is the median of the pairs' ratios.
echo "== reference strategy (sma-cross 10/30, every candle) on 1,000,000 15-minute bars, ${REFERENCE_RUNS:=3} interleaved pairs"
python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/M1.csv" 1000000
reference=$(python3 -c "import backtesting" 2>/dev/null && echo yes || echo no)
wallratios=() cpuratios=()
for _ in $(seq "$REFERENCE_RUNS"); do
  read -r t rss cpu < <(seconds "$BIN" backtest --csv "$work/M1.csv" --strategy sma-cross --every-candle --timing)
  cycles=$(awk '/^runs every/ {n += $NF} END {print n}' "$work/out")
  echo "tradejob:       ${t} s wall, ${cpu} s CPU (${cycles} cycles, $(awk -v t="$t" -v c="$cycles" 'BEGIN {printf "%.2f", t * 1e6 / c}') µs per cycle, ${rss} KiB max RSS)"
  sed 's/^/                /' "$work/err"
  if [ "$reference" = yes ]; then
    read -r tp _ cpup < <(seconds python3 "$TOOLS/make_backtest_reference.py" "$work/M1.csv" "$work/ref.csv")
    wallratios+=("$(awk -v a="$tp" -v b="$t" 'BEGIN {printf "%.1f", a / b}')") cpuratios+=("$(awk -v a="$cpup" -v b="$cpu" 'BEGIN {printf "%.1f", a / b}')")
    echo "backtesting.py: ${tp} s wall, ${cpup} s CPU  → tradejob is ${wallratios[-1]}× its speed (wall), ${cpuratios[-1]}× (CPU)"
  fi
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
if [ "$reference" = yes ]; then
  echo "median of the ${REFERENCE_RUNS} pairs: tradejob is $(median "${wallratios[@]}")× backtesting.py's speed (wall), $(median "${cpuratios[@]}")× (CPU)"
else
  echo "backtesting.py not installed (pip install backtesting): no side-by-side figure"
fi

echo "== default strategy, every candle, 8 symbols × 35,040 15-minute bars (one year), one core, ${RUNS:=5} runs"
args=()
for seed in 1 2 3 4 5 6 7 8; do
  python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/S${seed}USDT.csv" 35040 "$seed" 15
  args+=(--csv "$work/S${seed}USDT.csv")
done
walls=() rates=() cpus=() cpurates=()
for _ in $(seq "$RUNS"); do
  read -r t rss cpu < <(seconds taskset -c 0 "$BIN" backtest --config config/default.json "${args[@]}" --every-candle --timing)
  cycles=$(awk '/^runs every/ {n += $NF} END {print n}' "$work/out")
  walls+=("$t") cpus+=("$cpu")
  rates+=("$(awk -v t="$t" -v c="$cycles" 'BEGIN {printf "%.0f", c * 8 / t}')")
  cpurates+=("$(awk -v t="$cpu" -v c="$cycles" 'BEGIN {printf "%.0f", c * 8 / t}')")
  sed 's/^/  /' "$work/err"
done
sorted() { printf '%s\n' "$@" | sort -n | tr '\n' ' '; }
echo "wall (s), sorted:                          $(sorted "${walls[@]}")"
echo "CPU (s), sorted:                           $(sorted "${cpus[@]}")"
echo "cycle-symbols/s over the whole run, sorted: $(sorted "${rates[@]}")  (${rss} KiB max RSS)"
echo "cycle-symbols per CPU second, sorted:       $(sorted "${cpurates[@]}")"

echo "== memory against history length (reference strategy)"
for bars in 100000 1000000; do
  python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/L.csv" "$bars"
  read -r t rss _ < <(seconds "$BIN" backtest --csv "$work/L.csv" --strategy sma-cross --every-candle)
  echo "${bars} bars: ${rss} KiB max RSS"
done
