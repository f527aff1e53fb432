#!/usr/bin/env bash
# What noise control costs a release: MEMBERS members (all opted in to email) get ROUNDS
# nice-to-know messages (inbox and email) with no noise policy, then ROUNDS more with
# one (nice-to-know capped at 3 a week, counted over the messages released before, and
# marketing people on a weekly digest), each release timed, on one database per engine.
#
#   bench/noise.sh [BINARY]
#   MEMBERS=100000 PARTNERS=1000 ROUNDS=3 ENGINES=SQLite bench/noise.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-100000}
PARTNERS=${PARTNERS:-1000}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_noise
BIN=${1:-}
if [ -z "$BIN" ]; then
  cargo build --release --quiet -p tidings
  BIN=${CARGO_TARGET_DIR:-target}/release/tidings
fi
WORK=$(mktemp -d)
trap bench_cleanup EXIT
source bench/lib.sh

python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" opt-in > /dev/null
cat > "$WORK/news.json" <<'JSON'
{"importance": "info", "channels": ["inbox", "email"],
 "content": {"variants": {"en": {"title": "New co-marketing kit", "summary": "Banners and a brochure, ready to brand.",
   "what_changed": "A new kit is out.", "why_it_matters": "Customers ask for it.", "what_to_do": "Nothing needed."}}},
 "audience": {"rule": "member.status = \"active\""}}
JSON

echo "| engine | policy | round | release wall | inbox copies | email deliveries |"
echo "|---|---|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key news --name News > /dev/null
  [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "vacuum analyze $SCHEMA.members" > /dev/null
  for policy in none caps+digest; do
    if [ "$policy" != none ]; then
      "$BIN" --database-url "$URL" noise set --info-cap 3 --window-days 7 --digest-role marketing=weekly > /dev/null
    fi
    for round in $(seq "$ROUNDS"); do
      id=$("$BIN" --database-url "$URL" message create --file "$WORK/news.json" --topic news)
      start=$(date +%s.%N)
      "$BIN" --database-url "$URL" message release "$id" > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
      end=$(date +%s.%N)
      # "released to N inboxes, M deliveries queued"
      read -r inboxes deliveries < <(sed -n 's/released to \([0-9]*\) inboxes, \([0-9]*\) deliveries queued/\1 \2/p' "$WORK/out")
      printf '| %s | %s | %s | %.2f s | %s | %s |\n' "$engine" "$policy" "$round" "$(echo "$end - $start" | bc -l)" \
        "$inboxes" "$deliveries"
    done
  done
done
