"""A swarm of live-feed WebSocket clients in a process of its own (bench/live_feed.py drives it).

The swarm's CPU must not be the load generator's, and its event loop must keep answering while the
parent measures: so it runs in a child process and talks to the parent over a pipe.

    parent -> swarm: ("events", n, timeout_s)   wait until every client has n marked events
    swarm -> parent: ("ready", connected, refused, connect_s) then ("arrivals", [[delay_s, ...] per event])

Each client connects to ws://127.0.0.1:PORT/ws/live/, subscribes `breakers`, and records for every
event whose data carries `bench_seq` the delay from its `sent_at` (the publisher's clock; one
machine, so one clock) to its arrival. Clients ping every PING_S so the server's idle rule never
closes them during a long phase.
"""

from __future__ import annotations

import asyncio
import json
import time
from multiprocessing.connection import Connection

import websockets

CONNECT_BATCH = 50
PING_S = 15.0
HANDSHAKE_TIMEOUT_S = 30.0


class _Client:
    def __init__(self) -> None:
        self.delays: dict[int, float] = {}
        self.ws = None

    async def open(self, url: str) -> None:
        self.ws = await websockets.connect(url, open_timeout=HANDSHAKE_TIMEOUT_S, max_queue=None)
        await self.ws.send(json.dumps({"type": "subscribe", "channels": ["breakers"]}))
        # The welcome and the snapshot come first; the subscription holds once the snapshot is in.
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("type") == "snapshot":
                return

    async def listen(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            data = message.get("data") if message.get("type") == "event" else None
            if isinstance(data, dict) and "bench_seq" in data:
                self.delays[data["bench_seq"]] = time.time() - data["sent_at"]

    async def keep_alive(self) -> None:
        while True:
            await asyncio.sleep(PING_S)
            await self.ws.send(json.dumps({"type": "ping"}))


async def _connect_all(url: str, n: int) -> tuple[list[_Client], int]:
    clients: list[_Client] = []
    refused = 0
    for start in range(0, n, CONNECT_BATCH):
        batch = [_Client() for _ in range(min(CONNECT_BATCH, n - start))]
        results = await asyncio.gather(*(c.open(url) for c in batch), return_exceptions=True)
        for client, result in zip(batch, results):
            if isinstance(result, BaseException):
                refused += 1
            else:
                clients.append(client)
    return clients, refused


async def _run(port: int, n: int, pipe: Connection) -> None:
    started = time.monotonic()
    clients, refused = await _connect_all(f"ws://127.0.0.1:{port}/ws/live/", n)
    background = [asyncio.create_task(task) for c in clients for task in (c.listen(), c.keep_alive())]
    pipe.send(("ready", len(clients), refused, time.monotonic() - started))
    loop = asyncio.get_running_loop()
    command, events, timeout_s = await loop.run_in_executor(None, pipe.recv)
    assert command == "events"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(len(c.delays) < events for c in clients):
        await asyncio.sleep(0.1)
    pipe.send(("arrivals", [[c.delays[seq] for c in clients if seq in c.delays] for seq in range(events)]))
    for task in background:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in clients), return_exceptions=True)


def swarm(port: int, n: int, pipe: Connection) -> None:
    """The child process's entry point."""
    asyncio.run(_run(port, n, pipe))
