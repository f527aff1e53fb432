#!/usr/bin/env bash
# Acknowledgment benchmark: durable acknowledgments of a must-know message over HTTP, each
# from a different member, with the evidence log on and, in the same run, off.
#
# MEMBERS members, five must-know messages released to all of them. The server (release
# build, --no-worker) runs five times per engine, each time acknowledging another of
# them: a warm-up (log on, 5 s, not compared: the first run after the set-up was 2-4x
# slower on PostgreSQL, whatever it measured), then with the evidence log off
# (TIDINGS_EVIDENCE__LOG=false), on (the default), off, on. On PostgreSQL a CHECKPOINT comes before each run, so that none pays for writing
# out what the set-up or the run before it left. Each time the load generator
# (crates/tidings/examples/ack_load.rs) signs a widget token per member, as a vendor's
# server would, and sends `POST /widget/v1/inbox/{id}/acknowledge` at RATE a second for
# SECONDS, open loop (latency counts from when a request was due), on one thread of the
# same 2 cores. Every answer comes after the acknowledgment's commit.
#
#   bench/acknowledge.sh
#   ENGINES=SQLite RATE_SQLITE=3000 SECONDS_EACH=10 bench/acknowledge.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-100000}
PARTNERS=${PARTNERS:-1000}
RATE_SQLITE=${RATE_SQLITE:-2000}
RATE_POSTGRESQL=${RATE_POSTGRESQL:-5000}
SECONDS_EACH=${SECONDS_EACH:-15}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_ack
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap bench_cleanup EXIT
source bench/lib.sh

cargo build --release -q -p tidings --bin tidings --example ack_load
BIN=$TARGET/release/tidings
LOAD=$TARGET/release/examples/ack_load
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" > /dev/null
write_active_emails
write_recall "$WORK/message.json"

serve() { # database url, evidence log on (true) or off (false): starts the server, sets BASE
  SERVER_ENV=("TIDINGS_EVIDENCE__LOG=$2")
  start_server "$BIN" "$1" --no-worker
}

load() { # label, message id, rate: one table row
  local token hash
  token=$("$BIN" --database-url "$URL" widget-token "$(head -1 "$WORK/emails")" --minutes 60)
  hash=$(curl -sf -H "Authorization: Bearer $token" "$BASE/widget/v1/inbox/$2" |
    python3 -c 'import json, sys
def find(v):
    if isinstance(v, dict):
        if "content_hash" in v: return v["content_hash"]
        v = list(v.values())
    if isinstance(v, list):
        for x in v:
            h = find(x)
            if h: return h
print(find(json.load(sys.stdin)))')
  "$LOAD" "$BASE" "$2" "$hash" "$SECRET" "$WORK/emails" "$3" "$SECONDS_EACH" > "$WORK/load.json"
  python3 - "$1" "$3" "$WORK/load.json" <<'PY'
import json, sys
label, rate, r = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
codes = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
print(f"| {label} | {rate} | {r['per_second']:.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | "
      f"{r['p999_ms']:.2f} ms | {codes} |")
PY
}

echo "| run | offered/s | acknowledged/s | p50 | p99 | p99.9 | status codes |"
echo "|---|---|---|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key recalls --name Recalls > /dev/null
  messages=()
  for _ in 1 2 3 4 5; do messages+=("$(release_message "$BIN" "$URL" "$WORK/message.json" recalls)"); done
  [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "vacuum analyze" > /dev/null
  SECRET=$("$BIN" --database-url "$URL" widget-secret)
  rate_var=RATE_$(echo "$engine" | tr '[:lower:]' '[:upper:]')
  rate=${!rate_var}

  serve "$URL" true
  SECONDS_EACH=5 load "$engine: warm-up, not compared" "${messages[4]}" "$rate"
  stop_server
  for run in 0 1 2 3; do
    log=$([ $((run % 2)) = 0 ] && echo false || echo true)
    [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "checkpoint" > /dev/null
    serve "$URL" "$log"
    load "$engine: evidence log $([ "$log" = true ] && echo on || echo off)" "${messages[$run]}" "$rate"
    stop_server
  done
  # Every leaf placed and signed, then the whole log held to the database.
  "$BIN" --database-url "$URL" evidence checkpoint > /dev/null
  audit=$("$BIN" --database-url "$URL" evidence audit 2>&1 | tr '\n' ' ')
  echo "| $engine: evidence audit after the runs | ${audit:0:200} | | | | | |"
done
