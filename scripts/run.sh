#!/usr/bin/env bash
# Set up, train if the data changed, and start Pathfinder on localhost:
#   action server :5055, Rasa server (REST channel) :5005, public site with the chat widget :8000.
# Stop with Ctrl-C. Settings: PATHFINDER_* environment variables (see README).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
PY=.venv/bin/python

echo "==> loading the offer content"
$PY -m bot.content reload
echo "==> training (skipped when no training input changed)"
$PY -m bot.train --out models --name pathfinder

if [ -z "${PATHFINDER_AUTH_TOKEN:-}" ]; then
  # A random token per install, readable only by this user; never printed to logs.
  [ -s var/auth_token ] || (umask 077; $PY -c 'import secrets; print(secrets.token_urlsafe(32))' > var/auth_token)
  PATHFINDER_AUTH_TOKEN="$(cat var/auth_token)"
fi
# Development secrets for the SMS channel (outbox mode sends nothing); production sets its own.
for secret in sms_hash_key sms_auth_token; do
  [ -s "var/$secret" ] || (umask 077; $PY -c 'import secrets; print(secrets.token_hex(32))' > "var/$secret")
done
export PATHFINDER_SMS_HASH_KEY="${PATHFINDER_SMS_HASH_KEY:-$(cat var/sms_hash_key)}"
export PATHFINDER_SMS_AUTH_TOKEN="${PATHFINDER_SMS_AUTH_TOKEN:-$(cat var/sms_auth_token)}"
CORS_ARGS=()
for origin in $($PY -m bot.cors); do CORS_ARGS+=(--cors "$origin"); done

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$PY -m bot.action_server &
pids+=($!)
$PY -m bot.dashboard --host 127.0.0.1 --port "${PATHFINDER_DASHBOARD_PORT:-8080}" &  # staff dashboard (see README)
pids+=($!)
# The public site: widget files, demo council pages, and the chat proxy to the Rasa server.
$PY -m bot.web --port "${PATHFINDER_SITE_PORT:-8000}" &
pids+=($!)
export PATHFINDER_AUTH_TOKEN  # read by bot.rasa_server, so that `ps` never shows it
$PY -m bot.rasa_server --model models/pathfinder.tar.gz --enable-api \
  --interface "${PATHFINDER_HOST:-127.0.0.1}" --port "${PATHFINDER_PORT:-5005}" \
  --credentials credentials.yml --endpoints endpoints.yml "${CORS_ARGS[@]}" &
pids+=($!)

$PY -m bot.wait_ready "http://127.0.0.1:${PATHFINDER_PORT:-5005}/webhooks/rest/" --timeout 300
cat <<MSG

Pathfinder is running.
  Talk to it:   curl -s -XPOST http://localhost:${PATHFINDER_PORT:-5005}/webhooks/rest/webhook \\
                  -H 'Content-Type: application/json' \\
                  -d '{"sender": "me", "message": "hi", "metadata": {"council": "walsall"}}'
  Demo pages:   http://localhost:${PATHFINDER_SITE_PORT:-8000}/ (a council page with the chat widget on it)
  Staff dashboard: http://localhost:${PATHFINDER_DASHBOARD_PORT:-8080}/ (first account:
                .venv/bin/python -m bot.dashboard.users add --email you@council.gov.uk --role admin)
  HTTP API token (for the tracker API and bot.evaluate): var/auth_token
  Stop:         Ctrl-C
MSG
wait -n
