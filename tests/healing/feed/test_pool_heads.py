"""Automatic pool head changes on the live feed's `pools` channel, judged on a snapshot built here
(the engine tests' adapters, real Redis): the first judgement only records, each change is
published once, an unchanged head never, round-robin pools are left out."""

import logging

import pytest
import redis.asyncio

from healing import breaker_feed, pool_heads
from healing.engine import breaker, ratelimit
from healing.engine.background import drain_background
from healing.engine.breaker import BreakerStore
from healing.engine.config import MemberConfig, PoolConfig, ProviderConfig, Snapshot
from healing.engine.ratelimit import Budget
from tests.healing.feed.listen import Listener
from tests.redis_server import free_port


def provider(slug, **kw):
    return ProviderConfig(slug=slug, name=slug, category="market_data", base_url="http://127.0.0.1:1", **kw)


def pool(slug, members, strategy="priority", enabled=True):
    n = len(members)
    return PoolConfig(slug, "price", strategy, tuple(MemberConfig(m, priority=n - i) for i, m in enumerate(members)),
                      enabled=enabled)


SNAPSHOT = Snapshot(
    version=1,
    providers={p.slug: p for p in (provider("alpha"), provider("beta"), provider("gamma"),
                                   provider("delta", rate_limits="1/minute"))},
    pools={p.slug: p for p in (
        pool("price", ["alpha", "beta", "gamma"]),
        pool("backup", ["beta", "alpha"]),
        pool("spin", ["alpha", "beta"], strategy="round_robin"),  # no lasting head
        pool("off", ["alpha", "beta"], enabled=False),
        pool("solo", ["gamma"]),
        pool("metered", ["delta", "gamma"]),
    )},
)


@pytest.fixture
def quiet(monkeypatch, adapters):
    """No observers but the test's own, and heads judged on SNAPSHOT."""
    monkeypatch.setattr(breaker, "OBSERVERS", [])
    monkeypatch.setattr(ratelimit, "SPENT_OBSERVERS", [])

    async def snapshot(_redis):
        return SNAPSHOT

    monkeypatch.setattr(pool_heads, "_snapshots", [snapshot])


async def open_breaker(aredis, clock, slug):
    store = BreakerStore(aredis, clock)
    for _ in range(5):
        await store.record(provider(slug), False)


async def stored_head(aredis, pool_slug):
    raw = await aredis.get(pool_heads.head_key(pool_slug))
    return raw.decode() if raw is not None else None


def test_pools_with_leaves_out_round_robin_disabled_and_other_pools():
    assert [p.slug for p in pool_heads.pools_with(SNAPSHOT, "alpha")] == ["price", "backup"]
    assert [p.slug for p in pool_heads.pools_with(SNAPSHOT, "gamma")] == ["price", "solo", "metered"]
    assert [p.slug for p in pool_heads.pools_with(SNAPSHOT, None)] == ["price", "backup", "solo", "metered"]


async def test_the_first_judgement_records_the_heads_and_publishes_nothing(aredis, clock, quiet):
    listener = await Listener.on("pools")
    assert await pool_heads.heads_changed(aredis, "alpha", pool_heads.BREAKER_OPEN, clock=clock) == []
    assert await listener.data() == []
    assert (await stored_head(aredis, "price"), await stored_head(aredis, "backup")) == ("alpha", "beta")
    for untouched in ("spin", "off", "solo"):
        assert await stored_head(aredis, untouched) is None
    assert 0 < await aredis.ttl(pool_heads.head_key("price")) <= pool_heads.HEAD_TTL_S


async def test_a_head_change_is_published_once_and_an_unchanged_head_never(aredis, clock, quiet):
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    listener = await Listener.on("pools")
    await open_breaker(aredis, clock, "alpha")
    change = {"pool": "price", "from": "alpha", "to": "beta", "reason": "breaker_open", "kind": "auto"}
    assert await pool_heads.heads_changed(aredis, "alpha", pool_heads.BREAKER_OPEN, clock=clock) == [change]
    # The same state judged again (by this process or another): nothing more.
    assert await pool_heads.heads_changed(aredis, "alpha", pool_heads.BREAKER_OPEN, clock=clock) == []
    assert await pool_heads.heads_changed(aredis, None, pool_heads.RECOVERED, clock=clock) == []
    assert await listener.data() == [change]  # "backup" kept beta at its head: no event for it


async def test_two_processes_judging_one_change_publish_it_once(aredis, redis_server, clock, quiet):
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    listener = await Listener.on("pools")
    await open_breaker(aredis, clock, "alpha")
    other = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        first = await pool_heads.heads_changed(aredis, "alpha", pool_heads.BREAKER_OPEN, clock=clock)
        second = await pool_heads.heads_changed(other, "alpha", pool_heads.BREAKER_OPEN, clock=clock)
    finally:
        await other.aclose()
    assert (len(first), second) == (1, [])
    assert len(await listener.data()) == 1


