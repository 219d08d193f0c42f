"""A real Celery worker (a subprocess) runs a real health sweep against the test Redis and the
test database file, end to end: providers probed over HTTP, rows written, lock respected."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

from healing.models.monitoring import HealthCheck
from healing.monitoring.sweep import sweep_lock_key

ROOT = Path(__file__).resolve().parents[3]
# Bounded waits (seconds): the worker's start-up plus one sweep of two local providers.
TASK_TIMEOUT_S = 90


@pytest.fixture
def worker():
    db_name = settings.DATABASES["default"]["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cryptohub.settings",
        "DATABASE_URL": f"sqlite:///{db_name}",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "CELERY_RESULT_BACKEND": settings.REDIS_URL,
        "CRYPTOHUB_REDIS_PREFIX": settings.CRYPTOHUB_REDIS_PREFIX,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    celery_bin = Path(sys.executable).with_name("celery")
    process = subprocess.Popen(
        [str(celery_bin), "-A", "cryptohub", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"sweep-test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    app = Celery("sweep-test", broker=settings.REDIS_URL, backend=settings.REDIS_URL)
    yield app
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    app.close()
    # Shown by pytest only when the test failed.
    print(output.decode(errors="replace")[-4000:])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_real_sweep_end_to_end(worker, loopback, make_provider, redis_client):
    make_provider(slug="alpha", base_url=loopback.url, health_path="/ok")
    make_provider(slug="beta", base_url=loopback.url, health_path="/status/503")

    summary = worker.send_task("healing.tasks.health_sweep_task").get(timeout=TASK_TIMEOUT_S)

    assert (summary["probed"], summary["up"], summary["down"], summary["locked_out"]) == (2, 1, 1, False)
    rows = dict(HealthCheck.objects.values_list("provider__slug", "ok"))
    assert rows == {"alpha": True, "beta": False}
    assert sorted(r.path for r in loopback.requests) == ["/ok", "/status/503"]
    assert redis_client.get(sweep_lock_key()) is None

    # While another sweep holds the lock, the task does nothing (and says so).
    redis_client.set(sweep_lock_key(), "someone-else", ex=60)
    summary = worker.send_task("healing.tasks.health_sweep_task").get(timeout=TASK_TIMEOUT_S)
    assert summary["locked_out"] is True
    assert HealthCheck.objects.count() == 2
