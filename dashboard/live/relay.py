"""One channel-layer listener per server process for the feed's events, fanned out in process.

If every connection joined the Channels groups itself, one `breakers` event with 1,000 clients
would be 1,000 messages through Redis, popped one by one by the workers (measured: ~2 s to the
last client). Here each process joins each group once, with one inbox of its own, and hands the
event to its local subscribers: two pops per event with two workers, whatever the client count.
The event is built and serialized once per process and shared by the subscribers' queues.

channels-redis forgets a group member after its group expiry; the relay joins its groups again
every REJOIN_S, so a long-lived process (or one whose Redis restarted) keeps receiving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any

from channels.layers import get_channel_layer

from healing import events

logger = logging.getLogger(__name__)

REJOIN_S = 60.0
RETRY_S = 1.0


class Encoded(dict):
    """A message with its JSON text computed once (every subscriber sends the same bytes)."""

    __slots__ = ("text",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.text = json.dumps(self, separators=(",", ":"))


def event_message(group_message: dict[str, Any]) -> Encoded:
    """A healing.events group message as the `event` a client receives."""
    return Encoded(type="event", channel=group_message.get("channel"), data=group_message.get("data"),
                   at=group_message.get("at"))


class Relay:
    def __init__(self) -> None:
        self.subscribers: dict[str, weakref.WeakSet] = {}
        self.inbox: str | None = None
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def add(self, member: Any, channel: str) -> None:
        async with self._lock:
            layer = get_channel_layer()
            if self.inbox is None:
                self.inbox = await layer.new_channel()
                self._tasks = [asyncio.ensure_future(self._receive(layer)), asyncio.ensure_future(self._rejoin(layer))]
            members = self.subscribers.get(channel)
            if members is None:
                await layer.group_add(events.group_name(channel), self.inbox)
                members = self.subscribers[channel] = weakref.WeakSet()
            members.add(member)

    async def remove(self, member: Any, channels: list[str] | set[str]) -> None:
        async with self._lock:
            for channel in channels:
                members = self.subscribers.get(channel)
                if members is None:
                    continue
                members.discard(member)
                if not members:
                    del self.subscribers[channel]
                    await get_channel_layer().group_discard(events.group_name(channel), self.inbox)

    def dispatch(self, group_message: dict[str, Any]) -> int:
        """Hand one event to this process's subscribers of its channel; how many got it."""
        members = self.subscribers.get(group_message.get("channel"))
        if not members:
            return 0
        message = event_message(group_message)
        receivers = list(members)
        for member in receivers:
            member.deliver(message)
        return len(receivers)

    async def _receive(self, layer: Any) -> None:
        while True:
            try:
                message = await layer.receive(self.inbox)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the layer (Redis) is down: retry, never die
                logger.warning("live feed relay: %r", exc)
                await asyncio.sleep(RETRY_S)
                continue
            if message.get("type") == events.FEED_EVENT:
                self.dispatch(message)

    async def _rejoin(self, layer: Any) -> None:
        while True:
            await asyncio.sleep(REJOIN_S)
            for channel in list(self.subscribers):
                try:
                    await layer.group_add(events.group_name(channel), self.inbox)
                except Exception as exc:  # noqa: BLE001 - tried again next period
                    logger.warning("live feed relay: %s not rejoined: %r", channel, exc)


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Relay] = weakref.WeakKeyDictionary()


def relay() -> Relay:
    """This event loop's relay (a server process has one loop)."""
    loop = asyncio.get_running_loop()
    found = _relays.get(loop)
    if found is None:
        found = _relays[loop] = Relay()
    return found
