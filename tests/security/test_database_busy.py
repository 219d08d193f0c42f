"""Our own outage on the Django plane: the SQLite database locked by another process, over real
sockets to a real uvicorn.

A write that must wait for the lock waits and succeeds: its transaction takes the write lock when
it begins, so one that read first cannot fail at once on a commit it never saw. A lock held past
the wait is a 503 with Retry-After, never a 500 or a traceback; reads go on meanwhile (WAL), and
once the lock is gone the same write succeeds. The server has a database of its own, migrated
here, so nothing the test process holds is involved."""

import json
import sqlite3
import subprocess
import sys
import threading

import httpx
import pytest

from cryptohub.exceptions import DATABASE_RETRY_AFTER_S, DATABASE_UNAVAILABLE
from tests.live_server import REPO_ROOT, server_env

WAIT_S = 2  # the server's SQLite busy timeout (DATABASE_URL ?timeout=)
MAKE_STAFF = ("from django.contrib.auth import get_user_model; from rest_framework.authtoken.models import Token; "
              "user = get_user_model().objects.create_user('busy', password='pw-busy-staff', is_staff=True); "
              "print(Token.objects.create(user=user).key)")


@pytest.fixture
def busy_site(tmp_path, live_servers):
    path = tmp_path / "busy.sqlite3"
    env = server_env({"DATABASE_URL": f"sqlite:///{path}"})
    for command in (["migrate", "--noinput", "-v", "0"], ["shell", "-c", MAKE_STAFF]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=REPO_ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    token = done.stdout.strip().splitlines()[-1]
    server = live_servers(env={"DATABASE_URL": f"sqlite:///{path}?timeout={WAIT_S}"})
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
        yield server, client, path


def hold_the_write_lock(path) -> sqlite3.Connection:
    """Another process's write in progress: the lock taken and a change made that others have not seen."""
    lock = sqlite3.connect(path, isolation_level=None, timeout=30)
    lock.execute("BEGIN IMMEDIATE")
    lock.execute("UPDATE auth_user SET last_name = 'held' WHERE username = 'busy'")
    return lock


def new_pool(client: httpx.Client, slug: str) -> httpx.Response:
    return client.post("/api/pools", json={"slug": slug, "name": slug.title(), "capability": "price",
                                           "strategy": "priority"})


def test_a_write_that_waits_for_the_lock_succeeds_after_it(busy_site):
    server, client, path = busy_site
    lock = hold_the_write_lock(path)
    answers: list[httpx.Response] = []
    writer = threading.Thread(target=lambda: answers.append(new_pool(client, "waited")))
    writer.start()
    # It cannot finish while the lock is held (bounded wait, well inside the server's WAIT_S).
    writer.join(timeout=WAIT_S / 2)
    assert writer.is_alive() and answers == []
    lock.execute("COMMIT")
    writer.join(timeout=60)
    assert answers[0].status_code == 201, answers[0].text[:300]
    assert client.get("/api/pools/waited").json()["name"] == "Waited"
    assert "Traceback" not in server.output(tail=1_000_000)


def test_a_lock_held_past_the_wait_is_a_503_with_retry_after_and_the_next_write_succeeds(busy_site):
    server, client, path = busy_site
    lock = hold_the_write_lock(path)
    try:
        refused = new_pool(client, "refused")
        assert refused.status_code == 503, refused.text[:300]
        assert refused.json() == {"detail": DATABASE_UNAVAILABLE}
        assert refused.headers["retry-after"] == str(DATABASE_RETRY_AFTER_S)
        # Reads do not wait for a writer.
        assert client.get("/api/pools").status_code == 200
    finally:
        lock.execute("ROLLBACK")
    assert client.get("/api/pools/refused").status_code == 404  # nothing half-written
    assert new_pool(client, "refused").status_code == 201
    log = server.output(tail=1_000_000)
    assert "database unavailable in" in log and "Traceback" not in log


def test_the_admin_answers_a_locked_database_with_the_same_503(busy_site):
    server, _, path = busy_site
    with httpx.Client(base_url=server.url, timeout=60) as browser:
        page = browser.get("/admin/login/")
        csrf = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        lock = hold_the_write_lock(path)
        try:
            login = browser.post("/admin/login/", data={"csrfmiddlewaretoken": csrf, "username": "busy",
                                                        "password": "pw-busy-staff", "next": "/admin/"})
        finally:
            lock.execute("ROLLBACK")
        assert login.status_code == 503, login.text[:300]
        assert login.headers["retry-after"] == str(DATABASE_RETRY_AFTER_S)
        assert login.headers["content-type"].startswith("text/plain") and "try again" in login.text
        again = browser.post("/admin/login/", data={"csrfmiddlewaretoken": csrf, "username": "busy",
                                                    "password": "pw-busy-staff", "next": "/admin/"})
        assert again.status_code == 302 and again.headers["location"] == "/admin/"
    assert "Traceback" not in server.output(tail=1_000_000)


def test_a_table_locked_past_the_wait_is_a_503_on_the_suites_own_database(live_servers, transactional_db):
    """The same refusal on whichever database this pass runs on: SQLite's busy wait, or
    PostgreSQL's lock_timeout (settings give 20 s; 1 s here, through DATABASE_URL)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from tests.live_server import database_url

    staff = get_user_model().objects.create_user("locker", password="pw-locker-staff", is_staff=True)
    token = Token.objects.create(user=staff).key
    if connection.vendor == "postgresql":
        import psycopg

        server = live_servers(env={"DATABASE_URL": database_url() + "?options=-c%20lock_timeout%3D1s"})
        params = connection.settings_dict
        lock = psycopg.connect(host=params["HOST"], port=params["PORT"], dbname=params["NAME"], user=params["USER"],
                               password=params["PASSWORD"] or None)
        lock.execute("LOCK TABLE pools_pool IN ACCESS EXCLUSIVE MODE")  # psycopg opened a transaction
    else:
        server = live_servers(env={"DATABASE_URL": database_url() + f"?timeout={WAIT_S}"})
        lock = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Token {token}"}, timeout=60) as client:
        try:
            refused = new_pool(client, "locked")
        finally:
            lock.rollback() if connection.vendor == "postgresql" else lock.execute("ROLLBACK")
            lock.close()
        assert refused.status_code == 503, refused.text[:300]
        assert refused.json() == {"detail": DATABASE_UNAVAILABLE}
        assert refused.headers["retry-after"] == str(DATABASE_RETRY_AFTER_S)
        assert new_pool(client, "locked").status_code == 201
    assert "Traceback" not in server.output(tail=1_000_000)


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:////tmp/x.sqlite3", {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;",
                                  "transaction_mode": "IMMEDIATE"}),
    ("sqlite:////tmp/x.sqlite3?timeout=3", {"timeout": 3, "init_command": "PRAGMA journal_mode=WAL;",
                                            "transaction_mode": "IMMEDIATE"}),
    ("postgres://u:p@127.0.0.1:5/db", {"options": "-c lock_timeout=20s"}),
    # An operator's own connection options are theirs to keep.
    ("postgres://u:p@127.0.0.1:5/db?options=-c%20search_path%3Dx", {"options": "-c search_path=x"}),
])
def test_every_wait_for_a_lock_is_bounded_by_the_settings(url, expected):
    show = "import json, cryptohub.settings as s; print(json.dumps(s.DATABASES['default']['OPTIONS']))"
    env = {**server_env(), "DATABASE_URL": url, "SECRET_KEY": "k" * 60}
    done = subprocess.run([sys.executable, "-c", show], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    options = json.loads(done.stdout)
    options.pop("pool", None)  # PostgreSQL's connection pool settings, covered by README "PostgreSQL"
    assert options == expected
