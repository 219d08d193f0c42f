"""The live site the frame's page tests run against: a real server whose catalogue points at the
fake upstream (every capability's pool, tests/fixtures/dataplane.py), an operator account, and
the fake's own answers to compare the pages with.

    from tests.dashboard.frame_site import frame_servers_fixture, frame_site_fixture  # noqa: F401

`frame_site` is one server with the default settings; `frame_servers(env=...)` starts more (each
stopped at teardown) for a test that needs other settings (a faster price ticker, public reads off).
"""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from healing import events
from tests.live_server import start_server

OPERATOR, OPERATOR_PASSWORD = "operator", "operator-pw"


@pytest.fixture(name="frame_servers")
def frame_servers_fixture(catalogue, fake_upstream):
    # The server runs the production settings, whose hashers don't include the tests' fast one.
    password = PBKDF2PasswordHasher().encode(OPERATOR_PASSWORD, PBKDF2PasswordHasher().salt())
    get_user_model().objects.create(username=OPERATOR, password=password, is_staff=True, is_superuser=True)
    started = []

    def start(env: dict[str, str] | None = None):
        server = start_server(env=env, wait=False)
        started.append(server)
        server.wait_ready(path="/health")  # answers whoever asks, whatever CRYPTOHUB_PUBLIC_READ says
        server.fake = fake_upstream
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(name="frame_site")
def frame_site_fixture(frame_servers):
    return frame_servers()


def fake_json(fake_upstream, slug: str, path: str, **params):
    """What the fake upstream itself answers `slug` on `path` (the numbers a page must show)."""
    with httpx.Client(trust_env=False, timeout=5) as client:
        response = client.get(fake_upstream.base_url(slug) + path, params=params)
    response.raise_for_status()
    return response.json()


def log_in(page, url: str) -> None:
    page.goto(url + "/admin/login/")
    page.fill("#id_username", OPERATOR)
    page.fill("#id_password", OPERATOR_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("text=Site administration")


def publish(channel: str, items: list[dict]) -> None:
    """healing.events.publish from a thread of its own: Playwright's sync API runs an event loop in
    the test's thread, where async_to_sync refuses to run (the event would be logged, not sent)."""
    worker = threading.Thread(target=events.publish, args=(channel, items))
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "publishing hung"


def record_frames(page) -> list[dict]:
    """Every JSON message the page's WebSockets receive, in order (call before the page loads)."""
    frames: list[dict] = []

    def on_socket(socket):
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames


def wait_for_frame(page, frames: list[dict], match, timeout_ms: int = 15_000) -> dict:
    """The first recorded frame `match(frame)` accepts, waiting for it in bounded steps."""
    step_ms = 100
    for _ in range(timeout_ms // step_ms):
        found = next((frame for frame in frames if match(frame)), None)
        if found is not None:
            return found
        page.wait_for_timeout(step_ms)  # lets Playwright deliver the frames received meanwhile
    raise AssertionError(f"no matching frame in {timeout_ms} ms; got {[f.get('type') for f in frames][-20:]}")
