#!/usr/bin/env bash
# Import benchmark: N members (default 100,000) from CSV into SQLite and PostgreSQL with
# the release build, reporting wall time and peak memory, beside raw baselines measured in
# the same run: the sqlite3 shell's .import and psql's \copy of the same file into a bare table.
#
#   bench/import.sh            # 100,000 members
#   N=1000000 bench/import.sh  # a million
#
# Needs: python3, sqlite3, psql, GNU time (/usr/bin/time), PostgreSQL at
# TIDINGS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql -q "$PG" -c "drop schema if exists tidings_bench cascade" >/dev/null 2>&1 || true' EXIT

cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$N" "$WORK"
printf 'members: %s rows, %s MB\n\n' "$N" "$(( $(stat -c %s "$WORK/members.csv") / 1000000 ))"

measure() { # label, command...: prints "label | seconds | peak MB"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/err"; exit 1; }
  read -r secs kb < "$WORK/time"
  printf '| %-44s | %7.2f s | %6.1f MB | %s\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" "$(tail -1 "$WORK/out")"
}

echo "| run | wall | peak RSS | result"
echo "|---|---|---|---"
SQLITE="sqlite:$WORK/bench.db"
"$BIN" --database-url "$SQLITE" import partners "$WORK/partners.csv" > /dev/null
measure "SQLite: tidings import members" "$BIN" --database-url "$SQLITE" import members "$WORK/members.csv"
measure "SQLite: same file again (all unchanged)" "$BIN" --database-url "$SQLITE" import members "$WORK/members.csv"
measure "SQLite baseline: sqlite3 .import, bare table" sqlite3 "$WORK/raw.db" ".mode csv" ".import $WORK/members.csv raw_members" "select count(*) from raw_members;"
# The floor an import cannot go under: the same rows, already valid, into a table with the
# members table's keys, indexes and foreign key.
sqlite3 "$WORK/bench.db" ".schema members" | sed 's/\bmembers\b/floor_members/g; s/INDEX members_by_partner/INDEX floor_by_partner/' > "$WORK/floor.sql"
measure "SQLite floor: same rows, members' keys and indexes" sqlite3 "$WORK/bench.db" "pragma foreign_keys = on; $(cat "$WORK/floor.sql") insert into floor_members select * from members; select count(*) from floor_members;"

psql -q "$PG" -c "drop schema if exists tidings_bench cascade; create schema tidings_bench" > /dev/null
PGURL="$PG?options=-c%20search_path%3Dtidings_bench"
"$BIN" --database-url "$PGURL" import partners "$WORK/partners.csv" > /dev/null
measure "PostgreSQL: tidings import members" "$BIN" --database-url "$PGURL" import members "$WORK/members.csv"
measure "PostgreSQL: same file again (all unchanged)" "$BIN" --database-url "$PGURL" import members "$WORK/members.csv"
psql -q "$PG" -c "create table tidings_bench.raw_members (external_id text, partner_external_id text, email text, name text, roles text, locale text, time_zone text, status text, last_seen_at text, trained text, certification_level text)" > /dev/null
measure "PostgreSQL baseline: psql \\copy, bare table" psql -q "$PG" -c "\\copy tidings_bench.raw_members from '$WORK/members.csv' csv header"
psql -q "$PG" -c "\\copy tidings_bench.members to '$WORK/members.pgcopy'" > /dev/null
psql -q "$PG" -c "create table tidings_bench.floor_members (like tidings_bench.members including all); alter table tidings_bench.floor_members add foreign key (partner_id) references tidings_bench.partners (id)" > /dev/null
measure "PostgreSQL floor: same rows, members' keys and indexes" psql -q "$PG" -c "\\copy tidings_bench.floor_members from '$WORK/members.pgcopy'"
