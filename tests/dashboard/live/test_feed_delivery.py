"""What the feed delivers beyond the protocol: price ticks fetched once for every subscriber, a
slow client's bounded queue (it loses `stats` first and `breakers` only with a `resync`), and
access when public reads are off. Real uvicorn, real Redis, the fake upstream."""

from __future__ import annotations

import time

import pytest
from rest_framework.authtoken.models import Token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from healing import events
from tests.dashboard.live.client import FeedClient, StalledClient
from tests.dashboard.live.conftest import FEED_ENV

pytestmark = pytest.mark.django_db(transaction=True)
STATS_BURST, BREAKER_EVENTS = 1500, 20
PADDING = "x" * 4000  # each stats event ~4 kB: the burst outgrows every socket buffer on the way


def test_price_ticks_reach_every_subscriber_from_one_upstream_fetch(catalogue, fake_upstream, live_servers):
    server = live_servers(workers=2, env={**FEED_ENV, "CRYPTOHUB_FEED_PRICE_TICK_S": "0.5"})
    fake_upstream.set_price(None, "bitcoin", "usd", 64_321.5)
    clients = [FeedClient(server.url) for _ in range(3)]
    for client in clients:
        client.subscribe("prices:bitcoin")
    for client in clients:
        for _ in range(2):
            tick = client.event("prices:bitcoin")["data"]
            assert tick["coin"] == "bitcoin" and tick["prices"] == {"usd": 64_321.5}
            assert tick["source"] == "coingecko" and tick["stale"] is False
    # One fetch for all three clients and every tick since: the engine's cache answered the rest.
    price_calls = [r for r in fake_upstream.requests("coingecko") if "price" in r["path"]]
    assert len(price_calls) == 1, price_calls
    late = FeedClient(server.url)  # a late subscriber's snapshot already holds the last tick
    assert late.subscribe("prices:bitcoin")["prices:bitcoin"]["data"]["tick"]["prices"] == {"usd": 64_321.5}
    for client in [*clients, late]:
        client.close()


def test_a_slow_client_loses_stats_first_and_breakers_only_with_a_resync(catalogue, live_servers):
    # A long idle limit: this client sends nothing while the burst is published.
    server = live_servers(workers=1, env={**FEED_ENV, "CRYPTOHUB_FEED_QUEUE_SIZE": "8",
                                         "CRYPTOHUB_FEED_STATS_S": "3600", "CRYPTOHUB_FEED_IDLE_S": "600",
                                         "CRYPTOHUB_FEED_HEARTBEAT_S": "600"})
    client = StalledClient(server.url)
    client.send({"type": "subscribe", "channels": ["stats", "breakers"]})
    client.read_until(lambda m: m["type"] == "snapshot" and m["channel"] == "breakers")
    client.pending.clear()
    # The client reads nothing while the burst is sent.
    for n in range(STATS_BURST):
        events.publish(events.STATS, [{"n": n, "padding": PADDING}])
        if n % (STATS_BURST // BREAKER_EVENTS) == 0:
            events.publish(events.BREAKERS, [{"provider": "drill", "n": n}])
    sent_breakers = {n for n in range(STATS_BURST) if n % (STATS_BURST // BREAKER_EVENTS) == 0}

    got_stats, got_breakers, resynced = 0, set(), set()
    deadline = time.monotonic() + 120
    quiet_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < 5:  # until 5 s of quiet
        arrived = client.read(timeout=1)
        if arrived:
            quiet_since = time.monotonic()
    for message in client.pending:
        if message["type"] == "event" and message["channel"] == "stats":
            got_stats += 1
        elif message["type"] == "event" and message["channel"] == "breakers":
            got_breakers.add(message["data"]["n"])
        elif message["type"] == "resync":
            resynced.update(message["channels"])
    assert got_stats < STATS_BURST  # the bound held: old stats were dropped
    assert got_breakers == sent_breakers or "breakers" in resynced
    client.send({"type": "ping"})  # and the connection is still there
    assert client.read_until(lambda m: m["type"] == "pong")
    client.close()


def test_with_public_reads_off_only_logged_in_clients_and_tokens_connect(catalogue, staff_user, live_servers):
    server = live_servers(workers=1, env={**FEED_ENV, "CRYPTOHUB_PUBLIC_READ": "false"}, wait=False)
    server.wait_ready(path="/health")  # the data plane's index needs a login now
    url = server.url.replace("http", "ws", 1) + "/ws/live/"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):
        connect(url, open_timeout=10, additional_headers={"Authorization": "Token not-a-token"})
    token = Token.objects.create(user=staff_user)
    client = FeedClient(server.url, additional_headers={"Authorization": f"Token {token.key}"})
    assert client.welcome["client_id"]
    client.close()
