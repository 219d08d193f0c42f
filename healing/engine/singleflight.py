"""Single-flight: on a cache miss, one caller per key in all processes goes upstream.

Two layers:

- In-process: the first coroutine for a key is the local leader; the others await its future,
  so 1,000 concurrent misses in one process cost one Redis lock attempt and one subscription.
- Across processes: `SET lock token NX PX ... GET` elects one leader atomically (and tells the
  others the leader's token). The leader runs `produce()`, stores the result under a
  token-specific key, publishes it on the key's channel, and releases the lock (compare-and-
  delete: healing.engine.locks). Followers subscribe, check the result key (the leader may
  already be done), then wait for the message.

Waiting is bounded: followers wait until `deadline - reserve_s`, then try themselves; if the
leader's lock disappears without a result (its process died, or it raised), a follower takes
over as leader. Results are opaque bytes: the engine decides what a result means (answer or
failure), so waiters share a failure too instead of hammering a failing upstream.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio

from healing.engine.locks import release_lock

logger = logging.getLogger(__name__)

# The lock outlives the leader's deadline by this much, then expires on its own (seconds).
LOCK_SLACK_S = 2.0
# A finished leader's result stays readable this long for followers that subscribed late (seconds).
RESULT_TTL_S = 10
# How often a waiting follower checks that its leader still holds the lock (seconds).
LEADER_CHECK_S = 0.25

# In-process leaders by (event loop, key); entries live only while a fetch is in flight.
_inflight: dict[tuple[int, str], asyncio.Future] = {}


def lock_key(key: str) -> str:
    return key + ":sf"


def _result_key(key: str, token: bytes) -> str:
    return f"{key}:sf:result:{token.decode()}"


def _channel(key: str) -> str:
    return key + ":sf:done"


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


async def run(
    r: redis.asyncio.Redis,
    key: str,
    produce: Callable[..., Awaitable[bytes]],
    *,
    deadline: float,
    reserve_s: float,
    peek: Callable[[Any], None] | None = None,
    on_release: Callable[[Any], None] | None = None,
    settle: Callable[[list[Any]], bytes | None] | None = None,
) -> tuple[bytes, bool]:
    """The result for `key` and whether this caller produced it.

    `deadline` is in event-loop time; followers stop waiting at `deadline - reserve_s`.

    Two round-trip savers for the leader: with `peek`, the reads it queues on a pipeline go in
    the same round trip as the lock attempt, and `produce(results)` gets their results (the
    engine's double-check of the cache and its provider-order inputs cost nothing);
    `on_release(pipe)` queues the leader's own writes (the cache entry, stats) on the pipeline
    that publishes the result and releases the lock, so they land before any follower is woken.
    One for a caller that finds another leader: `settle(results)` may answer from what `peek`
    read (the engine's cache entry, already fresh) instead of waiting for that leader.
    """
    if peek is None:
        bare = produce

        async def produce(_peeked: list[Any] | None) -> bytes:
            return await bare()

    loop = asyncio.get_running_loop()
    local_key = (id(loop), key)
    wait_until = deadline - reserve_s
    leader = _inflight.get(local_key)
    if leader is not None:
        try:
            payload = await asyncio.wait_for(asyncio.shield(leader), timeout=max(0.0, wait_until - loop.time()))
        except asyncio.TimeoutError:
            payload = None
        if payload is not None:
            return payload, False
        # The local leader gave up (cancelled or failed) or is too slow: go on as if alone.
        return await _across_processes(r, key, produce, deadline=deadline, wait_until=wait_until,
                                       peek=peek, on_release=on_release, settle=settle)

    future: asyncio.Future = loop.create_future()
    _inflight[local_key] = future
    try:
        payload, led = await _across_processes(r, key, produce, deadline=deadline, wait_until=wait_until,
                                               peek=peek, on_release=on_release, settle=settle)
        future.set_result(payload)
        return payload, led
    finally:
        if not future.done():
            future.set_result(None)  # tells local followers to try themselves
        if _inflight.get(local_key) is future:
            del _inflight[local_key]


async def _across_processes(
    r: redis.asyncio.Redis,
    key: str,
    produce: Callable[[list[Any] | None], Awaitable[bytes]],
    *,
    deadline: float,
    wait_until: float,
    peek: Callable[[Any], None] | None,
    on_release: Callable[[Any], None] | None,
    settle: Callable[[list[Any]], bytes | None] | None = None,
) -> tuple[bytes, bool]:
    loop = asyncio.get_running_loop()
    token = uuid.uuid4().hex.encode()
    while True:
        hold_ms = max(1, int((deadline - loop.time() + LOCK_SLACK_S) * 1000))
        if peek is None:
            holder, peeked = await r.set(lock_key(key), token, nx=True, px=hold_ms, get=True), None
        else:
            pipe = r.pipeline(transaction=False)
            pipe.set(lock_key(key), token, nx=True, px=hold_ms, get=True)
            peek(pipe)
            holder, *peeked = await pipe.execute()
        if holder is None:
            return await _lead(r, key, token, produce, peeked, on_release), True
        if settle is not None and peeked is not None and (settled := settle(peeked)) is not None:
            return settled, False
        if loop.time() >= wait_until:
            # Waited long enough (bounded by the deadline): try ourselves, without the lock.
            peeked = None
            if peek is not None:
                pipe = r.pipeline(transaction=False)
                peek(pipe)
                peeked = await pipe.execute()
            payload = await produce(peeked)
            if on_release is not None:
                pipe = r.pipeline(transaction=False)
                on_release(pipe)
                await pipe.execute()
            return payload, True
        payload = await _follow(r, key, _as_bytes(holder), wait_until)
        if payload is not None:
            return payload, False
        # No result: either we ran out of patience (the next loop produces) or the leader vanished
        # (the next loop may elect us).


async def _lead(
    r: redis.asyncio.Redis, key: str, token: bytes, produce: Callable[[list[Any] | None], Awaitable[bytes]],
    peeked: list[Any] | None, on_release: Callable[[Any], None] | None,
) -> bytes:
    try:
        payload = await produce(peeked)
    except BaseException:
        await asyncio.shield(release_lock(r, lock_key(key), token))
        raise
    pipe = r.pipeline(transaction=False)
    if on_release is not None:
        on_release(pipe)  # first: a woken follower (or a later reader) must find these writes done
    pipe.set(_result_key(key, token), payload, ex=RESULT_TTL_S)
    pipe.publish(_channel(key), token + b"|" + payload)
    release_lock(pipe, lock_key(key), token)
    await pipe.execute()
    return payload


async def _follow(r: redis.asyncio.Redis, key: str, token: bytes, wait_until: float) -> bytes | None:
    """The leader's result, or None if it vanished or `wait_until` passed first."""
    loop = asyncio.get_running_loop()
    pubsub = r.pubsub()
    try:
        await pubsub.subscribe(_channel(key))
        # Subscribed first, then looked: a result published in between is in the key.
        stored = await r.get(_result_key(key, token))
        if stored is not None:
            return _as_bytes(stored)
        while (left := wait_until - loop.time()) > 0:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=min(LEADER_CHECK_S, left))
            if message is not None and message.get("type") == "message":
                sender, _, payload = _as_bytes(message["data"]).partition(b"|")
                if sender == token:
                    return payload
                continue
            holder = await r.get(lock_key(key))
            if holder is None or _as_bytes(holder) != token:
                stored = await r.get(_result_key(key, token))
                return _as_bytes(stored) if stored is not None else None
        return None
    finally:
        try:
            await asyncio.shield(pubsub.aclose())
        except Exception:  # noqa: BLE001 - a broken pubsub connection must not mask the result
            logger.debug("single-flight pubsub close failed for %s", key, exc_info=True)
