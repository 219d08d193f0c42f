"""A real Celery worker (a subprocess) runs a real health sweep against the test Redis and the
test database file, end to end: providers probed over HTTP, rows written, lock respected."""

import pytest

from healing.models.monitoring import HealthCheck
from healing.monitoring.sweep import sweep_lock_key

# Bounded waits (seconds): the worker's start-up plus one sweep of two local providers.
TASK_TIMEOUT_S = 90


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_real_sweep_end_to_end(celery_worker, loopback, make_provider, redis_client):
    make_provider(slug="alpha", base_url=loopback.url, health_path="/ok")
    make_provider(slug="beta", base_url=loopback.url, health_path="/status/503")

    summary = celery_worker.send_task("healing.tasks.health_sweep_task").get(timeout=TASK_TIMEOUT_S)

    assert (summary["probed"], summary["up"], summary["down"], summary["locked_out"]) == (2, 1, 1, False)
    rows = dict(HealthCheck.objects.values_list("provider__slug", "ok"))
    assert rows == {"alpha": True, "beta": False}
    assert sorted(r.path for r in loopback.requests) == ["/ok", "/status/503"]
    assert redis_client.get(sweep_lock_key()) is None

    # While another sweep holds the lock, the task does nothing (and says so).
    redis_client.set(sweep_lock_key(), "someone-else", ex=60)
    summary = celery_worker.send_task("healing.tasks.health_sweep_task").get(timeout=TASK_TIMEOUT_S)
    assert summary["locked_out"] is True
    assert HealthCheck.objects.count() == 2
