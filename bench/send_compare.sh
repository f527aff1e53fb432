#!/usr/bin/env bash
# Compares the sending speed of two tidings binaries on the same machine, alternating
# them so that drift in the machine's speed hits both: each run copies its binary's base
# database (MEMBERS opted-in members, one message released to all of them; one base per
# binary, each migrated by its own binary, so binaries with different schemas compare
# on equal data), starts `tidings
# worker` against Postfix's smtp-sink for SECONDS, then counts the deliveries sent and
# reads the CPU time of the worker and the sink from /proc.
#
#   bench/send_compare.sh OLD_BINARY NEW_BINARY
#   ROUNDS=5 SECONDS_EACH=20 MEMBERS=300000 bench/send_compare.sh old new
#
# Build an older binary with: git worktree add /tmp/old <commit> &&
#   (cd /tmp/old && cargo build --release -p tidings), then pass its target/release/tidings.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
MEMBERS=${MEMBERS:-200000}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TICKS=$(getconf CLK_TCK)

source bench/lib.sh
ensure_sink

python3 bench/gen_directory.py "$MEMBERS" "$WORK" $((MEMBERS / 100)) opt-in > /dev/null
write_price_list "$WORK/message.json"
base() { # binary, database file
  import_directory "$1" "sqlite:$2"
  "$1" --database-url "sqlite:$2" topic create --key pricing --name Pricing > /dev/null
  release_message "$1" "sqlite:$2" "$WORK/message.json" pricing > /dev/null
  sqlite3 "$2" "pragma wal_checkpoint(truncate)" > /dev/null
}
base "$1" "$WORK/base1.db"
base "$2" "$WORK/base2.db"

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # binary, its base database: one timed run, one table row
  rm -f "$WORK"/run.db*; cp "$2" "$WORK/run.db"
  port=$(free_port)
  sink -c $(sink_user) "127.0.0.1:$port" 1024 > /dev/null 2>&1 &
  sink=$!
  sleep 0.3
  TIDINGS_SMTP__PORT=$port TIDINGS_LOG__LEVEL=warn "$1" --database-url "sqlite:$WORK/run.db" worker > /dev/null 2>&1 &
  worker=$!
  sleep "$SECONDS_EACH"
  worker_cpu=$(cpu $worker); sink_cpu=$(cpu $sink)
  kill -TERM $worker; wait $worker || true
  kill $sink; wait $sink 2>/dev/null || true
  sent=$(sqlite3 "$WORK/run.db" "select count(*) from deliveries where status = 'sent'")
  [ "$sent" -lt "$MEMBERS" ] || echo "warning: all $MEMBERS sent before the time was up; raise MEMBERS" >&2
  printf '| %s | %d | %.0f µs | %.1f s |\n' "$1" $((sent / SECONDS_EACH)) \
    "$(echo "$worker_cpu * 1000000 / $TICKS / ($sent + 1)" | bc -l)" "$(echo "$sink_cpu / $TICKS" | bc -l)"
}

echo "| binary | emails/s | worker CPU per email | sink CPU in ${SECONDS_EACH} s |"
echo "|---|---|---|---|"
for _ in $(seq "$ROUNDS"); do
  run "$1" "$WORK/base1.db"
  run "$2" "$WORK/base2.db"
done
