"""SECRET_KEY never comes from the source: starts without one refuse (uvicorn, Celery, manage.py
against another database or in production), manage.py on SQLite and the tests get a throwaway
key, and `make run`'s script creates its key file once (0600) and reuses it."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from cryptohub.secretkey import REFUSED_EXIT_STATUS, ensure_key_file, key_optional
from tests.live_server import REPO_ROOT, LiveServer, server_env
from tests.redis_server import free_port

BIN = Path(sys.executable).parent
MESSAGE = "cryptohub: SECRET_KEY is not set. Set SECRET_KEY"


def _env_without_key(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CRYPTOHUB_ENV")}
    env.update({"DJANGO_SETTINGS_MODULE": "cryptohub.settings", "PYTHONPATH": str(REPO_ROOT), **extra})
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)


def _refused(result: subprocess.CompletedProcess, status: int = REFUSED_EXIT_STATUS) -> bool:
    lines = [line for line in result.stderr.splitlines() if line.startswith("cryptohub:")]
    return result.returncode == status and len(lines) >= 1 and lines[0].startswith(MESSAGE)


def test_only_tests_and_manage_py_on_sqlite_may_start_without_a_key():
    assert key_optional(settings_module="tests.settings", argv0="pytest", sqlite=False, production=True)
    assert key_optional(settings_module="cryptohub.settings", argv0="./manage.py", sqlite=True, production=False)
    assert not key_optional(settings_module="cryptohub.settings", argv0="manage.py", sqlite=False, production=False)
    assert not key_optional(settings_module="cryptohub.settings", argv0="manage.py", sqlite=True, production=True)
    assert not key_optional(settings_module="cryptohub.settings", argv0="uvicorn", sqlite=True, production=False)
    assert not key_optional(settings_module="cryptohub.settings", argv0="celery", sqlite=True, production=False)


def test_the_source_holds_no_fallback_key():
    text = (REPO_ROOT / "cryptohub" / "settings.py").read_text()
    assert "development-only-key" not in text and "django-insecure" not in text


@pytest.mark.slow
def test_uvicorn_without_a_key_refuses_with_one_line_even_with_workers():
    command = [sys.executable, "-m", "uvicorn", "cryptohub.asgi:application", "--host", "127.0.0.1",
               "--port", str(free_port()), "--workers", "2"]
    result = _run(command, _env_without_key())
    # Each worker exits with uvicorn's startup-failure status, so the parent stops instead of
    # restarting them (uvicorn's parent itself then exits 0: its choice, not ours).
    assert "failed to start, stopping the parent process" in result.stderr
    assert MESSAGE in result.stderr and "Traceback" not in result.stderr


def test_one_uvicorn_process_without_a_key_exits_with_the_startup_failure_status():
    command = [sys.executable, "-m", "uvicorn", "cryptohub.asgi:application", "--port", str(free_port())]
    result = _run(command, _env_without_key())
    assert _refused(result), result.stderr[-2000:]


@pytest.mark.slow
def test_celery_without_a_key_refuses():
    result = _run([str(BIN / "celery"), "-A", "cryptohub", "worker", "--pool=solo"], _env_without_key())
    assert result.returncode != 0
    assert MESSAGE in result.stderr


def test_manage_py_refuses_against_another_database_and_in_production(tmp_path):
    postgres = _run([sys.executable, "manage.py", "check"],
                    _env_without_key(DATABASE_URL="postgres://u:p@127.0.0.1:1/cryptohub"))
    assert _refused(postgres), postgres.stderr
    production = _run([sys.executable, "manage.py", "check"],
                      _env_without_key(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CRYPTOHUB_ENV="production"))
    assert _refused(production), production.stderr


def test_manage_py_on_sqlite_runs_without_a_key(tmp_path):
    result = _run([sys.executable, "manage.py", "check"], _env_without_key(DATABASE_URL=f"sqlite:///{tmp_path / 'x'}"))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_key_file_is_created_owner_only_once_and_reused(tmp_path):
    path = tmp_path / "key"
    key, created = ensure_key_file(path)
    assert created and len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    again, created_again = ensure_key_file(path)
    assert (again, created_again) == (key, False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _run_all(env: dict[str, str], port: int) -> LiveServer:
    log = open(env["RUN_ALL_LOG"], "w+b")  # noqa: SIM115 - closed by LiveServer.stop()
    process = subprocess.Popen(["scripts/run-all.sh"], cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    server = LiveServer(process, port, log)
    server.wait_ready(path="/health")
    return server


def _stop(server: LiveServer) -> None:
    os.killpg(server.process.pid, signal.SIGINT)
    server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_run_all_creates_the_key_file_once_and_reuses_it(tmp_path):
    key_file = tmp_path / "secret-key"
    port = free_port()
    env = {k: v for k, v in server_env().items() if k != "SECRET_KEY"}
    env.update({"CRYPTOHUB_SECRET_KEY_FILE": str(key_file), "PORT": str(port), "WEB_CONCURRENCY": "1",
                "CELERY_BROKER_URL": settings.REDIS_URL, "CELERY_RESULT_BACKEND": settings.REDIS_URL,
                "RUN_ALL_LOG": str(tmp_path / "run-all.log")})
    first = _run_all(env, port)
    try:
        key = key_file.read_text().strip()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key) >= 50
        assert "Created a secret key" in first.output()
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    finally:
        _stop(first)
    second = _run_all(env, port)
    try:
        assert key_file.read_text().strip() == key
        assert "Created a secret key" not in second.output()
    finally:
        _stop(second)
