#!/usr/bin/env bash
# Event intake benchmark: durable `deal.registered` events over HTTP, each with a key of
# its own and named by a member's email, posted one per request (POST /api/v1/events)
# and BATCH per request (POST /api/v1/events/batch), with a trigger that answers each
# with an inbox message running in the same server (its worker on). Per engine: the load
# (crates/tidings/examples/event_load.rs, open loop, one thread of the same 2 cores),
# then how long the triggers took to answer everything taken in, then, beside it in the
# same run, the same rows inserted bare: each row copied from the stored events into a
# table of the same shape with its own statement and commit (one commit per BATCH rows for
# the batched form), by the sqlite3 shell and by psql.
#
# With WORKER=off the server takes the events in without running their triggers
# (`--no-worker`): intake alone, at rates the triggers could not follow.
#
#   bench/events.sh
#   ENGINES=SQLite RATE_SQLITE=3000 SECONDS_EACH=5 bench/events.sh
#   WORKER=off RATE_SQLITE=5000 RATE_POSTGRESQL=5000 BATCH_RATE=500 bench/events.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-10000}
PARTNERS=${PARTNERS:-100}
RATE_SQLITE=${RATE_SQLITE:-2000}
RATE_POSTGRESQL=${RATE_POSTGRESQL:-2000}
BATCH=${BATCH:-100}
BATCH_RATE=${BATCH_RATE:-100}
SECONDS_EACH=${SECONDS_EACH:-10}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
WORKER=${WORKER:-on}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_events
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap bench_cleanup EXIT
source bench/lib.sh

cargo build --release -q -p tidings --bin tidings --example event_load
BIN=$TARGET/release/tidings
LOAD=$TARGET/release/examples/event_load
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" > /dev/null
write_active_emails
cat > "$WORK/trigger.json" <<'JSON'
{"key": "deal-registered", "name": "Deal registration received", "event_type": "deal.registered",
 "topic": "incentives", "channels": ["inbox"],
 "content": {"variants": {"en": {"title": "We received your registration of {{ event.deal_name }}",
   "what_to_do": "Nothing yet: you hear from us within two working days."}}}}
JSON

sql() { # engine, statement: prints the answer
  if [ "$1" = SQLite ]; then sqlite3 "$WORK/bench.db" "$2"; else psql -qtA "$URL" -c "$2"; fi
}

drain() { # engine, label: waits for the triggers to answer every event; one table row
  local start now pending
  [ "$WORKER" = on ] || return 0
  start=$(date +%s.%N)
  while :; do
    pending=$(sql "$1" "select count(*) from pending_triggers")
    [ "$pending" = 0 ] && break
    sleep 0.2
  done
  now=$(date +%s.%N)
  echo "| $2: triggers answered everything taken in, after the load | $(python3 -c "print(f'{$now - $start:.1f} s')") | | | | | |"
}

bare() { # engine, label, rows per commit: the stored rows inserted bare again; one table row
  local start now n
  n=$(sql "$1" "select count(*) from partner_events")
  sql "$1" "drop table if exists bare_events" > /dev/null
  if [ "$1" = SQLite ]; then
    sqlite3 "$WORK/bench.db" ".schema partner_events" | sed 's/\bpartner_events\b/bare_events/g; s/INDEX partner_events_/INDEX bare_events_/g' > "$WORK/bare.sql"
    sqlite3 "$WORK/bench.db" < "$WORK/bare.sql"
  else
    psql -q "$URL" -c "create table bare_events (like partner_events including all)" > /dev/null
  fi
  python3 - "$3" "$1" > "$WORK/insert.sql" <<PY
import sys
per, engine = int(sys.argv[1]), sys.argv[2]
keys = """$(sql "$1" "select idempotency_key from partner_events")""".split()
out = ["PRAGMA synchronous = FULL;"] if engine == "SQLite" else []
for i in range(0, len(keys), per):
    chunk = keys[i:i + per]
    if per > 1: out.append("begin;")
    out += [f"insert into bare_events select * from partner_events where idempotency_key = '{k}';" for k in chunk]
    if per > 1: out.append("commit;")
print("\n".join(out))
PY
  start=$(date +%s.%N)
  if [ "$1" = SQLite ]; then sqlite3 "$WORK/bench.db" < "$WORK/insert.sql" > /dev/null; else psql -q "$URL" -f "$WORK/insert.sql" > /dev/null; fi
  now=$(date +%s.%N)
  echo "| $2 | | $(python3 -c "print(f'{$n / ($now - $start):.0f}')") | | | | $n rows |"
}

load() { # engine, label, rate, [batch]: one table row
  "$LOAD" "$BASE" "$TOKEN" "$WORK/emails" "$2" "$3" "$SECONDS_EACH" ${4:-} > "$WORK/load.json"
  python3 - "$2" "$3" "${4:-1}" "$WORK/load.json" <<'PY'
import json, sys
label, rate, per, r = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.load(open(sys.argv[4]))
codes = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items())
print(f"| {label} | {rate * per} | {r['per_second'] * per:.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | "
      f"{r['p999_ms']:.2f} ms | {codes} |")
PY
}

echo "| run | offered events/s | events/s | p50 | p99 | p99.9 | status codes |"
echo "|---|---|---|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key incentives --name Incentives > /dev/null
  "$BIN" --database-url "$URL" trigger put "$WORK/trigger.json" > /dev/null
  [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "vacuum analyze" > /dev/null
  TOKEN=$("$BIN" --database-url "$URL" token create --role admin --name bench)
  rate_var=RATE_$(echo "$engine" | tr '[:lower:]' '[:upper:]')
  if [ "$WORKER" = on ]; then start_server "$BIN" "$URL"; else start_server "$BIN" "$URL" --no-worker; fi
  load "$engine" "$engine: one event a request" "${!rate_var}"
  drain "$engine" "$engine"
  load "$engine" "$engine: $BATCH events a request" "$BATCH_RATE" "$BATCH"
  drain "$engine" "$engine"
  stop_server
  bare "$engine" "$engine: the same rows inserted bare, a commit each" 1
  bare "$engine" "$engine: the same rows inserted bare, a commit per $BATCH" "$BATCH"
done
