"""A real feed site: uvicorn with two workers over the fake upstream's catalogue, with short
heartbeat and idle periods so the tests see them within seconds."""

from __future__ import annotations

import pytest

from tests.live_server import start_server

# Short periods for the tests (production: 20 s and 60 s).
HEARTBEAT_S, IDLE_S = 1.0, 4.0
FEED_ENV = {
    "CRYPTOHUB_FEED_HEARTBEAT_S": str(HEARTBEAT_S), "CRYPTOHUB_FEED_IDLE_S": str(IDLE_S),
    "CRYPTOHUB_FEED_PRESENCE_DEBOUNCE_S": "0.2", "CRYPTOHUB_FEED_STATS_S": "1",
}


@pytest.fixture
def feed_site(catalogue, fake_upstream):
    server = start_server(workers=2, env=FEED_ENV)
    server.fake = fake_upstream
    yield server
    server.stop()
