"""The live feed's protocol against a real uvicorn (two workers) and real Redis, with a Python
WebSocket client: every message type, bad messages (the connection stays), heartbeat and idle
close, the Origin rule, presence and GET /api/sessions across the two workers."""

from __future__ import annotations

import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from healing import events
from tests.dashboard.live.client import FeedClient
from tests.dashboard.live.conftest import HEARTBEAT_S, IDLE_S

pytestmark = pytest.mark.django_db(transaction=True)
# Clients opened at most (and seconds spent) to land at least one on each of the two workers: the
# kernel hands connections to whichever worker accepts first, and on a loaded machine the second
# worker may still be starting.
MAX_CLIENTS, SPREAD_DEADLINE_S = 200, 90


def test_welcome_snapshots_ping_and_events(feed_site):
    client = FeedClient(feed_site.url)
    welcome = client.welcome
    assert len(welcome["client_id"]) == 16 and welcome["online"] >= 1
    assert {"health", "breakers", "pools", "alerts", "stats", "prices:<coin id>"} <= set(welcome["channels"])
    assert welcome["heartbeat_s"] == HEARTBEAT_S and welcome["idle_timeout_s"] == IDLE_S

    snaps = client.subscribe("health", "breakers", "pools", "alerts", "stats", "prices:bitcoin")
    providers = {row["provider"]: row for row in snaps["breakers"]["data"]["providers"]}
    assert providers["coingecko"]["state"] == "closed"
    assert {row["provider"] for row in snaps["health"]["data"]["providers"]} == set(providers)
    price_pool = next(p for p in snaps["pools"]["data"]["pools"] if p["pool"] == "price")
    assert price_pool["head"] == "coingecko" and price_pool["members"][0]["provider"] == "coingecko"
    assert snaps["alerts"]["data"] == {"alerts": []}
    assert snaps["prices:bitcoin"]["data"]["coin"] == "bitcoin"

    client.send({"type": "ping"})
    assert client.wait_for(lambda m: m["type"] in ("pong", "error"))["type"] == "pong"

    events.publish(events.ALERTS, [{"id": 7, "event": "open", "subject": "drill"}])
    event = client.event(events.ALERTS)
    assert event["data"] == {"id": 7, "event": "open", "subject": "drill"} and event["at"].endswith("Z")
    assert set(event) == {"type", "channel", "data", "at"}
    client.close()


@pytest.mark.parametrize(("frame", "code", "field"), [
    ("not json", "not_json", None),
    (b"\x00\x01binary", "not_json", None),
    # Nested 2,000 deep inside the size limit: the standard decoder's RecursionError used to drop
    # the connection with no close frame.
    ("[" * 2000 + "]" * 2000, "not_json", None),
    ('{"type": "subscribe", "channels": ' + "[" * 65 + "]" * 65 + "}", "not_json", None),
    ('{"type": "subscribe", "channels": ["\\ud800"]}', "not_json", None),
    ('{"type": "ping", "n": NaN}', "not_json", None),
    ('{"type": "subscribe", "channels": ["x"]}' + " " * 5000, "too_large", None),
    ("[1, 2]", "bad_message", None),
    ('{"type": "shout"}', "unknown_type", "type"),
    ('{"channels": ["health"]}', "unknown_type", "type"),
    ('{"type": "subscribe", "channels": "health"}', "bad_channels", "channels"),
    ('{"type": "subscribe", "channels": []}', "bad_channels", "channels"),
    ('{"type": "subscribe", "channels": [1]}', "bad_channels", "channels"),
    ('{"type": "subscribe", "channels": ["health", "gossip"]}', "unknown_channel", "channels"),
    ('{"type": "subscribe", "channels": ["prices:BTC USD"]}', "unknown_channel", "channels"),
    ('{"type": "unsubscribe", "channels": ["nope"]}', "unknown_channel", "channels"),
])
def test_a_bad_message_gets_an_error_and_the_connection_stays(feed_site, frame, code, field):
    client = FeedClient(feed_site.url)
    client.send(frame)
    error = client.wait_for(lambda m: m["type"] == "error")
    assert (error["code"], error["field"]) == (code, field) and error["message"]
    # Nothing was subscribed by the refused message, and the connection still answers.
    client.send({"type": "ping"})
    assert client.wait_for(lambda m: m["type"] in ("pong", "snapshot"))["type"] == "pong"
    client.close()


def test_unsubscribe_stops_a_channel_and_others_go_on(feed_site):
    client = FeedClient(feed_site.url)
    client.subscribe("alerts", "pools")
    client.send({"type": "unsubscribe", "channels": ["alerts"]})
    assert client.wait_for(lambda m: m["type"] == "unsubscribed")["channels"] == ["alerts"]
    events.publish(events.ALERTS, [{"n": 1}])
    events.publish(events.POOLS, [{"n": 2}])
    client.event(events.POOLS, lambda data: data == {"n": 2})
    assert not any(m["type"] == "event" and m["channel"] == events.ALERTS for m in client.seen)
    client.close()


