"""Test settings: the real settings, with a fast hasher and a file-backed SQLite test database
(so server processes started by a test can read what the test wrote), or in the PostgreSQL pass
a database on the session's own PostgreSQL cluster (tests/pg_plugin.py)."""

import os
import tempfile
from pathlib import Path

from cryptohub.settings import *  # noqa: F401,F403
from cryptohub.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
_TEST_DB_DIR = Path(tempfile.gettempdir())
DATABASES["default"] = {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": str(_TEST_DB_DIR / "cryptohub-dev-unused.sqlite3"),
    "OPTIONS": {"timeout": 20},
    # One file per pytest run, so concurrent runs on one machine never share a database.
    "TEST": {"NAME": str(_TEST_DB_DIR / f"cryptohub-test-{os.getpid()}.sqlite3")},
    "CONN_MAX_AGE": 0,
}
if os.environ.get("CRYPTOHUB_TEST_DB") == "postgres":
    # The PostgreSQL pass (`make test-postgres`): tests/pg_plugin.py started a cluster on a free loopback
    # port before Django was set up and put its URL here; pytest-django creates test_cryptohub in it.
    # No pool in the test process (one thread, test transactions); servers and workers use the real one.
    import environ
    from django.core.exceptions import ImproperlyConfigured

    if not os.environ.get("CRYPTOHUB_TEST_DATABASE_URL"):
        raise ImproperlyConfigured("CRYPTOHUB_TEST_DB=postgres needs the cluster: `make test-postgres` "
                                   "(or `pytest -p tests.pg_plugin`) starts it")
    DATABASES["default"] = {**environ.Env.db_url_config(os.environ["CRYPTOHUB_TEST_DATABASE_URL"]), "CONN_MAX_AGE": 0}
DEBUG = False
# cryptohub/settings.py gives the test settings a random key when SECRET_KEY is unset; one per
# pytest run, handed to the server and worker processes the tests start (tests/live_server.py).
# The session fixture in tests/conftest.py points REDIS_URL (and the layers using it) at a
# redis-server it starts on a free loopback port.

# Many tests send bursts of anonymous requests from 127.0.0.1; the inbound limits have their own
# tests (tests/healing/dataplane/test_client_keys.py), which set tight limits themselves.
CRYPTOHUB_ANON_LIMITS = "read=100000/minute,proxy=100000/minute,sentiment=100000/minute"
