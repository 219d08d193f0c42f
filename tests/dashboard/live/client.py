"""A Python WebSocket client of the live feed for tests: real sockets (the `websockets` library),
bounded waits, and every message kept so a test can look for one among heartbeats and presence."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

WAIT_S = 20.0


class FeedClient:
    def __init__(self, url: str, *, ping_every_s: float | None = None, **connect_options: Any) -> None:
        """`ping_every_s`: send the protocol's `ping` that often from a background thread, for a test
        that holds many clients open longer than the server's idle timeout (a silent client is
        closed, and on a loaded machine opening and spreading them can take longer than that)."""
        self.ws: ClientConnection = connect(url.replace("http", "ws", 1) + "/ws/live/", open_timeout=10,
                                            max_size=2**22, **connect_options)
        self.seen: list[dict[str, Any]] = []
        self._closed = threading.Event()
        if ping_every_s:
            threading.Thread(target=self._keep_talking, args=(ping_every_s,), daemon=True).start()
        self.welcome = self.wait_for(lambda m: m["type"] == "welcome")

    def _keep_talking(self, every_s: float) -> None:
        while not self._closed.wait(every_s):
            try:
                self.send({"type": "ping"})
            except ConnectionClosed:
                return

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str | bytes) else json.dumps(message))

    def next(self, timeout: float = WAIT_S) -> dict[str, Any]:
        message = json.loads(self.ws.recv(timeout=timeout))
        self.seen.append(message)
        return message

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S) -> dict[str, Any]:
        """The first message (from now on) that matches; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching message in {timeout} s; last seen: {self.seen[-5:]}")
            message = self.next(timeout=left)
            if match(message):
                return message

    def subscribe(self, *channels: str) -> dict[str, dict[str, Any]]:
        """Subscribe and return the snapshot of each channel."""
        self.send({"type": "subscribe", "channels": list(channels)})
        snapshots: dict[str, dict[str, Any]] = {}
        while len(snapshots) < len(channels):
            message = self.wait_for(lambda m: m["type"] in ("snapshot", "error"))
            assert message["type"] == "snapshot", message
            snapshots[message["channel"]] = message
        return snapshots

    def event(self, channel: str, match: Callable[[dict[str, Any]], bool] = lambda data: True,
              timeout: float = WAIT_S) -> dict[str, Any]:
        return self.wait_for(lambda m: m["type"] == "event" and m["channel"] == channel and match(m["data"]),
                             timeout=timeout)

    def close(self) -> None:
        self._closed.set()
        self.ws.close()


def is_event(message: dict[str, Any], channel: str) -> bool:
    return message["type"] == "event" and message["channel"] == channel


class StalledClient:
    """A client that reads only when told to: the sans-I/O `websockets` protocol over a plain
    socket with a small receive window, so between reads the server's sends really back up
    (the sync client above reads the socket in a background thread)."""

    def __init__(self, url: str) -> None:
        import socket

        from websockets.client import ClientProtocol
        from websockets.frames import Frame
        from websockets.http11 import Response
        from websockets.uri import parse_uri

        self._frame_type, self._response_type = Frame, Response
        ws_url = url.replace("http", "ws", 1) + "/ws/live/"
        self.protocol = ClientProtocol(parse_uri(ws_url), max_size=2**22)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        uri = parse_uri(ws_url)
        self.sock.connect((uri.host, uri.port))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.pending: list[dict[str, Any]] = []
        self.welcome = self.read_until(lambda m: m["type"] == "welcome")

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush()

    def read(self, timeout: float) -> list[dict[str, Any]]:
        """The messages that arrive within `timeout` seconds of one read ([] when none)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return []
        self.protocol.receive_data(data) if data else self.protocol.receive_eof()
        self._flush()  # pongs to the server's protocol pings
        out = [json.loads(e.data) for e in self.protocol.events_received() if isinstance(e, self._frame_type)
               and e.opcode.name == "TEXT"]
        self.pending.extend(out)
        return out

    def read_until(self, match: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.pending:
                message = self.pending.pop(0)
                if match(message):
                    return message
            self.read(timeout=max(0.01, deadline - time.monotonic()))
        raise TimeoutError(f"no matching message in {timeout} s")

    def close(self) -> None:
        self.sock.close()
