"""Degraded mode against a real redis-server of the test's own, stopped and started again."""

import logging
import shutil
import subprocess
import tempfile
import time

import pytest
import redis
import redis.asyncio

from healing.engine import cache, degraded
from healing.engine import fetch as engine
from healing.engine.http import make_client
from tests.redis_server import free_port


class OwnRedis:
    """A redis-server on a fixed loopback port that the test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="cryptohub-redis-degraded-")
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir.name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(200):  # bounded: 10 s at most
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait(timeout=5)


@pytest.fixture
def own_redis():
    server = OwnRedis()
    server.start()
    yield server
    if server._process is not None and server._process.poll() is None:
        server.stop()
    server._dir.cleanup()


async def test_copy_answers_while_redis_is_down_and_shared_service_returns(own_redis, caplog):
    r = redis.asyncio.Redis.from_url(own_redis.url, **degraded.client_options())
    deps = engine.Deps(redis=r, http=make_client())
    deps.health._probe_every_s = 0.0  # every request may try Redis: the test steps through the outage
    key = cache.data_key("price", {"ids": ["bitcoin"], "vs": ["usd"]})
    entry = cache.Entry({"bitcoin": {"usd": 1.0}}, "coingecko", deps.clock())
    await cache.write(r, key, entry, keep_s=60)
    held = await engine.local_hit("price", key, 1, deps)
    assert held is not None and not deps.health.down

    own_redis.stop()
    caplog.set_level(logging.INFO, logger="healing.engine.degraded")
    for _ in range(5):
        during = await engine.local_hit("price", key, 1, deps)
        assert during is not None and during.entry.data == {"bitcoin": {"usd": 1.0}}
    assert deps.health.down and deps.health.outages == 1
    warnings = [rec for rec in caplog.records if rec.name == "healing.engine.degraded" and rec.levelno == logging.WARNING]
    assert len(warnings) == 1  # one warning per outage, not one per request

    own_redis.start()
    for _ in range(50):  # bounded polls until the shared cache answers again
        if await engine.local_hit("price", key, 1, deps) is None or not deps.health.down:
            break
    assert not deps.health.down
    assert any("restored" in rec.getMessage() for rec in caplog.records)
    await deps.http.aclose()
    await r.aclose()


def test_health_tries_redis_at_most_once_per_interval():
    now = [100.0]
    health = degraded.RedisHealth(monotonic=lambda: now[0], probe_every_s=1.0)
    health.failed(ConnectionError("down"))
    assert [health.may_try() for _ in range(3)] == [False, False, False]
    now[0] += 1.0
    assert health.may_try() and not health.may_try()
    health.ok()
    assert health.may_try() and not health.down
