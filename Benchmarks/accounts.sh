#!/usr/bin/env bash
# Many accounts on one PostgreSQL server against the same on SQLite files (issue #18): ACCOUNTS accounts × 8 symbols
# of the simulated market, cycles started PARALLEL at a time (xargs -P), first the backfilling first cycle, then a
# steady-state cycle with one new candle per symbol. Prints the total wall time of each round and the p50/p99/max of
# the cycles' own wall times. Needs a release build (make release) and a PostgreSQL server:
# TRADEJOB_TEST_POSTGRES_URL and TRADEJOB_TEST_POSTGRES_PASSWORD (`eval "$(sudo bash .ci/postgres)"` sets both).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/.build/release/tradejob}
ACCOUNTS=${ACCOUNTS:-100}
PARALLEL=${PARALLEL:-10}
: "${TRADEJOB_TEST_POSTGRES_URL:?set TRADEJOB_TEST_POSTGRES_URL (eval \"\$(sudo bash .ci/postgres)\")}"
export TRADEJOB_STATE_PASSWORD=${TRADEJOB_TEST_POSTGRES_PASSWORD:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run_id="b$$"

# One cycle of account $1 on backend $2 at $3; prints its wall milliseconds (exit 0 required).
cat > "$work/one.sh" <<'ONE'
#!/usr/bin/env bash
set -euo pipefail
k=$1 backend=$2 now=$3 work=$4 bin=$5
start=$(date +%s%N)
"$bin" run --config "$work/$backend-$k.json" --state-dir "$work/state-$backend-$k" --now "$now" > /dev/null 2> "$work/err-$backend-$k"
end=$(date +%s%N)
echo $(( (end - start) / 1000000 ))
ONE
chmod +x "$work/one.sh"

for k in $(seq -f "%03g" 0 $((ACCOUNTS - 1))); do
  echo "{\"state\": {\"url\": \"$TRADEJOB_TEST_POSTGRES_URL\", \"account\": \"${run_id}_$k\"}}" > "$work/postgres-$k.json"
  echo "{}" > "$work/sqlite-$k.json"
done

round() {  # backend now label
  local start end
  start=$(date +%s%N)
  seq -f "%03g" 0 $((ACCOUNTS - 1)) | xargs -P "$PARALLEL" -I{} "$work/one.sh" {} "$1" "$2" "$work" "$BIN" > "$work/times-$1-$3"
  end=$(date +%s%N)
  sort -n "$work/times-$1-$3" | awk -v label="$1 $3" -v total=$(( (end - start) / 1000000 )) -v n="$ACCOUNTS" '
    { t[NR] = $1 } END {
      p50 = t[int((NR - 1) * 0.50) + 1]; p99 = t[int((NR - 1) * 0.99) + 1]
      printf "%-28s %4d cycles  total %6.2f s  per cycle p50 %4d ms  p99 %4d ms  max %4d ms\n", label, NR, total / 1000, p50, p99, t[NR] }'
}

echo "== $ACCOUNTS accounts × 8 symbols, $PARALLEL cycles at a time ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for backend in sqlite postgres; do
  round "$backend" 2024-03-01T00:00:15Z "first cycle (backfill)"
  round "$backend" 2024-03-01T00:15:15Z "steady state"
done

# Drop the benchmark's accounts.
PGOPTIONS="-c client_min_messages=warning" PGPASSWORD=$TRADEJOB_STATE_PASSWORD python3 - "$TRADEJOB_TEST_POSTGRES_URL" "$run_id" "$ACCOUNTS" <<'PY'
import subprocess, sys, urllib.parse
url, run_id, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urllib.parse.urlparse(url)
args = []
for k in range(n): args += ["-c", f"DROP SCHEMA IF EXISTS tradejob_{run_id}_{k:03d} CASCADE"]  # one transaction each
args += ["-c", f"DELETE FROM public.tradejob_accounts WHERE account LIKE '{run_id}\\_%'"]
subprocess.run(["psql", "-X", "-q", "-h", u.hostname, "-p", str(u.port or 5432), "-U", u.username, "-d", u.path[1:]] + args, check=True)
PY
