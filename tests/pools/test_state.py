import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis
import redis.asyncio
from django.conf import settings

from pools import state
from providers.runtime import rkey

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = 1_700_000_000.0


class CountingConnection(redis.Connection):
    """Counts what goes over the socket: one send per round trip, however many commands."""

    sends = 0

    def send_packed_command(self, command, check_health=True):
        type(self).sends += 1
        return super().send_packed_command(command, check_health)


@pytest.fixture
def counting_client(redis_server):
    CountingConnection.sends = 0
    pool = redis.ConnectionPool.from_url(
        redis_server.url, connection_class=CountingConnection, decode_responses=True
    )
    client = redis.Redis(connection_pool=pool)
    client.ping()
    CountingConnection.sends = 0
    yield client
    client.close()


@pytest.fixture
async def aredis(redis_server):
    client = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


# --- round-robin cursor ------------------------------------------------------------------------


def test_cursor_starts_at_zero_and_advance_hands_out_consecutive_values(redis_client):
    assert state.rr_cursor(redis_client, "price") == 0
    assert [state.rr_advance(redis_client, "price") for _ in range(4)] == [0, 1, 2, 3]
    assert state.rr_cursor(redis_client, "price") == 4


def test_peeking_the_cursor_never_advances_it(redis_client):
    state.rr_advance(redis_client, "price")
    for _ in range(10):
        assert state.rr_cursor(redis_client, "price") == 1


def test_cursors_are_per_pool_and_use_the_prefixed_key(redis_client):
    state.rr_advance(redis_client, "price")
    assert state.rr_cursor(redis_client, "gas") == 0
    assert redis_client.get(rkey("pool", "price", "rr")) == "1"
    assert rkey("pool", "price", "rr").startswith(settings.CRYPTOHUB_REDIS_PREFIX)


def test_state_works_with_a_client_that_does_not_decode(redis_server):
    raw = redis.Redis.from_url(redis_server.url)
    state.rr_advance(raw, "price")
    state.demote(raw, "price", "binance", 60, now=NOW)
    state.record_use(raw, "binance", 12.5, NOW)
    assert state.rr_cursor(raw, "price") == 1
    assert state.demoted(raw, "price", NOW) == {"binance"}
    assert state.recent_usage(raw, ["binance"], NOW) == {"binance": 1}
    assert state.recent_latency(raw, ["binance"]) == {"binance": 12.5}
    raw.close()


