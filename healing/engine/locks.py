"""Releasing a Redis lock only by its holder: the one compare-and-delete every lock here uses.

A lock is a key set with NX and an expiry, holding its owner's token. Releasing it with a plain
DEL could free a lock that already expired and was taken by someone else; the Lua script deletes
the key only while it still holds the caller's token, atomically.
"""

from __future__ import annotations

from typing import Any

COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def release_lock(client: Any, key: str, token: bytes | str) -> Any:
    """Delete `key` if it still holds `token` (1 if deleted, else 0).

    Works on every client shape, as `eval` itself does: a sync `redis.Redis` answers at once,
    a `redis.asyncio.Redis` returns an awaitable, and a pipeline (either kind) queues the call.
    """
    return client.eval(COMPARE_AND_DELETE, 1, key, token)
