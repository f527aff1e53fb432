#!/usr/bin/env bash
# Portal benchmark: the inbox page (/portal, with a signed-in session) and the widget's
# JSON endpoint (/widget/v1/inbox, with a vendor-signed token), each under a steady
# RATE requests a second for DURATION (oha, with latency correction, so a slow answer
# cannot hide the requests queued behind it), against the release build on SQLite and
# PostgreSQL. The data: MEMBERS members and MESSAGES messages released to all of them,
# MEMBERS x MESSAGES inbox deliveries (1,000,000 by default). The server runs alone
# (--no-worker) on the same 2 cores as oha.
#
#   bench/portal.sh
#   RATE=2000 DURATION=60s ENGINES=SQLite bench/portal.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-100000}
MESSAGES=${MESSAGES:-10}
RATE=${RATE:-1000}
DURATION=${DURATION:-30s}
ENGINES=${ENGINES:-"SQLite PostgreSQL"}
PG=${TIDINGS_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
SCHEMA=tidings_bench_portal
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
{"importance": "info",
 "content": {"variants": {"en": {"title": "Partner newsletter", "summary": "What is new this month.",
   "what_changed": "New **training** dates and an updated price list.",
   "why_it_matters": "Certified staff sell more.", "what_to_do": "Book a seat.",
   "call_to_action": {"label": "See the dates", "url": "https://vendor.example/training"}}}},
 "audience": {"rule": "member.status = \"active\""}}
JSON
EMAIL=$(sed -n 2p "$WORK/members.csv" | python3 -c 'import csv, sys; print(next(csv.reader(sys.stdin))[2])')

load() { # label, url, header: one table row from oha's JSON summary
  "$OHA" -n 500 --no-tui -H "$3" "$2" > /dev/null # warm-up
  "$OHA" -z "$DURATION" -q "$RATE" --latency-correction --no-tui --output-format json -H "$3" "$2" > "$WORK/oha.json"
  python3 - "$1" "$WORK/oha.json" <<'PY'
import json, sys
label, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
s, p = r["summary"], r["latencyPercentiles"]
codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["statusCodeDistribution"].items()))
print(f"| {label} | {s['requestsPerSec']:.0f} | {p['p50'] * 1000:.2f} ms | {p['p99'] * 1000:.2f} ms | "
      f"{p['p99.9'] * 1000:.2f} ms | {s['successRate'] * 100:.1f} % | {codes} |")
PY
}

echo "| endpoint | requests/s | p50 | p99 | p99.9 | success | status codes |"
echo "|---|---|---|---|---|---|---|"
for engine in $ENGINES; do
  fresh_database "$engine"
  import_directory "$BIN" "$URL"
  "$BIN" --database-url "$URL" topic create --key news --name News > /dev/null
  for _ in $(seq "$MESSAGES"); do release_message "$BIN" "$URL" "$WORK/message.json" news > /dev/null; done
  [ "$engine" = PostgreSQL ] && psql -q "$PG" -c "vacuum analyze" > /dev/null

  port=$(free_port)
  base="http://127.0.0.1:$port"
  TIDINGS_PUBLIC_URL=$base TIDINGS_LOG__LEVEL=warn "$BIN" --database-url "$URL" serve --no-worker \
    --listen "127.0.0.1:$port" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "$base/readyz" > /dev/null 2>&1 && break; sleep 0.1; done

  # A real sign-in: the link, the landing page's form token, the POST that sets the cookie.
  link=$(TIDINGS_PUBLIC_URL=$base "$BIN" --database-url "$URL" sign-in-link "$EMAIL" 2> /dev/null)
  csrf=$(curl -s -c "$WORK/jar" -b "$WORK/jar" "$link" | grep -o 'name="csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
  curl -s -o /dev/null -c "$WORK/jar" -b "$WORK/jar" -d "csrf=$csrf" "$link"
  cookie=$(awk '$6 == "tidings_portal" {print $6 "=" $7}' "$WORK/jar")
  [ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
  curl -s -b "$cookie" "$base/portal" | grep -q "Partner newsletter" || { echo "the inbox page is empty" >&2; exit 1; }
  token=$("$BIN" --database-url "$URL" widget-token "$EMAIL" --minutes 60)

  load "$engine: inbox page /portal" "$base/portal" "Cookie: $cookie"
  load "$engine: widget JSON /widget/v1/inbox" "$base/widget/v1/inbox" "Authorization: Bearer $token"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  if [ "$engine" = SQLite ]; then rm -f "$WORK"/bench.db*; fi
done
