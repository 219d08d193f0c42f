"""The online count of the live feed, told to every client when it changes (debounced).

The count is the sessions registry's (dashboard.live.sessions: every process's clients, in
Redis). A connect or disconnect anywhere sends one message to the `live.presence` group; each
server process has one listener in it (not one per client), which waits DEBOUNCE_S for more
changes, reads the count once and tells its own clients whose last known count differs. So 1,000
clients connecting in a burst cost each process a handful of Redis reads, not a million
messages. The listener also recounts every heartbeat, so sessions of a process that died (which
expire from the registry) leave the count without anyone announcing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

import redis
from channels.layers import get_channel_layer
from django.conf import settings

from dashboard.live import sessions

logger = logging.getLogger(__name__)

GROUP = "live.presence"
CHANGED = "presence.changed"
REJOIN_S = 60.0


class PresenceHub:
    """One per process and event loop: its consumers, and the listener that keeps them told."""

    def __init__(self) -> None:
        # consumer -> the count it was last told; weak, so a consumer that vanished without
        # leaving (a cancelled task) is not kept alive by its presence.
        self.members: weakref.WeakKeyDictionary[Any, int | None] = weakref.WeakKeyDictionary()
        self._changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def join(self, member: Any, told: int | None) -> None:
        self.members[member] = told
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._listen())
            self._task.add_done_callback(_log_failure)
        self.announce()

    def leave(self, member: Any) -> None:
        self.members.pop(member, None)
        self.announce()

    def announce(self) -> None:
        """Tell every process (this one too) that the count may have changed."""
        self._changed.set()
        layer = get_channel_layer()
        if layer is not None:
            task = asyncio.ensure_future(layer.group_send(GROUP, {"type": CHANGED}))
            task.add_done_callback(_log_failure)

    async def _listen(self) -> None:
        layer = get_channel_layer()
        inbox = await layer.new_channel() if layer is not None else None
        if inbox is not None:
            await layer.group_add(GROUP, inbox)
        joined_at = time.monotonic()
        receiver = asyncio.ensure_future(self._receive(layer, inbox)) if inbox is not None else None
        try:
            # Runs as long as the process: a listener that stopped when its last client left
            # could miss the join that races with its stopping.
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(heartbeat_s()):
                        await self._changed.wait()
                await asyncio.sleep(debounce_s())
                self._changed.clear()
                await self._tell_all()
                if inbox is not None and time.monotonic() - joined_at > REJOIN_S:
                    # channels-redis forgets group members after its group expiry: join again.
                    with contextlib.suppress(Exception):
                        await layer.group_add(GROUP, inbox)
                        joined_at = time.monotonic()
        finally:
            if receiver is not None:
                receiver.cancel()
            if inbox is not None:
                with contextlib.suppress(Exception):
                    await layer.group_discard(GROUP, inbox)

    async def _receive(self, layer: Any, inbox: str) -> None:
        while True:
            try:
                await layer.receive(inbox)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the layer is down: the heartbeat recount remains
                logger.warning("presence listener: %r", exc)
                await asyncio.sleep(heartbeat_s())
                continue
            self._changed.set()

    async def _tell_all(self) -> None:
        try:
            online = await sessions.online_count(sessions.feed_redis())
        except (redis.RedisError, OSError) as exc:
            logger.warning("online count unavailable: %s", exc)
            return
        for member, told in list(self.members.items()):
            if told != online:
                self.members[member] = online
                member.tell_presence(online)


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("presence change not announced: %r", task.exception())


def heartbeat_s() -> float:
    return float(settings.CRYPTOHUB_FEED_HEARTBEAT_S)


def debounce_s() -> float:
    return float(settings.CRYPTOHUB_FEED_PRESENCE_DEBOUNCE_S)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PresenceHub] = weakref.WeakKeyDictionary()


def hub(factory: Callable[[], PresenceHub] = PresenceHub) -> PresenceHub:
    """This event loop's hub (a server process has one loop, tests may run several)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = factory()
    return found
