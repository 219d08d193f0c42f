"""A Redis outage under load, over real sockets: two uvicorn workers, the fake upstream, and a
redis-server of the test's own that is stopped and started again while clients keep asking."""

import asyncio

import httpx

from healing.engine.degraded import DEGRADED_HEADER
from tests.fake_upstream.market import MARKET

HEADER = DEGRADED_HEADER.decode()
CACHED = "/api/data/price?ids=bitcoin&vs=usd"
# Queries nobody asked before the outage: each is a miss that only a provider can answer.
MISSES = [f"/api/data/price?ids={coin}&vs=eur" for coin in sorted(MARKET) if coin != "bitcoin"][:20]


async def _load(client: httpx.AsyncClient, paths: list[str], concurrency: int = 8) -> list[httpx.Response]:
    queue = list(paths)
    answers: list[httpx.Response] = []

    async def worker() -> None:
        while queue:
            answers.append(await client.get(queue.pop()))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answers


async def test_outage_under_load_answers_every_request_and_shared_service_returns(
    own_redis, catalogue, fake_upstream, live_servers
):
    server = live_servers(workers=2, env={"REDIS_URL": own_redis.url, "CRYPTOHUB_PROCESS_COUNT": "2"})
    async with httpx.AsyncClient(base_url=server.url, timeout=10, trust_env=False) as client:
        warm = await _load(client, [CACHED] * 40)
        assert {a.status_code for a in warm} == {200}
        assert not any(HEADER in a.headers for a in warm)

        own_redis.stop()
        calls_before = fake_upstream.calls()
        during = await _load(client, [CACHED] * 160 + MISSES * 2)
        statuses = sorted({a.status_code for a in during})
        assert statuses == [200], [a.text[:200] for a in during if a.status_code != 200][:3]
        assert all(a.headers.get(HEADER) == "redis" for a in during)
        assert all(a.json()["meta"]["degraded"] == "redis" for a in during)
        misses = [a for a in during if a.request.url.params["vs"] == "eur"]
        assert len(misses) == len(MISSES) * 2
        assert {a.json()["meta"]["source"] for a in misses} == {"coingecko"}
        # Misses reached the provider; the cached query did not (every answer for it was a copy).
        assert 0 < fake_upstream.calls() - calls_before <= len(MISSES) * 2
        cached = [a for a in during if a not in misses]
        assert {a.json()["meta"]["served"] for a in cached} == {"cache"}
        # The safe proxy answers too: a raw provider call on the process's own budget and breaker.
        for _ in range(3):
            raw = await client.post("/api/crypto-hub/proxy", json={
                "provider": "coingecko", "path": "/simple/price", "params": {"ids": "bitcoin", "vs_currencies": "usd"}})
            assert raw.status_code == 200 and "bitcoin" in raw.json()

        own_redis.start()
        shared_in_a_row = 0
        for _ in range(100):  # bounded: about 5 s of polls
            answer = await client.get(CACHED)
            assert answer.status_code == 200
            shared_in_a_row = 0 if HEADER in answer.headers else shared_in_a_row + 1
            if shared_in_a_row >= 20:  # both workers are back on shared state
                break
            await asyncio.sleep(0.05)
        assert shared_in_a_row >= 20

    log = server.output(tail=200_000)
    assert "Traceback" not in log
    # One warning per outage per process, not one per request (2 workers).
    assert 1 <= log.count("Redis unreachable") <= 2, log[-3000:]
