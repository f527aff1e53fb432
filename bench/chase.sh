#!/usr/bin/env bash
# Chase benchmark: a must-know message to 1,000,000 members in 10,000 partners (every
# member must acknowledge; one member per partner is its lead), chased by a three-step
# ladder (remind the members, tell each partner's lead, tell the partner managers), on
# SQLite and PostgreSQL.
#
# Each step is run now with `tidings message chase ID` and timed (its evaluation and
# fan-out: who still owes, the channel of their turn, the working-hours slot of their time
# zone, one INSERT ... SELECT, the report counts). Beside the first step, a plain
# `INSERT ... SELECT` of the same reminder rows (every unacknowledged copy, on email) run
# by sqlite3 / psql. Wall times include process start-up for both sides.
#
#   bench/chase.sh                       # 1,000,000 members
#   MEMBERS=100000 PARTNERS=1000 bench/chase.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-1000000}
PARTNERS=${PARTNERS:-10000}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_chase
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql -q "$PG" -c "drop schema if exists $SCHEMA cascade" >/dev/null 2>&1 || true' EXIT
source bench/lib.sh

cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" opt-in > /dev/null
cat > "$WORK/message.json" <<'JSON'
{"importance": "critical", "channels": ["inbox", "email"],
 "content": {"variants": {"en": {"title": "Recall: X-200 lot 44", "what_changed": "Lot 44 can overheat.",
   "what_to_do": "Pull it from stock."}}},
 "audience": {"rule": "member.status = \"active\""},
 "acknowledgment": {"statement": "Pulled.", "ladder": "bench-recall", "obligation": {"within_hours": 72}}}
JSON
# The partner lead role's bit (Role::PartnerLead).
LEAD=128

timed() { # label, command...: wall time and peak RSS
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r secs kb < "$WORK/time"
  printf '| %-46s | %6.2f s | %6.1f MB | %s\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$(head -1 "$WORK/out" | head -c 50)"
}

run() { # engine
  local engine=$1 sql id literal first
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key recalls --name Recalls > /dev/null
  "$BIN" --database-url "$URL" ladder put bench-recall --name "Bench recall" \
    --step 24:members --step 24:partner_lead --step 24:partner_manager > /dev/null
  # One lead per partner, and a partner manager for every partner.
  first="select min(id) from members group by partner_id"
  [ "$engine" = SQLite ] || first="select distinct on (partner_id) id from members order by partner_id, id"
  sql="update members set roles = roles | $LEAD where id in ($first); \
       insert into staff (id, email, name, role, created_at) values ($(uuid_literal "$engine"), 'pm@vendor.example', 'PM', 'author', 0); \
       update partners set partner_manager_id = (select id from staff);"
  if [ "$engine" = SQLite ]; then sqlite3 "$WORK/bench.db" "$sql"; else psql -q "$URL" -c "$sql" > /dev/null; fi
  id=$("$BIN" --database-url "$URL" message create --file "$WORK/message.json" --topic recalls)
  timed "$engine: release (not part of the target)" "$BIN" --database-url "$URL" message release "$id"
  timed "$engine: step 1, remind the members" "$BIN" --database-url "$URL" message chase "$id"
  if [ "$engine" = SQLite ]; then
    literal="x'${id//-/}'"
    timed "$engine: plain INSERT ... SELECT (sqlite3)" sqlite3 "$WORK/bench.db" \
      "insert into deliveries (message_id, member_id, channel, purpose, status, attempts, due_at, updated_at) \
       select message_id, member_id, 'email', 'reminder-99', 'queued', 0, 0, 0 from recipients \
       where message_id = $literal and acknowledged_at is null"
  else
    literal="'$id'::uuid"
    timed "$engine: plain INSERT ... SELECT (psql)" psql -q "$URL" -c \
      "insert into deliveries (message_id, member_id, channel, purpose, status, attempts, due_at, updated_at) \
       select message_id, member_id, 'email', 'reminder-99', 'queued', 0, 0, 0 from recipients \
       where message_id = $literal and acknowledged_at is null"
  fi
  timed "$engine: step 2, tell each partner's lead" "$BIN" --database-url "$URL" message chase "$id"
  timed "$engine: step 3, tell the partner managers" "$BIN" --database-url "$URL" message chase "$id"
  timed "$engine: the chase, dry run" "$BIN" --database-url "$URL" message chase "$id" --dry-run
}

uuid_literal() { # engine: a new id as the engine writes one
  local u
  u=$(python3 -c 'import uuid; print(uuid.uuid4())')
  if [ "$1" = SQLite ]; then echo "x'${u//-/}'"; else echo "'$u'::uuid"; fi
}

echo "members: $MEMBERS in $PARTNERS partners"
echo "| run | wall | peak RSS | output"
echo "|---|---|---|---"
run SQLite
run PostgreSQL
