#!/usr/bin/env bash
# Evidence pack benchmark: export and verify the pack of a must-know message that
# MEMBERS members (1,000,000 by default) have acknowledged, on SQLite and PostgreSQL.
#
# Set-up: the directory is imported and the message released (each inbox copy is a leaf),
# then every member acknowledges it through the inbox API's own path, group-committed,
# without HTTP (crates/tidings/examples/ack_fill.rs), and the log is sealed (`tidings
# evidence checkpoint` places every leaf and signs). Timed with wall time and peak memory:
# `tidings evidence export` (every leaf of the message with its inclusion proof, the texts,
# the people, the HTML and PDF report) and `tidings evidence verify` (every proof, the
# signature and every text hash, with no database).
#
#   bench/evidence_pack.sh
#   MEMBERS=100000 ENGINES=SQLite bench/evidence_pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-1000000}
PARTNERS=${PARTNERS:-10000}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_pack
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql -q "$PG" -c "drop schema if exists $SCHEMA cascade" >/dev/null 2>&1 || true' EXIT
source bench/lib.sh

cargo build --release -q -p tidings --bin tidings --example ack_fill
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" > /dev/null
write_recall "$WORK/message.json"

timed() { # label, command...: wall time, peak RSS and the first line of output
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err" || { cat "$WORK/out" "$WORK/err"; exit 1; }
  read -r secs kb < "$WORK/time"
  printf '| %-40s | %7.2f s | %7.1f MB | %s |\n' "$label" "$secs" "$(echo "$kb/1024" | bc -l)" \
    "$(head -1 "$WORK/out" | cut -c1-90)"
}

echo "| step | wall | peak memory | output |"
echo "|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key recalls --name Recalls > /dev/null
  id=$(release_message "$BIN" "$URL" "$WORK/message.json" recalls)
  timed "$engine: acknowledge (set-up)" "$TARGET/release/examples/ack_fill" "$URL" "$id"
  timed "$engine: seal (set-up)" "$BIN" --database-url "$URL" evidence checkpoint
  key=$("$BIN" --database-url "$URL" evidence key)
  timed "$engine: tidings evidence export" "$BIN" --database-url "$URL" evidence export "$id" --out "$WORK/pack"
  timed "$engine: tidings evidence verify" "$BIN" evidence verify "$WORK/pack" --key "$key"
  echo "| $engine: the pack | $(du -sh "$WORK/pack" | cut -f1) | | $(ls "$WORK/pack" | tr '\n' ' ') |"
  rm -rf "$WORK/pack"
done
