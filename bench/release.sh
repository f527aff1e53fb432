#!/usr/bin/env bash
# Release benchmark: a message to 1,000,000 members, on SQLite and PostgreSQL.
# Every member is active and opted in to email, so a release of an `action` message
# queues 1,000,000 inbox copies (recipients) and 1,000,000 email deliveries.
#
# Each engine runs two rounds. A round times `tidings message release` (the audience
# rule, topic policy, consent and suppression checks, in batches of 10,000 members with
# a saved cursor) and, beside it, a plain batched insert of the same rows into the same
# tables: one INSERT ... SELECT per table per 10,000 members, by member id range, each
# batch in its own transaction, run by sqlite3 / psql. The order alternates between the
# rounds. Wall times include process start-up for both sides.
#
#   bench/release.sh                       # 1,000,000 members
#   MEMBERS=100000 bench/release.sh
#   IMPORTANCE=critical bench/release.sh   # a must-know message: each inbox copy is also a
#                                          # leaf of the evidence log (docs/evidence.md)
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-1000000}
PARTNERS=${PARTNERS:-10000}
IMPORTANCE=${IMPORTANCE:-action}
BATCH=10000
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_release
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql -q "$PG" -c "drop schema if exists $SCHEMA cascade" >/dev/null 2>&1 || true' EXIT

cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" opt-in
cat > "$WORK/message.json" <<JSON
{"importance": "$IMPORTANCE", "channels": ["inbox", "email"],
 "content": {"variants": {"en": {"title": "Price list for Q1", "what_changed": "New prices from 1 January.",
   "what_to_do": "Update your quotes."}}},
 "audience": {"rule": "member.status = \"active\""}}
JSON

timed() { # label, command...: wall time and peak RSS
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r secs kb < "$WORK/time"
  printf '| %-44s | %6.2f s | %6.1f MB | %s\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$(head -1 "$WORK/out" | head -c 60)"
}

# The plain insert's SQL: one transaction per range of $BATCH member ids.
baseline_sql() { # message id literal, boundaries file (every $BATCH-th member id)
  awk -v msg="$1" -v now="$(( $(date +%s) * 1000 ))" '
    function batch(cond) {
      print "begin;"
      print "insert into recipients (message_id, member_id, released_at) select " msg ", m.id, " now \
            " from members m where " cond " and m.status <> \x27disabled\x27;"
      print "insert into deliveries (message_id, member_id, channel, status, attempts, due_at, updated_at) select " \
            msg ", m.id, \x27email\x27, \x27queued\x27, 0, " now ", " now \
            " from members m where " cond " and m.status <> \x27disabled\x27;"
      print "commit;"
    }
    { batch(lo == "" ? "m.id <= " $0 : "m.id > " lo " and m.id <= " $0); lo = $0 }
    END { batch(lo == "" ? "1 = 1" : "m.id > " lo) }' "$2"
}

round() { # engine, database url, order (tidings first or baseline first)
  local engine=$1 url=$2 order=$3 first second literal
  first=$("$BIN" --database-url "$url" message create --file "$WORK/message.json" --topic pricing)
  second=$("$BIN" --database-url "$url" message create --file "$WORK/message.json" --topic pricing)
  if [ "$engine" = SQLite ]; then
    literal="x'${second//-/}'"
    baseline=(sqlite3 "$WORK/bench.db" ".read $WORK/baseline.sql")
  else
    literal="'$second'::uuid"
    baseline=(psql -q -v ON_ERROR_STOP=1 "$url" -f "$WORK/baseline.sql")
  fi
  baseline_sql "$literal" "$WORK/bounds.$engine" > "$WORK/baseline.sql"
  if [ "$order" = tidings ]; then
    timed "$engine: tidings message release" "$BIN" --database-url "$url" message release "$first"
    timed "$engine: plain batched insert (${baseline[0]})" "${baseline[@]}"
  else
    timed "$engine: plain batched insert (${baseline[0]})" "${baseline[@]}"
    timed "$engine: tidings message release" "$BIN" --database-url "$url" message release "$first"
  fi
}

echo "| run | wall | peak RSS | output"
echo "|---|---|---|---"

SQLITE="sqlite:$WORK/bench.db"
"$BIN" --database-url "$SQLITE" import partners "$WORK/partners.csv" > /dev/null
"$BIN" --database-url "$SQLITE" import members "$WORK/members.csv" > /dev/null
"$BIN" --database-url "$SQLITE" topic create --key pricing --name Pricing > /dev/null
sqlite3 "$WORK/bench.db" "select 'x''' || hex(id) || '''' from (select id, row_number() over (order by id) n from members) where n % $BATCH = 0" > "$WORK/bounds.SQLite"
round SQLite "$SQLITE" tidings
round SQLite "$SQLITE" baseline
echo -n "rows per message (recipients deliveries), oldest first: "
sqlite3 "$WORK/bench.db" "select (select count(*) from recipients r where r.message_id = m.id), (select count(*) from deliveries d where d.message_id = m.id) from messages m order by m.id" | tr '\n' ' '; echo

psql -q "$PG" -c "drop schema if exists $SCHEMA cascade; create schema $SCHEMA" > /dev/null
PGURL="$PG?options=-c%20search_path%3D$SCHEMA"
"$BIN" --database-url "$PGURL" import partners "$WORK/partners.csv" > /dev/null
"$BIN" --database-url "$PGURL" import members "$WORK/members.csv" > /dev/null
"$BIN" --database-url "$PGURL" topic create --key pricing --name Pricing > /dev/null
psql -q "$PG" -c "vacuum analyze $SCHEMA.members" > /dev/null
psql -qAt "$PGURL" -c "select '''' || id || '''::uuid' from (select id, row_number() over (order by id) n from members) b where n % $BATCH = 0" > "$WORK/bounds.PostgreSQL"
round PostgreSQL "$PGURL" tidings
round PostgreSQL "$PGURL" baseline
echo -n "rows per message (recipients deliveries), oldest first: "
psql -qAt "$PGURL" -c "select (select count(*) from recipients r where r.message_id = m.id), (select count(*) from deliveries d where d.message_id = m.id) from messages m order by m.id" | tr '\n' ' '; echo
