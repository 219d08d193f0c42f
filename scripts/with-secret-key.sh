#!/usr/bin/env bash
# Runs a command with SECRET_KEY set: from the environment, else the key kept in .secret-key
# (created owner-only on first use; see cryptohub/secretkey.py). `make run` uses it for its
# manage.py steps, so they work against any database, not only SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SECRET_KEY:-}" ]; then
  SECRET_KEY="$(.venv/bin/python -m cryptohub.secretkey "${CRYPTOHUB_SECRET_KEY_FILE:-.secret-key}")"
fi
export SECRET_KEY
exec "$@"