ADVANCE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django
    django.setup()
    import redis
    from pools import state
    url, n = sys.argv[1], int(sys.argv[2])
    r = redis.Redis.from_url(url, decode_responses=True)
    r.blpop(["test:start"], timeout=30)  # both processes start advancing together
    print(" ".join(str(state.rr_advance(r, "shared")) for _ in range(n)))
    """
)


def test_two_processes_sharing_a_cursor_never_lose_an_update(redis_client, redis_server):
    n = 500
    env = {**os.environ, "REDIS_URL": redis_server.url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ADVANCE_SCRIPT, redis_server.url, str(n)],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    redis_client.rpush("test:start", "go", "go")
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append([int(v) for v in out.split()])
    assert [len(o) for o in outputs] == [n, n]
    # Each process sees its own values increasing; together they are exactly 0..2n-1.
    assert all(o == sorted(o) for o in outputs)
    assert sorted(outputs[0] + outputs[1]) == list(range(2 * n))
    assert state.rr_cursor(redis_client, "shared") == 2 * n


# --- usage and latency -------------------------------------------------------------------------


def test_recent_usage_counts_requests_in_the_window(redis_client):
    for _ in range(3):
        state.record_use(redis_client, "binance", 40.0, NOW)
    state.record_use(redis_client, "kraken", None, NOW + 15)
    assert state.recent_usage(redis_client, ["binance", "kraken", "idle"], NOW + 20) == {
        "binance": 3, "kraken": 1, "idle": 0,
    }


def test_usage_older_than_the_window_is_forgotten(redis_client):
    state.record_use(redis_client, "binance", None, NOW - state.USAGE_WINDOW_S - state.USAGE_BUCKET_S)
    state.record_use(redis_client, "binance", None, NOW - state.USAGE_WINDOW_S + state.USAGE_BUCKET_S)
    state.record_use(redis_client, "binance", None, NOW)
    assert state.recent_usage(redis_client, ["binance"], NOW) == {"binance": 2}
    assert state.recent_usage(redis_client, ["binance"], NOW + state.USAGE_WINDOW_S + state.USAGE_BUCKET_S) == {
        "binance": 0
    }


def test_usage_keys_expire_after_the_window(redis_client):
    state.record_use(redis_client, "binance", 10.0, NOW)
    key = state.usage_key("binance", int(NOW // state.USAGE_BUCKET_S))
    assert 0 < redis_client.ttl(key) <= state.USAGE_WINDOW_S + state.USAGE_BUCKET_S
    assert 0 < redis_client.ttl(state.latency_key("binance")) <= state.LATENCY_TTL_S


def test_recent_latency_is_the_median_and_only_for_measured_providers(redis_client):
    for ms in (100, 20, 30, 400, 25):
        state.record_use(redis_client, "binance", ms, NOW)
    state.record_use(redis_client, "kraken", None, NOW)
    assert state.recent_latency(redis_client, ["binance", "kraken", "idle"]) == {"binance": 30.0}


def test_latency_keeps_only_the_most_recent_samples(redis_client):
    for _ in range(state.LATENCY_SAMPLES):
        state.record_use(redis_client, "binance", 1000.0, NOW)
    for _ in range(state.LATENCY_SAMPLES):
        state.record_use(redis_client, "binance", 10.0, NOW)
    assert redis_client.llen(state.latency_key("binance")) == state.LATENCY_SAMPLES
    assert state.recent_latency(redis_client, ["binance"]) == {"binance": 10.0}
    assert state.latency_p90(redis_client, "binance") == 10.0


def test_latency_p90_is_a_nearest_rank_sample(redis_client):
    assert state.latency_p90(redis_client, "binance") is None
    for ms in range(1, 21):  # 1..20 ms
        state.record_use(redis_client, "binance", float(ms), NOW)
    assert state.latency_p90(redis_client, "binance") == 18.0


def test_hot_path_reads_and_writes_take_one_round_trip_each(counting_client):
    providers = [f"p{i}" for i in range(8)]
    state.record_use(counting_client, "p1", 55.0, NOW)
    assert CountingConnection.sends == 1
    CountingConnection.sends = 0
    assert state.recent_usage(counting_client, providers, NOW)["p1"] == 1
    assert CountingConnection.sends == 1
    CountingConnection.sends = 0
    assert state.recent_latency(counting_client, providers) == {"p1": 55.0}
    assert CountingConnection.sends == 1


def test_empty_provider_lists_make_no_call(counting_client):
    assert state.recent_usage(counting_client, [], NOW) == {}
    assert state.recent_latency(counting_client, []) == {}
    assert CountingConnection.sends == 0


# --- demotion ----------------------------------------------------------------------------------


def test_demotion_lasts_for_its_seconds(redis_client):
    state.demote(redis_client, "price", "binance", 300, now=NOW)
    assert state.demoted(redis_client, "price", NOW) == {"binance"}
    assert state.demoted(redis_client, "price", NOW + 299.9) == {"binance"}
    assert state.demoted(redis_client, "price", NOW + 300) == set()
    assert state.demoted(redis_client, "gas", NOW) == set()


def test_demotion_key_lives_as_long_as_its_longest_demotion(redis_client):
    state.demote(redis_client, "price", "binance", 300, now=NOW)
    state.demote(redis_client, "price", "kraken", 5, now=NOW)
    assert redis_client.ttl(state.demoted_key("price")) > 5
    assert state.demoted(redis_client, "price", NOW + 10) == {"binance"}


def test_undemote_restores_providers(redis_client):
    state.demote(redis_client, "price", "binance", 300, now=NOW)
    state.demote(redis_client, "price", "kraken", 300, now=NOW)
    state.undemote(redis_client, "price", ["binance"])
    assert state.demoted(redis_client, "price", NOW) == {"kraken"}


# --- the async calls share the sync API's keys --------------------------------------------------


async def test_the_engines_async_record_shares_keys_with_sync_readers(aredis, redis_client):
    # The engine queues its records on its own (async) pipeline: healing.engine.ledger.
    pipe = aredis.pipeline(transaction=False)
    for ms in (10.0, 30.0, 20.0):
        state.queue_record_use(pipe, "binance", ms, NOW)
    state.queue_record_use(pipe, "kraken", None, NOW)
    await pipe.execute()
    assert state.recent_usage(redis_client, ["binance", "kraken"], NOW) == {"binance": 3, "kraken": 1}
    assert state.recent_latency(redis_client, ["binance", "kraken"]) == {"binance": 20.0}
    assert state.latency_p90(redis_client, "binance") == 30.0


# --- everything a request needs, in one round trip ---------------------------------------------


def test_order_inputs_fetch_what_the_strategy_needs_in_one_round_trip(counting_client):
    state.record_use(counting_client, "binance", 80.0, NOW)
    state.demote(counting_client, "price", "kraken", 60, now=NOW)
    CountingConnection.sends = 0
    providers = ["binance", "kraken"]
    assert state.order_inputs(counting_client, "price", "round_robin", providers, NOW) == {
        "cursor": 0, "demoted": {"kraken"},
    }
    assert state.order_inputs(counting_client, "price", "round_robin", providers, NOW) == {
        "cursor": 1, "demoted": {"kraken"},
    }
    assert state.order_inputs(counting_client, "price", "least_used", providers, NOW) == {
        "usage": {"binance": 1, "kraken": 0}, "demoted": {"kraken"},
    }
    assert state.order_inputs(counting_client, "price", "fastest_response", providers, NOW) == {
        "latency_ms": {"binance": 80.0}, "demoted": {"kraken"},
    }
    assert state.order_inputs(counting_client, "price", "priority", providers, NOW) == {"demoted": {"kraken"}}
    assert CountingConnection.sends == 5


def test_order_inputs_can_peek_without_advancing(redis_client):
    state.rr_advance(redis_client, "price")
    for _ in range(3):
        assert state.order_inputs(redis_client, "price", "round_robin", ["a"], NOW, advance=False)["cursor"] == 1
    assert state.rr_cursor(redis_client, "price") == 1