async def test_a_callable_reason_gets_the_pool_and_its_old_head(aredis, clock, quiet):
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    await open_breaker(aredis, clock, "alpha")
    asked = []

    def reason(pool_slug, old_head):
        asked.append((pool_slug, old_head))
        return pool_heads.MAINTENANCE if old_head == "alpha" else pool_heads.RECOVERED

    changes = await pool_heads.heads_changed(aredis, None, reason, clock=clock)
    assert asked == [("price", "alpha")]  # asked only for the pools whose head moved
    assert [(c["pool"], c["reason"]) for c in changes] == [("price", "maintenance")]


async def test_a_pool_with_no_usable_member_has_no_head_and_gets_one_back(aredis, clock, quiet):
    budget = Budget(aredis, clock=clock)
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    await budget.cool_down("gamma", 30)  # cooling members are skipped, never forced
    listener = await Listener.on("pools")
    changes = await pool_heads.heads_changed(aredis, "gamma", pool_heads.BUDGET_SPENT, clock=clock)
    # Only "solo" had gamma at its head: its head is now none (published as null).
    assert [(c["pool"], c["from"], c["to"]) for c in changes] == [("solo", "gamma", None)]
    assert await stored_head(aredis, "solo") == pool_heads.NO_HEAD
    clock.advance(31)
    back = await pool_heads.heads_changed(aredis, "gamma", pool_heads.RECOVERED, clock=clock)
    assert [(c["pool"], c["from"], c["to"], c["reason"]) for c in back] == [("solo", None, "gamma", "recovered")]
    assert [d["to"] for d in await listener.data()] == [None, "gamma"]


async def test_an_open_breaker_of_every_member_keeps_the_soonest_reopening_one_as_head(aredis, clock, quiet):
    # The engine still tries the member that reopens soonest: that is the request's member.
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    await open_breaker(aredis, clock, "gamma")
    assert await pool_heads.heads_changed(aredis, "gamma", pool_heads.BREAKER_OPEN, clock=clock) == []
    assert await stored_head(aredis, "solo") == "gamma"


async def test_a_spent_budget_moves_the_head_to_the_next_member(aredis, clock, quiet):
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    budget = Budget(aredis, clock=clock)
    assert await budget.acquire(SNAPSHOT.providers["delta"]) is None  # its one token this minute
    changes = await pool_heads.heads_changed(aredis, "delta", pool_heads.BUDGET_SPENT, clock=clock)
    assert changes == [{"pool": "metered", "from": "delta", "to": "gamma", "reason": "budget_spent", "kind": "auto"}]


# --- through the installed observers ------------------------------------------------------------


async def test_a_breaker_opening_and_recovering_moves_the_head_on_the_feed(aredis, clock, quiet):
    breaker_feed.install()
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    listener = await Listener.on("pools")
    store = BreakerStore(aredis, clock)
    await open_breaker(aredis, clock, "alpha")
    clock.advance(30)
    assert await store.allow(provider("alpha"))  # half-open: alpha is the head again, as the probe
    assert [(d["pool"], d["from"], d["to"], d["reason"]) for d in await listener.data()] == [
        ("price", "alpha", "beta", "breaker_open"), ("price", "beta", "alpha", "recovered")]


async def test_a_refused_token_moves_the_head_in_the_background(aredis, clock, quiet):
    breaker_feed.install()
    await pool_heads.seed_heads(aredis, SNAPSHOT)
    listener = await Listener.on("pools")
    budget = Budget(aredis, clock=clock)
    delta = SNAPSHOT.providers["delta"]
    assert await budget.acquire(delta) is None
    assert await budget.acquire(delta) == "1/minute"  # refused: the observer recomputes the heads
    await drain_background()
    assert [(d["pool"], d["to"], d["reason"]) for d in await listener.data()] == [("metered", "gamma", "budget_spent")]


# --- never raising ----------------------------------------------------------------------------


async def test_no_config_judges_no_heads(aredis, clock, monkeypatch):
    async def no_database(_redis):
        raise RuntimeError("no database in this process")

    monkeypatch.setattr(pool_heads, "_snapshots", [no_database])
    assert await pool_heads.heads_changed(aredis, "alpha", pool_heads.BREAKER_OPEN, clock=clock) == []


async def test_redis_down_is_logged_and_judges_no_heads(clock, quiet, caplog):
    down = redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        with caplog.at_level(logging.WARNING, logger="healing.pool_heads"):
            assert await pool_heads.heads_changed(down, "alpha", pool_heads.BREAKER_OPEN, clock=clock) == []
    finally:
        await down.aclose()
    assert any("pool heads not recomputed for alpha" in r.getMessage() for r in caplog.records)
