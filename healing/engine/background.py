"""The engine's background work: stale-while-revalidate refreshes, counter flushes, deferred breaker records.

Every such task is tracked here (a strong reference, or asyncio may collect it mid-flight), so
`drain_background()` can wait for all of them on graceful shutdown and in tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

_background: set[asyncio.Future] = set()


def track(task: asyncio.Future) -> asyncio.Future:
    """Keep `task` referenced until it is done (drain_background waits for it)."""
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


def spawn(coro: Awaitable[Any]) -> asyncio.Future:
    """Run `coro` in the background, tracked."""
    return track(asyncio.ensure_future(coro))


async def drain_background() -> None:
    """Wait for this loop's background refreshes, counter flushes and deferred records."""
    loop = asyncio.get_running_loop()
    while pending := [t for t in _background if t.get_loop() is loop and not t.done()]:
        await asyncio.gather(*pending, return_exceptions=True)
