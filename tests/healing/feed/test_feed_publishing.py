"""What the publishers put on the channel layer, read back through the real layer (channels_redis on
the session Redis): the one message shape, a breaker transition's `breakers` and `health` events,
and publishing that never fails its caller when the layer is down."""

import logging

import pytest
from asgiref.sync import async_to_sync

from healing import breaker_feed, events, pool_heads
from healing.engine import breaker, ratelimit
from healing.engine.breaker import BreakerStore
from healing.engine.config import ProviderConfig, Snapshot
from providers.measures import iso_precise
from tests.fixtures.clock import T0, FakeClock
from tests.healing.feed.listen import Listener
from tests.redis_server import free_port


def cfg(slug="alpha"):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:1")


@pytest.fixture
def feed_observers(monkeypatch):
    """Only the live feed's observers, installed the way healing.apps does, with no pools to judge."""
    monkeypatch.setattr(breaker, "OBSERVERS", [])
    monkeypatch.setattr(ratelimit, "SPENT_OBSERVERS", [])
    monkeypatch.setattr(pool_heads, "_snapshots", [])
    empty = Snapshot(version=1)

    async def no_pools(_redis):
        return empty

    pool_heads.use_snapshots(no_pools)
    breaker_feed.install()


# --- the message -------------------------------------------------------------------------------


def test_every_message_has_the_one_shape_and_critical_channels_say_so():
    for channel, critical in (("breakers", True), ("alerts", True), ("health", False), ("pools", False),
                              ("stats", False), ("prices:bitcoin", False)):
        assert events.feed_message(channel, {"n": 1}, at=T0) == {
            "type": "feed.event", "channel": channel, "data": {"n": 1}, "at": iso_precise(T0), "critical": critical,
        }
    assert events.feed_message("health", {}, at=T0 + 0.25)["at"].endswith(".250000Z")


def test_channels_map_to_groups_and_anything_else_is_refused():
    assert events.group_name("breakers") == "live.breakers"
    assert events.group_name("prices:bitcoin") == "live.prices.bitcoin"
    for bad in ("nope", "prices:", "prices:Bit Coin", "prices:" + "x" * 65, "live.health"):
        with pytest.raises(ValueError):
            events.group_name(bad)
    assert events.coin_of("prices:usd-coin") == "usd-coin"
    assert events.coin_of("health") is None


async def test_apublish_sends_one_message_per_item_in_order():
    listener = await Listener.on("health")
    await events.apublish("health", [{"n": 1}, {"n": 2}])
    await events.apublish("health", [])  # nothing to send: nothing sent
    got = await listener.drain()
    assert [m["data"] for m in got] == [{"n": 1}, {"n": 2}]
    assert {(m["type"], m["channel"], m["critical"]) for m in got} == {("feed.event", "health", False)}
    assert all(m["at"].endswith("Z") for m in got)


def test_publish_from_sync_code_reaches_the_group():
    listener = async_to_sync(Listener.on)("alerts")
    events.publish("alerts", [{"id": 7}])
    got = async_to_sync(listener.drain)()
    assert [(m["channel"], m["data"], m["critical"]) for m in got] == [("alerts", {"id": 7}, True)]


async def test_a_bad_channel_is_logged_and_never_raises(caplog):
    with caplog.at_level(logging.WARNING, logger="healing.events"):
        await events.apublish("nope", [{"n": 1}])
        events.publish("nope", [{"n": 1}])
    assert sum("nope events not published (1)" in r.getMessage() for r in caplog.records) == 2


# --- breaker transitions ------------------------------------------------------------------------


def test_install_is_idempotent(feed_observers):
    breaker_feed.install()
    assert breaker.OBSERVERS == [breaker_feed.on_transition]
    assert ratelimit.SPENT_OBSERVERS == [breaker_feed.on_budget_spent]


