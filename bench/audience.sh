#!/usr/bin/env bash
# Audience benchmark: 100,000 partners and 1,000,000 members, on SQLite and PostgreSQL.
# Times `tidings audience count` and `tidings audience members` (every id, streamed) for a
# three-condition rule, beside the same query written by hand and run by sqlite3 / psql in
# the same run. Wall times are the best of 3 and include process start-up for both sides.
#
#   bench/audience.sh                       # 1,000,000 members
#   MEMBERS=200000 PARTNERS=20000 bench/audience.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-1000000}
PARTNERS=${PARTNERS:-100000}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql -q "$PG" -c "drop schema if exists tidings_bench_aud cascade" >/dev/null 2>&1 || true' EXIT

cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS"

RULE='partner.tier in ("strategic", "growth") and member.role = "support" and member.last_seen > 180 days ago'
SINCE=$(( ($(date +%s) - 180 * 86400) * 1000 ))
# The same audience by hand: the rule, plus the status every audience has (active members).
WHERE="p.tier in ('strategic', 'growth') and (m.roles & 8) <> 0 and m.last_seen_at > $SINCE and m.status = 'active'"
COUNT_SQL="select count(*) from members m join partners p on p.id = m.partner_id where $WHERE"
IDS_SQL="select m.id from members m join partners p on p.id = m.partner_id where $WHERE order by m.id"

best_of_3() { # label, command...: best wall time of 3 runs and the peak RSS of the last
  local label=$1; shift; local best=999999 secs kb
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
    read -r secs kb < "$WORK/time"
    best=$(echo "if ($secs < $best) $secs else $best" | bc -l)
  done
  printf '| %-46s | %6.2f s | %6.1f MB | %s\n' "$label" "$best" "$(echo "$kb/1024" | bc -l)" "$(tail -c 60 "$WORK/out" | tail -1 | head -c 40)"
}

load() { # database url
  "$BIN" --database-url "$1" import partners "$WORK/partners.csv" > /dev/null
  "$BIN" --database-url "$1" import members "$WORK/members.csv" > /dev/null
}

echo "| run | wall (best of 3) | peak RSS | output"
echo "|---|---|---|---"
SQLITE="sqlite:$WORK/bench.db"
load "$SQLITE"
best_of_3 "SQLite: tidings audience count" "$BIN" --database-url "$SQLITE" audience count --rule "$RULE"
best_of_3 "SQLite: hand-written count (sqlite3)" sqlite3 "$WORK/bench.db" "$COUNT_SQL"
best_of_3 "SQLite: tidings audience members (ids)" "$BIN" --database-url "$SQLITE" audience members --rule "$RULE"
best_of_3 "SQLite: hand-written ids (sqlite3)" sqlite3 "$WORK/bench.db" "$IDS_SQL"

psql -q "$PG" -c "drop schema if exists tidings_bench_aud cascade; create schema tidings_bench_aud" > /dev/null
PGURL="$PG?options=-c%20search_path%3Dtidings_bench_aud"
load "$PGURL"
psql -q "$PG" -c "vacuum analyze tidings_bench_aud.members" -c "vacuum analyze tidings_bench_aud.partners" > /dev/null
best_of_3 "PostgreSQL: tidings audience count" "$BIN" --database-url "$PGURL" audience count --rule "$RULE"
best_of_3 "PostgreSQL: hand-written count (psql)" psql -qAt "$PGURL" -c "$COUNT_SQL"
best_of_3 "PostgreSQL: tidings audience members (ids)" "$BIN" --database-url "$PGURL" audience members --rule "$RULE"
best_of_3 "PostgreSQL: hand-written ids (psql)" psql -qAt "$PGURL" -c "$IDS_SQL"
