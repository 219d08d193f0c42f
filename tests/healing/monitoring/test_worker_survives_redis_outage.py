"""A real Celery worker and beat ride out a Redis outage: the test's own redis-server (broker and
result backend) is stopped and started again, and both carry on without a restart."""

import os
import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from celery import Celery
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.fixtures.worker import start_celery, stop_process

TASK = "healing.tasks.sync_maintenance_task"
# Bounded waits (seconds): start-up, and the worker's reconnect backoff after the outage.
ROUND_TRIP_TIMEOUT_S = 60
OUTAGE_S = 3
LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+: INFO/MainProcess\] Task " + re.escape(TASK)
                      + r"\[[0-9a-f-]+\] received", re.M)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_survive_a_redis_outage(own_redis):
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="outage test", task=TASK, interval=every_second)
    worker, worker_log = start_celery("worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
                                      "--without-mingle", "--without-heartbeat", "-n", f"outage-{os.getpid()}@%h",
                                      redis_url=own_redis.url)
    beat, beat_log = start_celery("beat", "--loglevel=INFO", redis_url=own_redis.url)
    app = Celery("outage-test", broker=own_redis.url, backend=own_redis.url)
    try:
        assert app.send_task(TASK).get(timeout=ROUND_TRIP_TIMEOUT_S) == {"providers": [], "pools": []}
        own_redis.stop()
        time.sleep(OUTAGE_S)
        own_redis.start()
        restarted_at = datetime.now().replace(microsecond=0)
        # The worker reconnects by itself: a task sent after the outage is run and answered.
        assert app.send_task(TASK).get(timeout=ROUND_TRIP_TIMEOUT_S) == {"providers": [], "pools": []}
        assert worker.poll() is None and beat.poll() is None
        deadline = time.monotonic() + ROUND_TRIP_TIMEOUT_S
        after: list[str] = []
        # One of them is the task sent above; beat sends its every-second task on top.
        while len(after) < 3 and time.monotonic() < deadline:  # bounded
            log = Path(worker_log.name).read_text(errors="replace")
            after = [t for t in LOG_TIME.findall(log) if datetime.fromisoformat(t) > restarted_at]
            time.sleep(0.5)
        assert len(after) >= 3, "beat sent nothing the worker received after Redis came back"
    finally:
        app.close()
        stop_process(beat)
        stop_process(worker)
        print(Path(worker_log.name).read_text(errors="replace")[-3000:])
        print(Path(beat_log.name).read_text(errors="replace")[-3000:])
