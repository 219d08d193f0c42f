"""Listening to live-feed groups through the real channel layer (channels_redis on the session Redis).

"Nothing was published" is checked without waiting on a clock: `drain` publishes a marker on each
listened channel and collects until every marker came back. A group delivers in send order, so
whatever was published before the markers arrives before them, and nothing else is pending.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import get_channel_layer

from healing import events

MARKER = {"marker": "end of what was published before"}
# Longest wait for one message that must arrive (seconds): generous for a loaded machine.
RECEIVE_TIMEOUT_S = 5.0


class Listener:
    """One channel-layer channel added to the groups of some feed channels."""

    def __init__(self, layer: Any, name: str, feed_channels: tuple[str, ...]) -> None:
        self.layer, self.name, self.feed_channels = layer, name, feed_channels

    @classmethod
    async def on(cls, *feed_channels: str) -> "Listener":
        layer = get_channel_layer()
        name = await layer.new_channel()
        for channel in feed_channels:
            await layer.group_add(events.group_name(channel), name)
        return cls(layer, name, feed_channels)

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.layer.receive(self.name), RECEIVE_TIMEOUT_S)

    async def drain(self) -> list[dict[str, Any]]:
        """Every message published to the listened channels so far (markers left out)."""
        for channel in self.feed_channels:
            await events.apublish(channel, [MARKER])
        got, markers = [], 0
        while markers < len(self.feed_channels):
            message = await self.next()
            if message["data"] == MARKER:
                markers += 1
            else:
                got.append(message)
        return got

    async def data(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The data of every message published so far (of `channel` only, when given)."""
        return [m["data"] for m in await self.drain() if channel is None or m["channel"] == channel]
