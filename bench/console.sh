#!/usr/bin/env bash
# Console benchmark: a must-know message's report page (/admin/messages/ID/report), its
# compliance page (/admin/compliance/ID) and one partner's members on it
# (/admin/compliance/ID/partners/PID), rendered for a signed-in admin, over MEMBERS
# members (1,000,000 by default) who all got the message: MEMBERS inbox deliveries and as
# many email deliveries, and EVENTS_PER_COPY events for each (10, so 10,000,000 events):
# queued, sent, opens by people and machines, a click, views, reads and acknowledgments.
# Reads, opens, clicks and acknowledgments are spread over the copies and over 10 days.
# The message is chased by a two-step ladder whose first step (the reminders) has run.
# Each page is requested REQUESTS times one after another (oha); the table gives the
# latency of a whole page, database and rendering included, on SQLite and PostgreSQL.
#
#   bench/console.sh
#   MEMBERS=100000 ENGINES=SQLite bench/console.sh
#   KEEP_DB=/tmp/console.db ENGINES=SQLite bench/console.sh   # and keep the database
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-1000000}
REQUESTS=${REQUESTS:-30}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_console
TARGET=${CARGO_TARGET_DIR:-target}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tidings-bench
WORK=$(mktemp -d)
trap bench_cleanup EXIT
source bench/lib.sh

ensure_oha
cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" $((MEMBERS / 100)) > /dev/null
cat > "$WORK/message.json" <<'JSON'
{"importance": "critical",
 "content": {"variants": {"en": {"title": "Recall of battery lots A1 and B2", "summary": "Two lots must be pulled.",
   "what_changed": "A fault in **two lots**.", "why_it_matters": "Cells can overheat.",
   "what_to_do": "Pull the stock today.",
   "call_to_action": {"label": "Start the return", "url": "https://vendor.example/returns"}}}},
 "acknowledgment": {"statement": "We have pulled the affected stock", "due_at": "2020-01-01", "ladder": "bench-recall"},
 "audience": {"rule": "member.status = \"active\""}}
JSON

# The events of every copy, the email deliveries, and the people's steps, written in SQL:
# the same rows the send path and tracking write, without waiting ten days for them.
engage() { # engine, message id
  local m=$2 hour=3600000
  local hex sqlite_id pg_id
  hex=$(echo "$m" | tr -d '-')
  sqlite_id="x'$hex'"
  pg_id="'$m'"
  if [ "$1" = SQLite ]; then
    sqlite3 "$WORK/bench.db" <<SQL
pragma journal_mode = wal;
insert into deliveries (message_id, member_id, channel, status, attempts, due_at, updated_at)
  select message_id, member_id, 'email', 'sent', 1, null, released_at from recipients where message_id = $sqlite_id;
insert into events (message_id, member_id, channel, kind, at, detail)
  select r.message_id, r.member_id, 'email', k.column1, r.released_at + k.column2 * (1 + abs(random()) % 240) * 60000, null
  from recipients r, (values ('queued', 0), ('sent', 0), ('machine_opened', 0), ('opened', 1), ('opened', 2),
    ('clicked', 2), ('viewed', 3), ('read', 3), ('opened', 4), ('acknowledged', 4)) k
  where r.message_id = $sqlite_id;
update recipients set
  opened_at = case when abs(random()) % 10 < 6 then released_at + (abs(random()) % 240) * $hour end,
  read_at = case when abs(random()) % 10 < 7 then released_at + (abs(random()) % 240) * $hour end
  where message_id = $sqlite_id;
update recipients set clicked_at = opened_at + 60000 where message_id = $sqlite_id and opened_at is not null and abs(random()) % 3 = 0;
update recipients set acknowledged_at = read_at + 60000 where message_id = $sqlite_id and read_at is not null and abs(random()) % 10 < 6;
analyze;
SQL
  else
    psql -q "$URL_PSQL" <<SQL
insert into deliveries (message_id, member_id, channel, status, attempts, due_at, updated_at)
  select message_id, member_id, 'email', 'sent', 1, null, released_at from recipients where message_id = $pg_id;
insert into events (message_id, member_id, channel, kind, at, detail)
  select r.message_id, r.member_id, 'email', k.kind, r.released_at + k.step * (1 + floor(random() * 240)::bigint) * 60000, null
  from recipients r, (values ('queued', 0), ('sent', 0), ('machine_opened', 0), ('opened', 1), ('opened', 2),
    ('clicked', 2), ('viewed', 3), ('read', 3), ('opened', 4), ('acknowledged', 4)) k(kind, step)
  where r.message_id = $pg_id;
update recipients set
  opened_at = case when random() < 0.6 then released_at + floor(random() * 240)::bigint * $hour end,
  read_at = case when random() < 0.7 then released_at + floor(random() * 240)::bigint * $hour end
  where message_id = $pg_id;
update recipients set clicked_at = opened_at + 60000 where message_id = $pg_id and opened_at is not null and random() < 0.33;
update recipients set acknowledged_at = read_at + 60000 where message_id = $pg_id and read_at is not null and random() < 0.6;
vacuum analyze;
SQL
  fi
}

