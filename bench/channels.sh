#!/usr/bin/env bash
# Channels benchmark: one message released to every member on inbox, email, SMS, Slack
# direct messages and browser notifications (web push), and posted to every partner's
# shared Teams channel, sent by `tidings worker` (default settings: email in 2 rounds side
# by side, every other channel in a lane of its own) to postfix's smtp-sink and to
# `tidings fake-providers` (stand-ins for a Twilio-compatible SMS API, Slack's Web API, a
# Teams workflow and a browser's push service, on loopback), on SQLite.
#
# Reports, per channel, the time from the worker's start until its last delivery settled
# and the rate; the same email-only message's rate in a run of its own, to show what the
# other channels cost email; and the worker's peak resident memory.
#
# The providers' rate limits are lifted (SMS_RATE, SLACK_RATE and PUSH_RATE set them) to
# measure what Tidings itself can send. Every member has one browser subscribed (a stand-in
# key pair): each notification is encrypted for it (RFC 8291) and signed (VAPID), as for a
# real one.
#
# A third run sends the message again on every channel with the others held to a budget
# of requests a second (BUDGET_SMS, BUDGET_SLACK, BUDGET_PUSH: 800, 300 and 600, a Slack
# message being two requests: 2,000 in all) and stops once email has settled: email's rate
# beside them, against its rate alone, and the requests the others made meanwhile.
#
#   bench/channels.sh                 # 100,000 members
#   MEMBERS=10000 bench/channels.sh
#   SMS_RATE=100 SLACK_RATE=20 bench/channels.sh   # with providers' throughput
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${MEMBERS:-100000}
PARTNERS=${PARTNERS:-1000}
TARGET=${CARGO_TARGET_DIR:-target}
WORK=$(mktemp -d)
cleanup() {
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true
  [ -n "${FAKES_PID:-}" ] && kill "$FAKES_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

source bench/lib.sh
ensure_sink

cargo build --release -q -p tidings
BIN=$TARGET/release/tidings
python3 bench/gen_directory.py "$MEMBERS" "$WORK" "$PARTNERS" opt-in > /dev/null

fakes_port=$(free_port)
"$BIN" fake-providers --listen "127.0.0.1:$fakes_port" > "$WORK/fakes.out" 2>&1 &
FAKES_PID=$!
smtp_port=$(free_port)
sink -c $(sink_user) "127.0.0.1:$smtp_port" 1024 > "$WORK/sink.out" 2>&1 &
SINK_PID=$!
sleep 0.5
export TIDINGS_SMTP__PORT=$smtp_port TIDINGS_LOG__LEVEL=warn TIDINGS_OUTBOUND__ALLOW_LOOPBACK=true \
  TIDINGS_SMS__BASE_URL="http://127.0.0.1:$fakes_port" TIDINGS_SMS__ACCOUNT_SID=ACbench \
  TIDINGS_SMS__AUTH_TOKEN=fake TIDINGS_SMS__FROM=+15005550006 \
  TIDINGS_SLACK__API_URL="http://127.0.0.1:$fakes_port" TIDINGS_SLACK__BOT_TOKEN=xoxb-bench \
  TIDINGS_SMS__RATE_PER_SECOND=${SMS_RATE:-1000000} TIDINGS_SLACK__RATE_PER_SECOND=${SLACK_RATE:-1000000} \
  TIDINGS_WEB_PUSH__RATE_PER_SECOND=${PUSH_RATE:-1000000}

# CHANNELS (a JSON list): a fresh database, the directory, the message released on them.
prepare() {
  rm -f "$WORK"/bench.db*
  URL="sqlite:$WORK/bench.db"
  import_directory "$BIN" "$URL"
  # The import records email consent; texts need their own.
  sqlite3 "$WORK/bench.db" "update member_preferences set sms_opted_in = 1"
  "$BIN" --database-url "$URL" topic create --key pricing --name Pricing > /dev/null
  write_price_list "$WORK/message.json"
  python3 - "$WORK/message.json" "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["channels"] = json.loads(sys.argv[2]); json.dump(m, open(sys.argv[1], "w"))
PY
  if grep -q web_push <<< "$1"; then
    # One browser a member, on the stand-in push service; the key is P-256's generator
    # (a valid public key), the auth secret fixed: the encryption's work is the same.
    sqlite3 "$WORK/bench.db" "insert into push_subscriptions (endpoint, member_id, p256dh, auth, created_at) \
      select 'http://127.0.0.1:$fakes_port/push/' || lower(hex(id)), id, '$PUSH_KEY', 'AAECAwQFBgcICQoLDA0ODw', 0 \
      from members"
  fi
  if grep -q teams <<< "$1"; then
    sqlite3 "$WORK/bench.db" "insert into partner_bindings (partner_id, channel, url, bound_by, created_at, updated_at) \
      select id, 'teams', 'http://127.0.0.1:$fakes_port/teams/' || lower(hex(id)), 'bench', 0, 0 from partners"
  fi
  release_message "$BIN" "$URL" "$WORK/message.json" pricing > /dev/null
}
PUSH_KEY=$(python3 -c "import base64; print(base64.urlsafe_b64encode(bytes.fromhex('04' \
  '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296' \
  '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5')).decode().rstrip('='))")

# Runs the worker until nothing is left (or, given `email`, until email has settled);
# prints "channel seconds" a line as each channel empties, then the worker's peak RSS in KB.
work() {
  local until=${1:-}
  local start left done_channels=""
  start=$(date +%s.%N)
  local fakes_before
  fakes_before=$(cpu_of "$FAKES_PID")
  /usr/bin/time -f "%U %S %M" -o "$WORK/time" "$BIN" --database-url "$URL" worker > /dev/null 2> "$WORK/worker.err" &
  local time_pid=$!
  while :; do
    left=$(sqlite3 "$WORK/bench.db" "select channel || ' ' || count(*) from deliveries where due_at is not null \
      group by channel union all select channel || ' ' || count(*) from channel_posts where due_at is not null \
      group by channel")
    for c in email sms slack web_push teams; do
      if ! grep -q "^$c " <<< "$left" && ! grep -qw "$c" <<< "$done_channels"; then
        if [ "$(sqlite3 "$WORK/bench.db" "select (select count(*) from deliveries where channel = '$c') \
            + (select count(*) from channel_posts where channel = '$c')")" -gt 0 ]; then
          echo "$c $(echo "$(date +%s.%N) - $start" | bc -l)"
        fi
        done_channels="$done_channels $c"
      fi
    done
    [ -z "$left" ] && break
    if [ -n "$until" ] && grep -qw "$until" <<< "$done_channels"; then
      # Settled by the time the last email was (each row's updated_at is when it settled).
      local last="(select max(updated_at) from deliveries where channel = 'email')"
      echo "meanwhile $(sqlite3 "$WORK/bench.db" "select coalesce(sum(case channel when 'slack' then 2 else 1 end), 0) \
        from deliveries where channel not in ('inbox', 'email') and status = 'sent' and updated_at <= $last") \
        $(sqlite3 "$WORK/bench.db" "select count(*) from channel_posts where status = 'sent' and updated_at <= $last")"
      break
    fi
    sleep 0.2
  done
  kill -TERM "$(pgrep -P "$time_pid")"
  wait "$time_pid" || true
  read -r user sys kb < <(tail -1 "$WORK/time")
  echo "rss $kb"
  echo "cpu $(echo "$user + $sys" | bc -l) $(echo "$(cpu_of "$FAKES_PID") - $fakes_before" | bc -l)"
}

# Seconds of CPU a process has used (user and system).
cpu_of() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

rate() { echo "$MEMBERS / $1" | bc -l; }

echo "members: $MEMBERS"
echo
echo "| run | channel | settled after | per second | worker peak RSS | CPU: worker, fake providers |"
echo "|---|---|---|---|---|---|"
prepare '["email"]'
work > "$WORK/alone"
secs=$(grep '^email ' "$WORK/alone" | cut -d' ' -f2)
printf '| email alone | email | %.1f s | %.0f | %.1f MB | %s s, %s s |\n' "$secs" "$(rate "$secs")" \
  "$(echo "$(grep '^rss ' "$WORK/alone" | cut -d' ' -f2)/1024" | bc -l)" \
  "$(grep '^cpu ' "$WORK/alone" | cut -d' ' -f2)" "$(grep '^cpu ' "$WORK/alone" | cut -d' ' -f3)"

prepare '["inbox", "email", "sms", "slack", "web_push", "teams"]'
work > "$WORK/all"
rss=$(echo "$(grep '^rss ' "$WORK/all" | cut -d' ' -f2)/1024" | bc -l)
for c in email sms slack web_push teams; do
  secs=$(grep "^$c " "$WORK/all" | cut -d' ' -f2)
  n=$MEMBERS
  [ "$c" = teams ] && n=$PARTNERS
  printf '| all channels together | %s | %.1f s | %.0f | %.1f MB | %s s, %s s |\n' "$c" "$secs" "$(echo "$n / $secs" | bc -l)" \
    "$rss" "$(grep '^cpu ' "$WORK/all" | cut -d' ' -f2)" "$(grep '^cpu ' "$WORK/all" | cut -d' ' -f3)"
done
sent=$(sqlite3 "$WORK/bench.db" "select channel || ': ' || count(*) from deliveries where status = 'sent' group by channel \
  union all select channel || ' posts: ' || count(*) from channel_posts where status = 'sent' group by channel" | tr '\n' ' ')
echo
echo "sent: $sent"
unsent=$(sqlite3 "$WORK/bench.db" "select (select count(*) from deliveries where status <> 'sent') \
  + (select count(*) from channel_posts where status <> 'sent')")
if [ "$unsent" != 0 ]; then
  echo "$unsent deliveries or posts did not end sent" >&2
  sqlite3 "$WORK/bench.db" "select channel, status, error, count(*) from deliveries where status <> 'sent' group by 1, 2, 3 limit 5" >&2
  exit 1
fi

# The same message on every channel, the others held to the budget, until email settles.
prepare '["inbox", "email", "sms", "slack", "web_push", "teams"]'
TIDINGS_SMS__RATE_PER_SECOND=${BUDGET_SMS:-800} TIDINGS_SLACK__RATE_PER_SECOND=${BUDGET_SLACK:-300} \
  TIDINGS_WEB_PUSH__RATE_PER_SECOND=${BUDGET_PUSH:-600} work email > "$WORK/budget"
secs=$(grep '^email ' "$WORK/budget" | cut -d' ' -f2)
alone=$(grep '^email ' "$WORK/alone" | cut -d' ' -f2)
read -r requests posts < <(grep '^meanwhile ' "$WORK/budget" | cut -d' ' -f2-)
echo
echo "| run | email settled after | email per second | email's rate against alone | others' requests meanwhile | per second |"
echo "|---|---|---|---|---|---|"
printf '| others held to %s SMS, %s Slack, %s push a second | %.1f s | %.0f | %.1f %% | %s (and %s Teams posts) | %.0f |\n' \
  "${BUDGET_SMS:-800}" "${BUDGET_SLACK:-300}" "${BUDGET_PUSH:-600}" "$secs" "$(rate "$secs")" \
  "$(echo "100 * $alone / $secs" | bc -l)" "$requests" "$posts" "$(echo "($requests + $posts) / $secs" | bc -l)"
