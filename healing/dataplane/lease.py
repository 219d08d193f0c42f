"""A cluster-wide lease in Redis: at most one process of the cluster does a periodic job.

`Lease.hold()` takes the lease when it is free (SET NX PX) and renews it when this process holds
it (PEXPIRE only if the value is still our token), in one script. A holder that dies stops
renewing, the key expires after `ttl_s`, and the next process to ask takes over.
"""

from __future__ import annotations

import os
import uuid

import redis.asyncio

from providers.runtime import rkey

# Take the lease if free, renew it if ours: 1 when this caller holds it afterwards, else 0.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Delete the lease only if this caller still holds it (a compare-and-delete in one step: between a
# GET and a DEL the lease could expire and be taken by another process, whose lease would go).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    def __init__(self, redis_client: redis.asyncio.Redis, name: str, ttl_s: float) -> None:
        self.redis = redis_client
        self.key = rkey("lease", name)
        self.ttl_ms = max(1, int(ttl_s * 1000))
        # Unique per process and lease object, and says whose it is when read by an operator.
        self.token = f"{os.getpid()}:{uuid.uuid4().hex}"
        self._script = redis_client.register_script(_HOLD)
        self._release = redis_client.register_script(_RELEASE)

    async def hold(self) -> bool:
        """True when this process holds the lease for the next ttl_s (taken or renewed now)."""
        return bool(await self._script(keys=[self.key], args=[self.token, self.ttl_ms]))

    async def release(self) -> None:
        """Give the lease up now (on shutdown), so another process takes over without waiting."""
        await self._release(keys=[self.key], args=[self.token])
