"""The live feed's WebSocket consumer (ws://HOST/ws/live/): thin; the protocol, the bounded send
queue, the snapshots, the sessions and the presence live in their own modules here.

One connection:
- on connect: access (CRYPTOHUB_PUBLIC_READ), a random client id, the session registered in
  Redis, `welcome` {client_id, online, channels, heartbeat_s, idle_timeout_s, max_message_bytes};
- each client message: `subscribe` joins the channels' groups and sends one `snapshot` each,
  `unsubscribe` leaves them (answered with `unsubscribed`), `ping` gets `pong`, anything else an
  `error`, and the connection stays;
- every healing.events message of a subscribed channel (from any process) becomes an `event`
  {channel, data, at}, through this process's relay (dashboard.live.relay: one group member per
  process, not per connection);
- every CRYPTOHUB_FEED_HEARTBEAT_S a `heartbeat`; a client that sent nothing for
  CRYPTOHUB_FEED_IDLE_S is closed (code 4408).

Everything the server sends goes through the connection's Outbox and one writer task, so a
client that reads slowly fills its own bounded queue (losing `stats`/`prices` first, others only
with a `resync`), never the dispatch loop that receives from the channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from typing import Any

import redis
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from dashboard.live import access, presence, protocol, sessions, snapshots
from dashboard.live.relay import relay
from dashboard.live.outbox import Outbox
from healing import events, feed_state
from providers.measures import iso_precise

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): refused access, silent client.
CLOSE_FORBIDDEN = 4403
CLOSE_IDLE = 4408
# A watched coin stays watched this many heartbeats after its last renewal.
WATCH_HEARTBEATS = 3
STORE_ERRORS = (redis.RedisError, OSError)


def _now_iso() -> str:
    return iso_precise(time.time())


class LiveFeedConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        if not await access.may_read(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: the handshake is refused (403)
            return
        self.client_id = secrets.token_hex(8)
        self.subscribed: set[str] = set()
        self.outbox = Outbox(int(settings.CRYPTOHUB_FEED_QUEUE_SIZE))
        self.heard_at = time.monotonic()
        self.connected_at = time.time()
        self.redis = sessions.feed_redis()
        self.tasks: list[asyncio.Task] = []
        await self.accept()
        try:
            await self._register()
            online = await sessions.online_count(self.redis)
        except STORE_ERRORS as exc:
            logger.warning("live feed session %s not registered: %s", self.client_id, exc)
            online = None
        self.outbox.put({
            "type": "welcome", "client_id": self.client_id, "online": online,
            "channels": protocol.available_channels(), "heartbeat_s": _heartbeat_s(),
            "idle_timeout_s": _idle_s(), "max_message_bytes": protocol.MAX_MESSAGE_BYTES,
        })
        self.tasks = [asyncio.ensure_future(self._write()), asyncio.ensure_future(self._beat())]
        presence.hub().join(self, online)

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "client_id"):
            return  # refused before accept
        for task in self.tasks:
            task.cancel()
        presence.hub().leave(self)
        with contextlib.suppress(Exception):
            await relay().remove(self, self.subscribed)
        with contextlib.suppress(*STORE_ERRORS):
            await sessions.unregister(self.redis, self.client_id)

    # --- client -> server ----------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.heard_at = time.monotonic()
        command = protocol.parse(text_data, bytes_data)
        if isinstance(command, dict):
            self.outbox.put(command)
        elif command.type == protocol.PING:
            self.outbox.put({"type": "pong", "at": _now_iso()})
        elif command.type == protocol.SUBSCRIBE:
            await self._subscribe(command.channels)
        else:
            await self._unsubscribe(command.channels)

    async def _subscribe(self, channels: tuple[str, ...]) -> None:
        new = [channel for channel in channels if channel not in self.subscribed]
        if len(self.subscribed) + len(new) > protocol.MAX_CHANNELS:
            self.outbox.put(protocol.error(
                protocol.TOO_MANY_CHANNELS, f"a connection may hold at most {protocol.MAX_CHANNELS} channels",
                field="channels", subscribed=len(self.subscribed)))
            return
        for channel in new:
            await relay().add(self, channel)
        self.subscribed.update(new)
        await self._save_channels(new_coins=_coins(new))
        # Joined first, read second: an event between the two arrives after a snapshot that may
        # already hold it (a repeat), never before a snapshot that misses it (a loss).
        for channel in channels:
            self.outbox.put(await self._snapshot(channel))

    async def _unsubscribe(self, channels: tuple[str, ...]) -> None:
        held = [channel for channel in channels if channel in self.subscribed]
        await relay().remove(self, held)
        self.subscribed.difference_update(held)
        await self._save_channels(new_coins=[])
        self.outbox.put({"type": "unsubscribed", "channels": list(channels)})

    async def _snapshot(self, channel: str) -> dict[str, Any]:
        try:
            return await snapshots.snapshot(channel, self.redis)
        except Exception as exc:  # noqa: BLE001 - a store down (the database) must not end the connection
            logger.warning("feed snapshot of %s failed: %r", channel, exc)
            return {"type": "snapshot", "channel": channel, "data": None, "error": "unavailable", "at": _now_iso()}

    async def _save_channels(self, new_coins: list[str]) -> None:
        try:
            await sessions.set_channels(self.redis, self.client_id, sorted(self.subscribed))
            if new_coins:
                await feed_state.watch_prices(self.redis, new_coins, ttl_s=_watch_ttl_s())
        except STORE_ERRORS as exc:
            logger.warning("live feed session %s not updated: %s", self.client_id, exc)

    # --- server -> client ----------------------------------------------------------------------

    def deliver(self, message: dict[str, Any]) -> None:
        """An event from this process's relay: queued for this client, never awaited on its socket."""
        if message.get("channel") in self.subscribed:
            self.outbox.put(message)

    def tell_presence(self, online: int) -> None:
        self.outbox.put({"type": "presence", "online": online, "at": _now_iso()})

    async def _write(self) -> None:
        while True:
            message = await self.outbox.get()
            try:
                text = getattr(message, "text", None) or json.dumps(message, separators=(",", ":"))
                await self.send(text_data=text)
            except Exception as exc:  # noqa: BLE001 - the socket is gone: disconnect() ends the rest
                logger.debug("live feed send to %s failed: %r", self.client_id, exc)
                return

    async def _beat(self) -> None:
        next_beat = time.monotonic() + _heartbeat_s()
        while True:
            idle_deadline = self.heard_at + _idle_s()
            await asyncio.sleep(max(0.0, min(next_beat, idle_deadline) - time.monotonic()))
            now = time.monotonic()
            if now >= self.heard_at + _idle_s():
                logger.info("live feed client %s silent for %.0f s: closed", self.client_id, _idle_s())
                await self.close(code=CLOSE_IDLE)
                return
            if now >= next_beat:
                next_beat = now + _heartbeat_s()
                self.outbox.put({"type": "heartbeat", "at": _now_iso()})
                await self._renew()

    async def _register(self) -> None:
        await sessions.register(self.redis, self.client_id, pid=os.getpid(), connected_at=self.connected_at,
                                channels=sorted(self.subscribed))

    async def _renew(self) -> None:
        try:
            await self._register()
            coins = _coins(self.subscribed)
            if coins:
                await feed_state.watch_prices(self.redis, coins, ttl_s=_watch_ttl_s())
        except STORE_ERRORS as exc:
            logger.warning("live feed session %s not renewed: %s", self.client_id, exc)


def _coins(channels: Any) -> list[str]:
    return [coin for channel in channels if (coin := events.coin_of(channel)) is not None]


def _heartbeat_s() -> float:
    return float(settings.CRYPTOHUB_FEED_HEARTBEAT_S)


def _idle_s() -> float:
    return float(settings.CRYPTOHUB_FEED_IDLE_S)


def _watch_ttl_s() -> float:
    return WATCH_HEARTBEATS * _heartbeat_s()
