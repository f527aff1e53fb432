# Shared by the bench scripts; sourced after WORK (a scratch directory) is set.

# postfix's smtp-sink, unpacked from Debian's package without installing postfix.
POSTFIX=${XDG_CACHE_HOME:-$HOME/.cache}/tidings-bench/postfix
ensure_sink() {
  if [ ! -x "$POSTFIX/usr/sbin/smtp-sink" ]; then
    mkdir -p "$POSTFIX"
    (cd "$WORK" && apt-get download postfix >/dev/null 2>&1 && dpkg -x postfix_*.deb "$POSTFIX")
  fi
}
# exec: started with &, the function runs in a subshell, and $! must be the sink itself.
sink() { LD_LIBRARY_PATH="$POSTFIX/usr/lib/postfix" exec "$POSTFIX/usr/sbin/smtp-sink" "$@"; }
# The sink refuses to run as root; it drops to nobody then.
sink_user() { if [ "$(id -u)" = 0 ]; then echo "-u nobody"; fi; }

# For `trap bench_cleanup EXIT`: stops the server a script started, removes $WORK and
# drops the PostgreSQL schema $SCHEMA.
bench_cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
  psql -q "$PG" -c "drop schema if exists $SCHEMA cascade" >/dev/null 2>&1 || true
}

# The emails of the active members of $WORK/members.csv (bench/gen_directory.py), a line
# each, to $WORK/emails: whom a load generator acts as.
write_active_emails() {
  python3 -c 'import csv, sys
rows = csv.DictReader(open(sys.argv[1]))
print("\n".join(r["email"] for r in rows if r.get("status", "active") == "active"))' "$WORK/members.csv" > "$WORK/emails"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# An `action` message to every active member (for `tidings message create`), to FILE.
write_price_list() {
  cat > "$1" <<'JSON'
{"importance": "action",
 "content": {"variants": {"en": {"title": "Price list for Q1", "summary": "New prices from 1 January.",
   "what_changed": "List prices of the **X-200** range change on 1 January.",
   "why_it_matters": "Quotes sent before then at old prices must be honoured.",
   "what_to_do": "Update your quotes before 31 December.",
   "call_to_action": {"label": "Download the price list", "url": "https://vendor.example/prices/q1"}}}},
 "audience": {"rule": "member.status = \"active\""}}
JSON
}

# A must-know recall to every active member, asking for an acknowledgment, to FILE.
write_recall() {
  cat > "$1" <<'JSON'
{"importance": "critical",
 "content": {"variants": {"en": {"title": "Recall: X-200 lot 44", "what_changed": "Lot 44 can overheat.",
   "why_it_matters": "A unit overheated at a customer's site.", "what_to_do": "Pull lot 44 from stock."}}},
 "audience": {"rule": "member.status = \"active\""},
 "acknowledgment": {"statement": "We have pulled lot 44 from stock."}}
JSON
}

# BINARY URL: imports $WORK/partners.csv and $WORK/members.csv (bench/gen_directory.py).
import_directory() {
  "$1" --database-url "$2" import partners "$WORK/partners.csv" > /dev/null
  "$1" --database-url "$2" import members "$WORK/members.csv" > /dev/null
}

# BINARY URL MESSAGE_FILE TOPIC_KEY: creates the message and releases it; prints its id.
release_message() {
  local id
  id=$("$1" --database-url "$2" message create --file "$3" --topic "$4")
  "$1" --database-url "$2" message release "$id" > /dev/null 2>&1
  echo "$id"
}

# ENGINE: a fresh database (SQLite in $WORK, or the schema $SCHEMA at $PG); sets URL.
fresh_database() {
  if [ "$1" = SQLite ]; then
    rm -f "$WORK"/bench.db*
    URL="sqlite:$WORK/bench.db"
  else
    psql -q "$PG" -c "drop schema if exists $SCHEMA cascade; create schema $SCHEMA" > /dev/null
    URL="$PG?options=-c%20search_path%3D$SCHEMA"
  fi
}

# oha, the HTTP load generator: the one on the PATH, or one built into the bench cache.
ensure_oha() {
  OHA=$(command -v oha || echo "$CACHE/oha/bin/oha")
  [ -x "$OHA" ] || cargo install oha --locked --quiet --root "$CACHE/oha"
}

# BINARY URL [serve flags...]: `tidings serve` on a free port, with the variables in the
# array SERVER_ENV (NAME=value) set for it, ready to answer; sets BASE and SERVER_PID.
start_server() {
  local bin=$1 url=$2 port
  shift 2
  port=$(free_port)
  BASE="http://127.0.0.1:$port"
  env TIDINGS_PUBLIC_URL="$BASE" TIDINGS_LOG__LEVEL=warn ${SERVER_ENV[@]+"${SERVER_ENV[@]}"} \
    "$bin" --database-url "$url" serve --listen "127.0.0.1:$port" "$@" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "$BASE/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
}

stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
