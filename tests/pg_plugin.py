"""The PostgreSQL pass of the suite: `make test-postgres`, i.e. `pytest -p tests.pg_plugin`.

It starts a throwaway PostgreSQL cluster on a free loopback port (tests/postgres_server.py) before
pytest-django sets Django up, and tells tests/settings.py to use it (CRYPTOHUB_TEST_DB=postgres,
CRYPTOHUB_TEST_DATABASE_URL); pytest-django then creates the test database there as usual, and
server and worker processes started by tests get its URL (tests/live_server.py `database_url`).
The cluster is stopped when the session ends, whether tests failed, pytest was interrupted (Ctrl-C)
or terminated (SIGTERM).

The selection, decided here and only here: every test that uses the database, that is one marked
`django_db` or using one of pytest-django's database fixtures (directly or through another fixture:
`make_provider`, `staff_client`, `price_pool`, `catalogue`, ...), except the tests that drive a
Chromium page (their pages' queries run in the plain page tests too). Pure unit tests, the engine
against the fake upstream with no database, and Chromium pages cannot differ by database: they run
in `make test` only. The rest are deselected (never skipped): every selected test runs for real.
"""

from __future__ import annotations

import os
import signal

import pytest

DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"})
# Names a test's own code calls to open a browser (tests/dashboard/browser.py, playwright).
BROWSER_NAMES = frozenset({"chromium", "sync_playwright"})

_server = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest-django imports the settings: the cluster is up and its URL is in the environment."""
    global _server
    from tests.postgres_server import PostgresServer

    if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("CRYPTOHUB_TEST_DATABASE_URL"):
        # A worker of `pytest -n`: the controller's cluster serves it (pytest-django gives each
        # worker its own test database there); the controller stops it when the session ends.
        os.environ["CRYPTOHUB_TEST_DB"] = "postgres"
        return
    _server = PostgresServer()
    early_config.add_cleanup(_server.stop)
    os.environ["CRYPTOHUB_TEST_DB"] = "postgres"
    os.environ["CRYPTOHUB_TEST_DATABASE_URL"] = _server.url("cryptohub")
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        # An interrupt, so pytest tears down and unconfigures (stopping the cluster) instead of dying.
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_report_header(config):
    if _server is not None:
        return [f"database: PostgreSQL test cluster at 127.0.0.1:{_server.port} ({_server.bin}); "
                "only tests that use the database are selected (tests/pg_plugin.py)"]
    return []


def uses_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(DB_FIXTURES & set(item.fixturenames))


def _names_a_browser(function) -> bool:
    code = getattr(function, "__code__", None)
    return code is not None and bool(BROWSER_NAMES & set(code.co_names))


def drives_a_browser(item: pytest.Item) -> bool:
    """The test's own code, or a fixture it uses, opens Chromium."""
    if _names_a_browser(getattr(item, "function", None)):
        return True
    fixtures = getattr(item, "_fixtureinfo", None)
    definitions = fixtures.name2fixturedefs.values() if fixtures is not None else ()
    return any(defs and _names_a_browser(defs[-1].func) for defs in definitions)


def pytest_collection_modifyitems(config, items):
    selected, deselected = [], []
    for item in items:
        (selected if uses_database(item) and not drives_a_browser(item) else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session", autouse=True)
def _disconnect_leftovers_before_teardown(django_db_setup, django_db_blocker):
    """At the end, end the sessions other threads of this process left open (a test that reads a
    streamed answer after its request finished opens one in asgiref's thread), so pytest-django can
    drop the test database; PostgreSQL refuses to drop a database anyone is connected to."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    connection.close()
