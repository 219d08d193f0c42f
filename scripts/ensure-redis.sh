#!/usr/bin/env bash
# Start redis-server on 127.0.0.1 when nothing answers at REDIS_URL (default redis://127.0.0.1:6379/0).
set -euo pipefail
cd "$(dirname "$0")/.."
URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
if .venv/bin/python -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()" "$URL" 2>/dev/null; then
  exit 0
fi
HOSTPORT="${URL#redis://}"; HOSTPORT="${HOSTPORT%%/*}"; HOSTPORT="${HOSTPORT##*@}"
PORT="${HOSTPORT##*:}"; [ "$PORT" = "$HOSTPORT" ] && PORT=6379
mkdir -p var
redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --dir "$PWD/var" \
  --logfile "$PWD/var/redis.log" --pidfile "$PWD/var/redis.pid"
for _ in $(seq 50); do
  .venv/bin/python -c "import redis,sys; redis.Redis.from_url(sys.argv[1]).ping()" "$URL" 2>/dev/null && { echo "started redis-server on 127.0.0.1:$PORT"; exit 0; }
  sleep 0.1
done
echo "redis-server did not answer at $URL" >&2; exit 1
