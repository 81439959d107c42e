#!/usr/bin/env bash
# `tradejob optimize` speed behind the README's figures: `make bench-optimize` (release build). TRIALS (default 1000)
# trials of the default strategy with TPE (ranges without a step, so that every trial is a backtest of its own) on 8 symbols × 35,040 15-minute bars (one year, every candle), with
# --jobs 2 and --jobs 1 (JOBS="2 1"). Needs python3 with numpy for the data generator in ../shared/tools.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/tradejob
TOOLS=${TRADEJOB_SHARED_DIR:-../shared}/tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=()
for seed in 1 2 3 4 5 6 7 8; do
  python3 "$TOOLS/make_synthetic_ohlcv.py" "$work/S${seed}USDT.csv" 35040 "$seed" 15
  args+=(--csv "$work/S${seed}USDT.csv")
done
cat > "$work/space.json" <<'SPACE'
{
  "strategy.min_confidence": [0.4, 0.8],
  "risk.stop_loss_atr": [1, 4],
  "risk.take_profit_atr": [2, 8],
  "risk.trailing_stop": {"choices": [true, false]}
}
SPACE
echo "== ${TRIALS:=1000} TPE trials, default strategy, every candle, 8 symbols × 35,040 15-minute bars"
for jobs in ${JOBS:-2 1}; do
  /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$BIN" optimize --config config/default.json "${args[@]}" --every-candle \
    --space "$work/space.json" --method tpe --trials "$TRIALS" --seed 1 --jobs "$jobs" --top 3 --results-out "$work/r$jobs.csv" > "$work/out"
  read -r wall rss user sys < "$work/time"
  echo "--jobs $jobs: ${wall} s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u + s}') s CPU, ${rss} KiB max RSS, $(awk -v w="$wall" -v n="$TRIALS" 'BEGIN {printf "%.1f", n / w}') trials/s"
  sed 's/^/  /' "$work/out"
done
if [ -f "$work/r1.csv" ] && [ -f "$work/r2.csv" ]; then
  cmp -s "$work/r1.csv" "$work/r2.csv" && echo "results of --jobs 1 and --jobs 2: identical" || echo "results of --jobs 1 and --jobs 2: DIFFER"
fi
