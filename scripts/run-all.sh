#!/usr/bin/env bash
# The server (uvicorn, one worker per core, HTTP + WebSocket), a Celery worker and Celery beat
# in the foreground; one Ctrl-C (or the end of any of them) stops all three.
set -uo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
WORKERS="${WEB_CONCURRENCY:-$(nproc)}"
# Each server process takes 1/WORKERS of every provider budget while Redis is down.
export CRYPTOHUB_PROCESS_COUNT="${CRYPTOHUB_PROCESS_COUNT:-$WORKERS}"
BIN=.venv/bin
# The secret key: SECRET_KEY from the environment, else the one kept in .secret-key (created owner-only
# on the first start, reused after; git-ignored). The servers refuse to start without one.
if [ -z "${SECRET_KEY:-}" ]; then
  SECRET_KEY="$($BIN/python -m cryptohub.secretkey "${CRYPTOHUB_SECRET_KEY_FILE:-.secret-key}")" || exit 1
fi
export SECRET_KEY
cat <<MSG

  cryptohub is starting on http://127.0.0.1:${PORT}
    API (browsable)   http://127.0.0.1:${PORT}/api/providers
    OpenAPI           http://127.0.0.1:${PORT}/api/schema/   (Swagger UI: /api/docs/)
    Admin             http://127.0.0.1:${PORT}/admin/        (user and password: see above)
    Health            http://127.0.0.1:${PORT}/health
  Ctrl-C stops the server, the worker and beat.

MSG
pids=()
$BIN/uvicorn cryptohub.asgi:application --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" --no-access-log & pids+=($!)
$BIN/celery -A cryptohub worker --loglevel=INFO --concurrency=2 & pids+=($!)
$BIN/celery -A cryptohub beat --loglevel=INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler \
  --pidfile= & pids+=($!)
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; }
trap stop INT TERM EXIT
wait -n "${pids[@]}"