load() { # label, url, cookie: one table row from oha's JSON summary
  "$OHA" -n 3 --no-tui -H "Cookie: $3" "$2" > /dev/null # warm-up
  "$OHA" -n "$REQUESTS" -c 1 --no-tui --output-format json -H "Cookie: $3" "$2" > "$WORK/oha.json"
  python3 - "$1" "$WORK/oha.json" <<'PY'
import json, sys
label, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
s, p = r["summary"], r["latencyPercentiles"]
codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["statusCodeDistribution"].items()))
print(f"| {label} | {p['p50'] * 1000:.0f} ms | {p['p99'] * 1000:.0f} ms | {s['slowest'] * 1000:.0f} ms | {codes} |")
PY
}

echo "| page | p50 | p99 | slowest | status codes |"
echo "|---|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  URL_PSQL="$PG?options=-c%20search_path%3D$SCHEMA"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key recalls --name Recalls > /dev/null
  "$BIN" --database-url "$URL" ladder put bench-recall --name "Bench recall" --step 24:members --step 24:partner_lead > /dev/null
  id=$(release_message "$BIN" "$URL" "$WORK/message.json" recalls)
  engage "$engine" "$id"
  # The ladder's first step has run: the compliance page shows the chase, and a partner's
  # page lists its people's reminders.
  "$BIN" --database-url "$URL" message chase "$id" > /dev/null
  # The rows above bypassed the send path and tracking, which keep the report's counts as
  # they write; the operator's recount builds the same counts from the rows.
  "$BIN" --database-url "$URL" message recount "$id" > /dev/null
  counts=$(if [ "$engine" = SQLite ]; then
    sqlite3 "$WORK/bench.db" "select (select count(*) from recipients) || ' copies, ' || (select count(*) from deliveries) || ' email deliveries, ' || (select count(*) from events) || ' events'"
  else
    psql -qtA "$URL_PSQL" -c "select (select count(*) from recipients) || ' copies, ' || (select count(*) from deliveries) || ' email deliveries, ' || (select count(*) from events) || ' events'"
  fi)
  echo "<!-- $engine: $counts -->"

  "$BIN" --database-url "$URL" staff add --email bench@vendor.example --name Bench --role admin > /dev/null
  printf '%s\n' "a long bench password" | "$BIN" --database-url "$URL" staff password bench@vendor.example 2> /dev/null
  port=$(free_port)
  base="http://127.0.0.1:$port"
  TIDINGS_PUBLIC_URL=$base TIDINGS_LOG__LEVEL=warn "$BIN" --database-url "$URL" serve --no-worker \
    --listen "127.0.0.1:$port" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "$base/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
  csrf=$(curl -s -c "$WORK/jar" -b "$WORK/jar" "$base/admin/sign-in" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
  curl -s -o /dev/null -c "$WORK/jar" -b "$WORK/jar" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=bench@vendor.example" \
    --data-urlencode "password=a long bench password" "$base/admin/sign-in"
  cookie=$(awk '$6 == "tidings_admin" {print $6 "=" $7}' "$WORK/jar")
  [ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
  status=$(curl -s -o "$WORK/page.html" -w '%{http_code}' -b "$cookie" "$base/admin/compliance/$id")
  if [ "$status" != 200 ] || ! grep -q "outstanding" "$WORK/page.html"; then
    echo "no compliance page ($status):" >&2
    sed -n '/<main/,/<\/main>/p' "$WORK/page.html" | head -20 >&2
    tail -20 "$WORK/server.log" >&2
    exit 1
  fi

  load "$engine: report /admin/messages/ID/report" "$base/admin/messages/$id/report" "$cookie"
  load "$engine: compliance /admin/compliance/ID" "$base/admin/compliance/$id" "$cookie"
  # One partner's members (about a hundred), found among all the message's copies.
  partner=$(if [ "$engine" = SQLite ]; then
    sqlite3 "$WORK/bench.db" "select lower(hex(partner_id)) from recipients limit 1" |
      sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/'
  else
    psql -qtA "$URL_PSQL" -c "select partner_id from recipients limit 1"
  fi)
  load "$engine: one partner /admin/compliance/ID/partners/PID" "$base/admin/compliance/$id/partners/$partner" "$cookie"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  # KEEP_DB=FILE keeps the SQLite database, to profile a page against it afterwards.
  if [ "$engine" = SQLite ] && [ -n "${KEEP_DB:-}" ]; then
    sqlite3 "$WORK/bench.db" "vacuum into '$KEEP_DB'"
    echo "<!-- the SQLite database is kept at $KEEP_DB; message $id -->"
  fi
  if [ "$engine" = SQLite ]; then rm -f "$WORK"/bench.db*; fi
done
