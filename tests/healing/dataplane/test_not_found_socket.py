"""Things that do not exist, asked over a real socket: a 404 naming them, and no provider blamed.

One uvicorn process over the fake upstream's catalogue; the breakers are read from the shared Redis."""

import asyncio

import httpx
import redis.asyncio
from django.conf import settings

from healing.engine.breaker import BreakerStore
from tests.fixtures.dataplane import POOLS


async def _states(slugs):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        import time

        return await BreakerStore(r, time.time).states(slugs)
    finally:
        await r.aclose()


def test_unknown_protocols_and_ids_are_404s_and_leave_breakers_closed(catalogue, fake_upstream, live_servers):
    server = live_servers()
    with httpx.Client(base_url=server.url, timeout=10, trust_env=False) as client:
        body = client.get("/api/data/tvl?protocol=notaprotocol").json()
        assert (body["field"], body["values"]) == ("protocol", ["notaprotocol"])
        assert {a["outcome"] for a in body["attempts"]} <= {"not_found", "skipped_no_key"}
        for n in range(60):  # more than any breaker threshold, each a distinct name
            assert client.get(f"/api/data/tvl?protocol=nope-{n}").status_code == 404
            assert client.get(f"/api/data/price?ids=notacoin{n}&vs=usd").status_code == 404
        known = client.get("/api/data/tvl?protocol=yearn-finance")
        assert known.status_code == 200 and known.json()["meta"]["source"] == "defillama"
        price = client.get("/api/data/price?ids=bitcoin&vs=usd")
        assert price.status_code == 200 and price.json()["meta"]["source"] == "coingecko"
    states = asyncio.run(_states(POOLS["tvl"] + POOLS["price"][:3]))
    assert all((s.state, s.consecutive_failures, s.window_failures) == ("closed", 0, 0) for s in states.values())
    assert "Traceback" not in server.output(tail=100_000)
