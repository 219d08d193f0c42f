"""Limits on what a request may send (README, "Limits on requests"), read from the environment;
cryptohub.settings imports them."""

import environ

env = environ.Env()

# A client that stops sending its body gets a 408 after this many seconds, on both planes.
CRYPTOHUB_BODY_READ_TIMEOUT_S = env.float("CRYPTOHUB_BODY_READ_TIMEOUT_S", default=10.0)
# Longest query string (bytes), 414 beyond: 250 coin ids of 30 characters fit.
CRYPTOHUB_MAX_QUERY_BYTES = env.int("CRYPTOHUB_MAX_QUERY_BYTES", default=8192)
# Most ids one request may name (CoinGecko's own cap per call).
CRYPTOHUB_MAX_IDS = env.int("CRYPTOHUB_MAX_IDS", default=250)
# POST /api/data/sentiment: texts per request, characters per text, and the body (bytes): 100
# texts of 2,000 characters fit even when every character is \u-escaped (6 bytes).
CRYPTOHUB_MAX_SENTIMENT_TEXTS = env.int("CRYPTOHUB_MAX_SENTIMENT_TEXTS", default=100)
CRYPTOHUB_MAX_SENTIMENT_TEXT_CHARS = env.int("CRYPTOHUB_MAX_SENTIMENT_TEXT_CHARS", default=2000)
CRYPTOHUB_MAX_SENTIMENT_BODY_BYTES = env.int("CRYPTOHUB_MAX_SENTIMENT_BODY_BYTES", default=1_300_000)
# POST /api/crypto-hub/proxy body (bytes); the JSON-RPC body inside it has its own, smaller cap.
CRYPTOHUB_MAX_PROXY_BODY_BYTES = env.int("CRYPTOHUB_MAX_PROXY_BODY_BYTES", default=256_000)
# Any other request body (the DRF API, the admin), in bytes: catalogue edits are a few KB.
CRYPTOHUB_MAX_REQUEST_BYTES = env.int("CRYPTOHUB_MAX_REQUEST_BYTES", default=1_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = CRYPTOHUB_MAX_REQUEST_BYTES
# Django spools a body to disk beyond this; every accepted body stays in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = CRYPTOHUB_MAX_REQUEST_BYTES
# Form fields per request: an admin changelist page (100 rows, a few editable columns) fits.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Nothing in cryptohub takes file uploads.
DATA_UPLOAD_MAX_NUMBER_FILES = 10
