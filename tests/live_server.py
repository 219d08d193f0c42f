"""Real cryptohub server processes for tests, and the data plane app served in the test's process.

`start_server()` runs `uvicorn cryptohub.asgi:application` in a subprocess; `serve_in_process()`
runs the data plane app in this process behind an httpx client.

The server uses the production settings module, pointed at the pytest test database (the SQLite
file, or PostgreSQL in `make test-postgres`, so rows a `django_db(transaction=True)` test commits
are visible to it), the test Redis and the test's key prefix. `start_server()` returns once the
server answers HTTP; `stop()` ends it (and its workers). The `live_servers` fixture
(tests/fixtures/dataplane.py) stops every server it started at teardown.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.redis_server import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
# Django + the data plane start in about a second; a loaded CI machine gets much longer.
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 10
# Any path the data plane answers without touching providers.
READY_PATH = "/api/data/"


class LiveServer:
    def __init__(self, process: subprocess.Popen, port: int, log: tempfile.SpooledTemporaryFile) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = log

    def output(self, tail: int = 4000) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-tail:]

    @property
    def name(self) -> str:
        return f"server on port {self.port}"

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S, path: str = READY_PATH) -> None:
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2, trust_env=False) as client:
            while True:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise RuntimeError(f"{self.name} exited ({code}):\n{self.output()}")
                try:
                    if client.get(self.url + path).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    output = self.output()  # read before stop() closes the log
                    self.stop()
                    raise RuntimeError(f"{self.name} not ready in {timeout_s} s:\n{output}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            # The server runs in its own process group (start_new_session): SIGTERM reaches the
            # uvicorn supervisor and its workers, and nothing else.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self._log.close()


def database_url(name: str | None = None) -> str:
    """The test database (or another database `name` beside it) as a DATABASE_URL for another process:
    the SQLite file, or the database on the PostgreSQL pass's cluster (tests/pg_plugin.py)."""
    from urllib.parse import quote

    from django.db import connection

    params = connection.settings_dict
    db_name = name or params["NAME"]
    if connection.vendor == "postgresql":
        login = ":".join(quote(part, safe="") for part in (params["USER"], params["PASSWORD"]) if part)
        return f"postgres://{login}@{params['HOST']}:{params['PORT']}/{quote(db_name, safe='')}"
    if not os.path.isabs(db_name):
        raise RuntimeError(f"the test database must be a file for server processes to share it, got {db_name!r}")
    return f"sqlite:///{db_name}"


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a server process needs to share the test's database and Redis."""
    from django.conf import settings

    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "cryptohub.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CRYPTOHUB_REDIS_PREFIX": settings.CRYPTOHUB_REDIS_PREFIX,
        "CRYPTOHUB_ANON_LIMITS": settings.CRYPTOHUB_ANON_LIMITS,
        "PYTHONPATH": str(REPO_ROOT),
        "DEBUG": "False",
        "LOG_LEVEL": "WARNING",
        # The test settings' key: server processes refuse to start without one.
        "SECRET_KEY": settings.SECRET_KEY,
    })
    env.update(extra or {})
    return env


def uvicorn_command(app: str, *, port: int, workers: int) -> list[str]:
    """The uvicorn command line every real server here runs with (tests and the benchmark)."""
    return [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning", "--lifespan", "on",
        "--backlog", "4096",
    ]


def start_server(workers: int = 1, port: int | None = None, env: dict[str, str] | None = None,
                 wait: bool = True) -> LiveServer:
    """Start `uvicorn cryptohub.asgi:application --workers N` on 127.0.0.1 and wait until it answers."""
    port = port or free_port()
    log = tempfile.SpooledTemporaryFile(max_size=1_000_000)
    command = uvicorn_command("cryptohub.asgi:application", port=port, workers=workers)
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=server_env(env), stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = LiveServer(process, port, log)
    if wait:
        server.wait_ready()
    return server


@contextlib.asynccontextmanager
async def serve_in_process(**options):
    from healing.dataplane.app import create_app
    from healing.engine import fetch as engine

    app = create_app(**options)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app
            yield client
        await engine.drain_background()