async def test_a_breaker_opened_by_a_record_publishes_breakers_and_traffic_health(aredis, feed_observers):
    listener = await Listener.on("breakers", "health")
    store = BreakerStore(aredis, FakeClock())
    for _ in range(5):
        await store.record(cfg(), False)
    got = await listener.drain()
    assert [(m["channel"], m["critical"]) for m in got] == [("breakers", True), ("health", False)]
    assert got[0]["data"] == {
        "provider": "alpha", "from": "closed", "to": "open", "reopens_at": iso_precise(T0 + 30), "trips": 1,
        "reason": "failures: 5 consecutive", "at": iso_precise(T0),
    }
    assert got[1]["data"] == {
        "provider": "alpha", "status": "down", "previous": "up", "at": iso_precise(T0), "latency_ms": None,
        "error_class": "", "message": "breaker open: failures: 5 consecutive", "source": "traffic",
    }


async def test_the_whole_cycle_publishes_each_change_once(aredis, feed_observers):
    listener = await Listener.on("breakers", "health")
    clock = FakeClock()
    store = BreakerStore(aredis, clock)
    for _ in range(7):  # 5 trip it; 2 more while open change nothing
        await store.record(cfg(), False)
    clock.advance(30)
    assert await store.allow(cfg())
    assert not await store.allow(cfg())
    await store.record(cfg(), True)
    await store.record(cfg(), True)
    got = await listener.drain()
    breakers = [(m["data"]["from"], m["data"]["to"], m["data"]["reopens_at"]) for m in got if m["channel"] == "breakers"]
    assert breakers == [("closed", "open", iso_precise(T0 + 30)), ("open", "half_open", None),
                        ("half_open", "closed", None)]
    health = [(m["data"]["previous"], m["data"]["status"], m["data"]["message"])
              for m in got if m["channel"] == "health"]
    assert health == [("up", "down", "breaker open: failures: 5 consecutive"),
                      ("down", "degraded", "breaker half-open: period ended, probe allowed"),
                      ("degraded", "up", "breaker closed: probe succeeded")]


async def test_an_operator_reset_is_published(aredis, feed_observers):
    store = BreakerStore(aredis, FakeClock())
    for _ in range(5):
        await store.record(cfg(), False)
    listener = await Listener.on("breakers")
    await store.reset("alpha")
    assert [(d["from"], d["to"], d["reason"]) for d in await listener.data()] == [("open", "closed",
                                                                                    "reset by operator")]


def test_head_reason_says_when_a_head_can_have_moved():
    def t(before, after):
        return breaker.Transition("alpha", before, after, None, 0, "", T0)

    assert breaker_feed.head_reason(t("closed", "open")) == pool_heads.BREAKER_OPEN
    assert breaker_feed.head_reason(t("half_open", "open")) == pool_heads.BREAKER_OPEN
    assert breaker_feed.head_reason(t("open", "half_open")) == pool_heads.RECOVERED
    assert breaker_feed.head_reason(t("open", "closed")) == pool_heads.RECOVERED
    assert breaker_feed.head_reason(t("half_open", "closed")) is None


# --- the layer down -----------------------------------------------------------------------------


@pytest.fixture
def layer_down(settings):
    """The channel layer pointed at a loopback port where nothing listens."""
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"], "prefix": "down"},
    }}


def test_publish_with_the_layer_down_logs_and_returns(layer_down, caplog):
    with caplog.at_level(logging.WARNING, logger="healing.events"):
        events.publish("health", [{"n": 1}, {"n": 2}])
        events.publish_status([{"provider": "alpha"}])
    messages = [r.getMessage() for r in caplog.records]
    assert any("health events not published (2)" in m for m in messages)
    assert any("health events not published (1)" in m for m in messages)


async def test_a_breaker_still_opens_with_the_layer_down(aredis, feed_observers, layer_down, caplog):
    store = BreakerStore(aredis, FakeClock())
    with caplog.at_level(logging.WARNING, logger="healing.events"):
        states = [await store.record(cfg(), False) for _ in range(5)]
    assert states[-1].state == "open"
    assert (await store.state("alpha")).state == "open"
    assert any("breakers events not published (1)" in r.getMessage() for r in caplog.records)
