#!/usr/bin/env bash
# Compares the release speed of two tidings binaries on the same machine: each gets its
# own database (each binary migrates its own), with the same MEMBERS members in PARTNERS
# partners, all opted in to email; then, for ROUNDS rounds, each releases a fresh
# `action` message to all of them (MEMBERS inbox copies and as many email deliveries),
# the order swapped every round so that drift in the machine's speed hits both.
#
#   bench/release_compare.sh OLD_BINARY NEW_BINARY
#   ENGINES=SQLite ROUNDS=2 MEMBERS=300000 bench/release_compare.sh old new
#
# Build an older binary with: git worktree add /tmp/old <commit> &&
#   (cd /tmp/old && cargo build --release -p tidings), then pass its target/release/tidings.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
MEMBERS=${MEMBERS:-1000000}
PARTNERS=${PARTNERS:-10000}
ROUNDS=${ROUNDS:-2}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
WORK=$(mktemp -d)
cleanup() {
  rm -rf "$WORK"
  for s in old new; do psql -q "$PG" -c "drop schema if exists tidings_bench_cmp_$s cascade" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
declare -A BIN=([old]=$1 [new]=$2)
source bench/lib.sh

python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" opt-in > /dev/null
write_price_list "$WORK/message.json"

url_of() { # engine, old|new
  if [ "$1" = SQLite ]; then echo "sqlite:$WORK/$2.db"; else echo "$PG?options=-c%20search_path%3Dtidings_bench_cmp_$2"; fi
}

echo "| engine | round | binary | release wall |"
echo "|---|---|---|---|"
for engine in $ENGINES; do
  for side in old new; do
    [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "drop schema if exists tidings_bench_cmp_$side cascade; create schema tidings_bench_cmp_$side" > /dev/null
    url=$(url_of "$engine" "$side")
    "${BIN[$side]}" --database-url "$url" import partners "$WORK/partners.csv" > /dev/null
    "${BIN[$side]}" --database-url "$url" import members "$WORK/members.csv" > /dev/null
    "${BIN[$side]}" --database-url "$url" topic create --key pricing --name Pricing > /dev/null
    [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "vacuum analyze tidings_bench_cmp_$side.members" > /dev/null
  done
  for round in $(seq "$ROUNDS"); do
    order="old new"; [ $((round % 2)) = 0 ] && order="new old"
    for side in $order; do
      url=$(url_of "$engine" "$side")
      id=$("${BIN[$side]}" --database-url "$url" message create --file "$WORK/message.json" --topic pricing)
      start=$(date +%s.%N)
      "${BIN[$side]}" --database-url "$url" message release "$id" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
      end=$(date +%s.%N)
      printf '| %s | %s | %s | %.2f s |\n' "$engine" "$round" "$side" "$(echo "$end - $start" | bc -l)"
    done
  done
done
