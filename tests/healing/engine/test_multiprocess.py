"""Guarantees that only mean something across processes, proven with real uvicorn processes.

Each server is `uvicorn cryptohub.asgi:application` on its own port, reading the test database
file and the test Redis; the providers point at the fake upstream (its own process).
"""

import asyncio
import json
import time

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PRICE = "/api/data/price?ids=bitcoin,ethereum&vs=usd"
CONCURRENT_MISSES = 1000
# Upstream latency while the burst arrives, so the misses really overlap (milliseconds).
UPSTREAM_LATENCY_MS = 300
# An admin edit must be live everywhere within this long (the promise, in seconds).
EDIT_LIVE_WITHIN_S = 2.0


def _get(server, path):
    return httpx.get(server.url + path, timeout=30, trust_env=False)


def test_price_end_to_end_through_a_real_server(price_pool, fake_upstream, live_servers):
    server = live_servers()
    response = _get(server, PRICE)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["meta"]["source"], body["meta"]["served"]) == ("coingecko", "live")
    assert response.headers["x-cryptohub-source"] == "coingecko"
    assert response.headers["x-cryptohub-cache"] == "live"
    again = _get(server, PRICE)
    assert again.headers["x-cryptohub-cache"] == "cache"
    assert fake_upstream.calls() == 1
    # The control plane is served by the same process.
    status = _get(server, "/api/crypto-hub/health-status?provider=coingecko")
    assert status.status_code == 200
    assert status.json()["providers"][0]["stats"]["ok"] == 1


def test_an_orm_edit_is_live_in_a_running_server_within_two_seconds(price_pool, fake_upstream, live_servers):
    server = live_servers()
    assert _get(server, PRICE + "&provider=coingecko").status_code == 200
    coingecko = price_pool["coingecko"]
    coingecko.enabled = False
    coingecko.save()  # the signal bumps the config version in Redis on commit
    saved_at = time.monotonic()
    with httpx.Client(timeout=5, trust_env=False) as client:
        while True:
            response = client.get(server.url + PRICE + "&provider=coingecko")
            if response.status_code == 400 or time.monotonic() - saved_at > EDIT_LIVE_WITHIN_S:
                break
            time.sleep(0.05)
    assert response.status_code == 400, "the edit did not reach the server within 2 s"
    assert "disabled" in response.json()["detail"]
    calls_before = fake_upstream.calls("coingecko")
    fallback = _get(server, "/api/data/price?ids=solana")
    assert fallback.json()["meta"]["source"] == "coinpaprika"
    assert fake_upstream.calls("coingecko") == calls_before


async def _raw_get(port: int, path: str) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 GET on its own connection. A bare socket client, because httpx's pool
    bookkeeping with 1,000 connections in one process would take longer than the burst itself."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split(" ", 2)[1]), headers, body


async def _burst(ports: list[int], path: str, n: int) -> list[tuple[int, dict, bytes]]:
    """n concurrent identical GETs, spread round-robin over the servers."""
    return await asyncio.gather(*(_raw_get(ports[i % len(ports)], path) for i in range(n)))


def _only_member(slug: str) -> None:
    """Leave one provider in the price pool: with a slow primary the engine would otherwise
    hedge to the next member, which is a second (legitimate) upstream call of the one fetch."""
    from pools.models import PoolMembership

    PoolMembership.objects.exclude(provider__slug=slug).delete()


def test_single_flight_across_two_processes_makes_one_upstream_call(price_pool, fake_upstream, live_servers):
    _only_member("coingecko")
    first, second = live_servers(), live_servers()
    fake_upstream.fault("coingecko", "latency", ms=UPSTREAM_LATENCY_MS)
    responses = asyncio.run(_burst([first.port, second.port], PRICE, CONCURRENT_MISSES))
    assert [status for status, _, _ in responses] == [200] * CONCURRENT_MISSES
    assert fake_upstream.calls() == 1
    assert len({json.dumps(json.loads(body)["data"], sort_keys=True) for _, _, body in responses}) == 1
    assert {headers["x-cryptohub-source"] for _, headers, _ in responses} == {"coingecko"}


def test_single_flight_with_uvicorn_workers(price_pool, fake_upstream, live_servers):
    _only_member("coingecko")
    server = live_servers(workers=2)
    fake_upstream.fault("coingecko", "latency", ms=UPSTREAM_LATENCY_MS)
    responses = asyncio.run(_burst([server.port], PRICE, CONCURRENT_MISSES // 2))
    assert [status for status, _, _ in responses] == [200] * (CONCURRENT_MISSES // 2)
    assert fake_upstream.calls() == 1


def test_breaker_state_is_shared_between_processes(price_pool, fake_upstream, live_servers):
    coingecko = price_pool["coingecko"]
    coingecko.breaker_failure_threshold = 2
    coingecko.breaker_open_s = 600  # stays open for the whole test
    coingecko.save()
    tripper, observer = live_servers(), live_servers()
    fake_upstream.fault("coingecko", "status", status=503)

    # Trip it through the first process: distinct ids so every request misses the cache.
    for coin in ("bitcoin", "ethereum", "solana", "cardano"):
        response = _get(tripper, f"/api/data/price?ids={coin}")
        assert response.json()["meta"]["source"] == "coinpaprika"
        if _get(tripper, "/api/crypto-hub/health-status?provider=coingecko").json()["providers"][0][
                "breaker"]["state"] == "open":
            break
    # The second process sees it open...
    seen = _get(observer, "/api/crypto-hub/health-status?provider=coingecko").json()["providers"][0]["breaker"]
    assert seen["state"] == "open"
    assert seen["reopens_at"]
    # ...and its data plane routes around it without a single call.
    fake_upstream.reset()
    response = _get(observer, "/api/data/price?ids=dogecoin,litecoin")
    assert response.status_code == 200
    assert response.json()["meta"]["source"] == "coinpaprika"
    assert fake_upstream.calls("coingecko") == 0
    assert fake_upstream.calls("coinpaprika") == 1
