"""A client's bounded send queue: what a slow reader loses, and how it is told.

Every message to one client goes through its Outbox, in order; one writer task takes them out and
sends them, so a client that reads slowly (TCP backpressure) fills its Outbox instead of the
server's memory. When the Outbox is full, room is made in this order:

1. the oldest *droppable* message goes: `stats` and `prices:*` events and snapshots (the next one
   carries the whole state again), heartbeats, presence, pongs and errors;
2. else, a new droppable message is itself discarded;
3. else the oldest message of another channel goes (`breakers`, `alerts`, and also `health` and
   `pools`): with it every queued message of that channel (older than what the client will
   re-read anyway), and the channel is marked for resync. The next message the client gets is one
   `{"type": "resync", "channels": [...]}`: re-subscribing sends fresh snapshots.

Plain asyncio, no Channels: unit-testable alone.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from healing import events

# Messages a client may have waiting (settings.CRYPTOHUB_FEED_QUEUE_SIZE overrides it).
DEFAULT_MAX_SIZE = 256
# Message types whose loss costs nothing: a newer one follows, or the client asks again.
DROPPABLE_TYPES = frozenset({"heartbeat", "presence", "pong", "error"})
# Message types that carry a channel's state or a change of it.
CHANNEL_TYPES = frozenset({"event", "snapshot"})


def is_droppable(message: dict[str, Any]) -> bool:
    kind = message.get("type")
    if kind in DROPPABLE_TYPES:
        return True
    if kind in CHANNEL_TYPES:
        channel = message.get("channel", "")
        return channel == events.STATS or channel.startswith(events.PRICE_PREFIX)
    return False


def resync_channel(message: dict[str, Any]) -> str | None:
    """The channel a client must re-read if this message is lost (None: nothing to re-read)."""
    return message.get("channel") if message.get("type") in CHANNEL_TYPES else None


class Outbox:
    def __init__(self, max_size: int = DEFAULT_MAX_SIZE) -> None:
        self.max_size = max(1, max_size)
        self._queue: deque[dict[str, Any]] = deque()
        self._resync: set[str] = set()
        self._ready = asyncio.Event()
        self.dropped = 0  # messages lost to the bound, for logs and tests

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def pending_resync(self) -> frozenset[str]:
        return frozenset(self._resync)

    def put(self, message: dict[str, Any]) -> None:
        """Queue `message`, making room first when the Outbox is full (never blocks, never raises)."""
        if len(self._queue) >= self.max_size and not self._make_room(message):
            self.dropped += 1
            return
        self._queue.append(message)
        self._ready.set()

    def _make_room(self, incoming: dict[str, Any]) -> bool:
        """Free one slot; False when `incoming` itself is what goes."""
        for index, queued in enumerate(self._queue):
            if is_droppable(queued):
                del self._queue[index]
                self.dropped += 1
                return True
        if is_droppable(incoming):
            return False
        for queued in list(self._queue):
            channel = resync_channel(queued)
            if channel is not None:
                self._drop_channel(channel)
                return True
        # Only messages that are neither droppable nor tied to a channel (a welcome): let it grow
        # by one rather than lose them; nothing produces these in bulk.
        return True

    def _drop_channel(self, channel: str) -> None:
        kept = deque(m for m in self._queue if resync_channel(m) != channel)
        self.dropped += len(self._queue) - len(kept)
        self._queue = kept
        self._resync.add(channel)
        self._ready.set()

    def get_nowait(self) -> dict[str, Any] | None:
        """The next message to send (a pending resync first), or None when there is none."""
        if self._resync:
            message = {"type": "resync", "channels": sorted(self._resync)}
            self._resync.clear()
        elif self._queue:
            message = self._queue.popleft()
        else:
            return None
        if not self._queue and not self._resync:
            self._ready.clear()
        return message

    async def get(self) -> dict[str, Any]:
        while True:
            message = self.get_nowait()
            if message is not None:
                return message
            await self._ready.wait()
