#!/usr/bin/env bash
# Send benchmark: a released message emailed to every member through postfix's
# smtp-sink (a real SMTP server that accepts and discards mail), by `tidings worker`
# with its default settings (16 connections, batches of 500), on SQLite and PostgreSQL.
#
# Reports emails per second from the worker's start until no delivery is left to send,
# the worker's peak resident memory (GNU time) and the largest RSS sampled each second,
# and checks that nothing was lost or sent twice: every delivery ends `sent` and the
# sink counted exactly as many messages.
#
#   bench/send.sh                          # 1,000,000 members
#   MEMBERS=100000 ENGINES=SQLite bench/send.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-1000000}
PARTNERS=${PARTNERS:-10000}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_send
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
cleanup() {
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true
  rm -rf "$WORK"
  psql -q "$PG" -c "drop schema if exists $SCHEMA cascade" >/dev/null 2>&1 || true
}
trap cleanup EXIT

source bench/lib.sh
ensure_sink

cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" opt-in
write_price_list "$WORK/message.json"

count() { # engine, database url, sql: one number
  if [ "$1" = SQLite ]; then sqlite3 "$WORK/bench.db" "$3"; else psql -qAt "$2" -c "$3"; fi
}

echo "| engine | emails | wall | emails/s | worker peak RSS | largest sampled RSS | sink count | sent |"
echo "|---|---|---|---|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key pricing --name Pricing > /dev/null
  release_message "$BIN" "$URL" "$WORK/message.json" pricing > /dev/null
  [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "vacuum analyze $SCHEMA.deliveries" > /dev/null

  port=$(free_port)
  sink -c $(sink_user) "127.0.0.1:$port" 1024 > "$WORK/sink.out" 2>&1 &
  SINK_PID=$!
  sleep 0.3
  start=$(date +%s.%N)
  TIDINGS_SMTP__PORT=$port TIDINGS_LOG__LEVEL=warn /usr/bin/time -f "%M" -o "$WORK/time" \
    "$BIN" --database-url "$URL" worker > /dev/null 2> "$WORK/worker.err" &
  TIME_PID=$!
  sleep 0.5
  WORKER_PID=$(pgrep -P "$TIME_PID")
  largest=0
  while :; do
    rss=$(ps -o rss= -p "$WORKER_PID" | tr -d ' ')
    [ "${rss:-0}" -gt "$largest" ] && largest=$rss
    # Every delivery still to settle has due_at set (its next attempt or its lease), so this
    # reads the partial index instead of scanning every delivery each second.
    left=$(count "$engine" "$URL" "select count(*) from deliveries where due_at is not null")
    [ "$left" -eq 0 ] && break
    sleep 1
  done
  end=$(date +%s.%N)
  kill -TERM "$WORKER_PID"
  wait "$TIME_PID" || true
  sleep 0.5
  kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
  sunk=$(tr '\r' '\n' < "$WORK/sink.out" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2)
  sent=$(count "$engine" "$URL" "select count(*) from deliveries where status = 'sent'")
  wall=$(echo "$end - $start" | bc -l)
  printf '| %s | %d | %.1f s | %.0f | %.1f MB | %.1f MB | %s | %s |\n' "$engine" "$MEMBERS" "$wall" \
    "$(echo "$MEMBERS / $wall" | bc -l)" "$(echo "$(cat "$WORK/time" | tail -1)/1024" | bc -l)" \
    "$(echo "$largest/1024" | bc -l)" "$sunk" "$sent"
  if [ "$sunk" != "$MEMBERS" ] || [ "$sent" != "$MEMBERS" ]; then
    echo "MISMATCH: $MEMBERS members, $sent deliveries sent, $sunk messages at the sink" >&2
    tail -5 "$WORK/worker.err" >&2
    exit 1
  fi
  if [ "$engine" = SQLite ]; then rm -f "$WORK"/bench.db*; fi
done
