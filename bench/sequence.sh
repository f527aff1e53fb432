#!/usr/bin/env bash
# Sequence benchmark: MEMBERS members (all active) in a sequence advance one step, on
# SQLite and PostgreSQL. A sequence's entry rule takes every active member in (`tidings
# sequence enrol`, timed), then `tidings sequence advance` (timed) takes the step every
# run is due at: a welcome filled with each member's first name, whose template is
# checked for each of them, one message per 5,000 runs, each run's step recorded and the
# run moved on to the next step (due a day later, so only one step is taken). Then the
# messages it made are released (`tidings message release`, timed together), as the
# scheduler would. Wall times include process start-up.
#
#   bench/sequence.sh
#   MEMBERS=10000 ENGINES=SQLite bench/sequence.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-100000}
PARTNERS=${PARTNERS:-1000}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_sequence
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap bench_cleanup EXIT
source bench/lib.sh

cargo build --release -q -p tidings --bin tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" > /dev/null
cat > "$WORK/sequence.json" <<'JSON'
{"key": "kick-off", "name": "Kick-off", "entry_event": "member.created", "entry_rule": "member.status = \"active\"",
 "topic": "announcements",
 "steps": [
   {"name": "Welcome", "channels": ["inbox"],
    "content": {"variants": {"en": {"title": "Welcome, {{ member.first_name }}", "what_to_do": "Complete your profile."}}}},
   {"name": "First training", "after_minutes": 1440, "channels": ["inbox"],
    "content": {"variants": {"en": {"title": "Book your first training"}}}}]}
JSON

timed() { # label, command...: one table row with the wall time and the command's answer
  local label=$1; shift
  /usr/bin/time -f "%e" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
  printf '| %s | %.2f s | %s |\n' "$label" "$(cat "$WORK/time")" "$(tail -1 "$WORK/out" | head -c 60)"
}

release_made() { # engine: releases every message the sequence made
  local ids
  if [ "$1" = SQLite ]; then
    ids=$(sqlite3 "$WORK/bench.db" "select lower(hex(id)) from messages where created_by = 'sequence:kick-off'" \
      | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
  else
    ids=$(psql -qtA "$URL" -c "select id from messages where created_by = 'sequence:kick-off'")
  fi
  for id in $ids; do "$BIN" --database-url "$URL" message release "$id" > /dev/null; done
  if [ "$1" = SQLite ]; then n=$(sqlite3 "$WORK/bench.db" "select count(*) from recipients")
  else n=$(psql -qtA "$URL" -c "select count(*) from recipients"); fi
  echo "$(echo "$ids" | wc -w) messages released to $n inboxes"
}

echo "| run | time | answer |"
echo "|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key announcements --name Announcements > /dev/null
  "$BIN" --database-url "$URL" sequence put "$WORK/sequence.json" > /dev/null
  timed "$engine: $MEMBERS members enter by the rule" "$BIN" --database-url "$URL" sequence enrol
  timed "$engine: they advance a step" "$BIN" --database-url "$URL" sequence advance
  export -f release_made; export BIN URL WORK
  timed "$engine: the messages it made released" bash -c "release_made $engine"
  "$BIN" --database-url "$URL" sequence list | sed "s/^/$engine: /" >&2
done