def test_heartbeats_keep_coming_and_a_silent_client_is_closed(feed_site):
    silent, chatty = FeedClient(feed_site.url), FeedClient(feed_site.url)
    opened = time.monotonic()
    beats = 0
    while time.monotonic() - opened < IDLE_S + 2 * HEARTBEAT_S:
        chatty.send({"type": "ping"})
        beats += chatty.wait_for(lambda m: m["type"] in ("heartbeat", "pong"))["type"] == "heartbeat"
        time.sleep(HEARTBEAT_S / 2)
    assert beats >= 2
    with pytest.raises(ConnectionClosed) as closed:
        silent.wait_for(lambda m: False, timeout=IDLE_S * 3)
    assert closed.value.rcvd.code == 4408
    assert any(m["type"] == "heartbeat" for m in silent.seen)  # it was sent heartbeats until then
    chatty.send({"type": "ping"})
    assert chatty.wait_for(lambda m: m["type"] == "pong")  # the talking client is still there
    chatty.close()


def _handshake_status(url: str, **options) -> int | None:
    try:
        with connect(url.replace("http", "ws", 1), open_timeout=10, **options):
            return None
    except InvalidStatus as refused:
        return refused.response.status_code


def test_origin_browsers_of_this_site_and_clients_without_origin_only(feed_site):
    url = feed_site.url + "/ws/live/"
    assert _handshake_status(url) is None  # a service: no Origin header at all
    assert _handshake_status(url, origin=f"http://127.0.0.1:{feed_site.port}") is None
    assert _handshake_status(url, origin="http://localhost:3000") is None  # an allowed host, any port
    assert _handshake_status(url, origin="https://evil.example") == 403
    assert _handshake_status(url, additional_headers={"Origin": "null"}) == 403
    assert _handshake_status(feed_site.url + "/ws/elsewhere/") == 403


def _clients_on_both_workers(url: str) -> tuple[list[FeedClient], dict[str, int]]:
    clients: list[FeedClient] = []
    deadline = time.monotonic() + SPREAD_DEADLINE_S
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
        while len(clients) < MAX_CLIENTS and time.monotonic() < deadline:
            clients.append(FeedClient(url, ping_every_s=IDLE_S / 4))
            rows = http.get("/api/sessions").json()["results"]
            pids = {row["client_id"]: row["pid"] for row in rows}
            if len(set(pids.values())) == 2:
                return clients, pids
            time.sleep(0.2)
    raise AssertionError(f"{len(clients)} connections all landed on one worker")


def _sessions_until(url: str, expected) -> dict:
    """`GET /api/sessions` until `expected(report)` holds (bounded): a heartbeat that runs late on a
    loaded machine lets an entry lapse until the next one writes it again."""
    deadline = time.monotonic() + SPREAD_DEADLINE_S
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
        while True:
            report = http.get("/api/sessions").json()
            if expected(report) or time.monotonic() > deadline:
                return report
            time.sleep(0.2)


def _ids(report: dict) -> set[str]:
    return {row["client_id"] for row in report["results"]}


def test_presence_and_sessions_count_the_clients_of_both_workers(feed_site):
    clients, _ = _clients_on_both_workers(feed_site.url)
    ids = {c.welcome["client_id"] for c in clients}
    assert _ids(_sessions_until(feed_site.url, lambda report: _ids(report) == ids)) == ids
    total = len(clients)
    for client in clients:  # every client, on either worker, hears the final count
        if client.welcome["online"] != total:
            client.wait_for(lambda m: m["type"] == "presence" and m["online"] == total)

    clients[0].subscribe("health", "prices:ethereum")
    first = clients[0].welcome["client_id"]
    report = _sessions_until(feed_site.url, lambda report: any(
        r["client_id"] == first and r["channels"] for r in report["results"]))
    assert report["count"] == total
    row = next(r for r in report["results"] if r["client_id"] == first)
    assert row["channels"] == ["health", "prices:ethereum"] and row["connected_at"].endswith("Z")

    leaving = clients[: total // 2]
    for client in leaving:
        client.close()
    left = total - len(leaving)
    for client in clients[total // 2:]:
        client.wait_for(lambda m: m["type"] == "presence" and m["online"] == left)
    staying = {c.welcome["client_id"] for c in clients[total // 2:]}
    report = _sessions_until(feed_site.url, lambda report: _ids(report) == staying)
    assert _ids(report) == staying and report["count"] == left
    for client in clients[total // 2:]:
        client.close()
