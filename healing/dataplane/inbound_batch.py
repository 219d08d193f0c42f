"""The inbound checks of one process, sent to Redis together: one round trip for every check that
arrives in the same turn of the event loop.

Each check is still exact and shared (the same Lua rule runs for each, in arrival order, inside
one script call, so no other process's increment can fall between a check's read and write):
what is shared is the round trip. Under load most requests of a loop turn are cache hits waiting
for this one answer, so a turn's dozens of checks cost one EVALSHA instead of one each; a lone
request waits for nothing (its batch is flushed at the end of the same turn).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.asyncio

from healing.engine.background import spawn

# One check. KEYS: n window counters, the usage hash, the usage hash of the day.
# ARGV: n, n limits, n window lengths (s), now (epoch s), the day hash's TTL (s).
# Returns count and ms-to-reset per window hit, in order; stops after the first over its limit.
CHECK_FUNCTION = """
local function check(KEYS, ARGV)
  local n = tonumber(ARGV[1])
  local out, limited = {}, false
  for i = 1, n do
    local count = redis.call('INCR', KEYS[i])
    local ttl = -1
    if count > 1 then ttl = redis.call('PTTL', KEYS[i]) end
    if ttl < 0 then
      redis.call('EXPIRE', KEYS[i], ARGV[n + 1 + i])
      ttl = tonumber(ARGV[n + 1 + i]) * 1000
    end
    out[#out + 1] = count
    out[#out + 1] = ttl
    if count > tonumber(ARGV[1 + i]) then limited = true break end
  end
  for _, key in ipairs({KEYS[n + 1], KEYS[n + 2]}) do
    redis.call('HINCRBY', key, 'requests', 1)
    if limited then redis.call('HINCRBY', key, 'limited', 1) end
  end
  redis.call('HSET', KEYS[n + 1], 'last_seen', ARGV[2 * n + 2])
  redis.call('EXPIRE', KEYS[n + 2], ARGV[2 * n + 3])
  return out
end
"""
# m checks. ARGV: m, then each check's key count and arg count, then every check's args in
# order; KEYS: every check's keys in order. Returns one `check` result per check.
BATCH_SCRIPT = CHECK_FUNCTION + """
local m = tonumber(ARGV[1])
local key_at, arg_at, results = 1, 2 + 2 * m, {}
for c = 1, m do
  local nk, na = tonumber(ARGV[2 * c]), tonumber(ARGV[2 * c + 1])
  local keys, args = {}, {}
  for i = 1, nk do keys[i] = KEYS[key_at + i - 1] end
  for i = 1, na do args[i] = ARGV[arg_at + i - 1] end
  key_at, arg_at = key_at + nk, arg_at + na
  results[c] = check(keys, args)
end
return results
"""
# Checks one script call takes at most: a batch holds Redis for microseconds per check.
MAX_BATCH = 128


class CheckBatcher:
    """Collects a process's inbound checks and runs each loop turn's in one script call."""

    def __init__(self, redis_client: redis.asyncio.Redis) -> None:
        self._script = redis_client.register_script(BATCH_SCRIPT)
        self._waiting: list[tuple[Sequence[str], Sequence[Any], asyncio.Future]] = []
        self.calls = 0  # script calls made (the tests read it)

    async def run(self, keys: Sequence[str], args: Sequence[Any]) -> list[int]:
        """One check's result: count and ms-to-reset per window it reached."""
        future = asyncio.get_running_loop().create_future()
        if not self._waiting:
            # After every callback ready now: the requests already read in this turn join in.
            asyncio.get_running_loop().call_soon(self._send_waiting)
        self._waiting.append((keys, args, future))
        return await future

    def _send_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for start in range(0, len(waiting), MAX_BATCH):
            spawn(self._send(waiting[start:start + MAX_BATCH]))

    async def _send(self, batch: list[tuple[Sequence[str], Sequence[Any], asyncio.Future]]) -> None:
        keys: list[str] = []
        args: list[Any] = [len(batch)]
        for check_keys, check_args, _ in batch:
            args += [len(check_keys), len(check_args)]
            keys += check_keys
        for _, check_args, _ in batch:
            args += check_args
        try:
            self.calls += 1
            results = await self._script(keys=keys, args=args)
        except BaseException as exc:  # every waiting check sees the outage (or the cancellation)
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else redis.ConnectionError(str(exc)))
            if not isinstance(exc, Exception):
                raise
            return
        for (*_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a caller that went away (client disconnect) is skipped
                future.set_result(result)
