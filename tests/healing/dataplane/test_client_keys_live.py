"""Client keys through real uvicorn servers: limits shared by every worker, a staff session as
the keyless way in while CRYPTOHUB_PUBLIC_READ is off, and no key in the server's log output."""

import hashlib
import os
import signal

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PRICE = "/api/data/price?ids=bitcoin"


def _client(name: str, **fields) -> str:
    from healing.models import ApiClient

    client = ApiClient(name=name, **fields)
    key = client.set_new_key()
    client.save()
    return key


def _session_cookie(username: str, *, staff: bool) -> str:
    """A real session of a real user, in the database the server reads."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_user(username, password="pw-" + username, is_staff=staff)
    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_client_limit_is_shared_by_every_worker(price_pool, live_servers):
    key = _client("shared", limits="5/minute")
    server = live_servers(workers=2)
    codes = []
    for _ in range(8):
        # A new connection each time, so the requests spread over both workers.
        with httpx.Client(timeout=10, trust_env=False) as client:
            codes.append(client.get(server.url + "/api/data/", headers={"X-API-Key": key}).status_code)
    assert codes == [200] * 5 + [429] * 3


def test_a_staff_session_is_the_keyless_way_in_when_public_read_is_off(price_pool, live_servers):
    from django.conf import settings

    staff, plain = _session_cookie("staffer", staff=True), _session_cookie("plain", staff=False)
    server = live_servers(env={"CRYPTOHUB_PUBLIC_READ": "False"}, wait=False)
    _wait_until_refused(server)  # every data-plane path wants a key or a session now
    name = settings.SESSION_COOKIE_NAME
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        as_staff = client.get(PRICE, headers={"Cookie": f"{name}={staff}"})
        again = client.get(PRICE, headers={"Cookie": f"{name}={staff}"})
        as_plain = client.get(PRICE, headers={"Cookie": f"{name}={plain}"})
        forged = client.get(PRICE, headers={"Cookie": f"{name}={'x' * 32}"})
        nothing = client.get(PRICE)
    assert as_staff.status_code == again.status_code == 200, as_staff.text
    assert as_staff.json()["data"] and "ratelimit-limit" in as_staff.headers
    assert as_plain.status_code == forged.status_code == nothing.status_code == 401
    assert "staff session" in nothing.json()["detail"]


def _wait_until_refused(server, timeout_s: float = 60) -> None:
    """Wait for the data plane to answer (with a 401: it wants a key or a session)."""
    import time

    deadline, last = time.monotonic() + timeout_s, None
    with httpx.Client(timeout=2, trust_env=False) as client:
        while time.monotonic() < deadline and server.process.poll() is None:
            try:
                last = client.get(server.url + "/api/data/")
                if last.status_code == 401:
                    return
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
    raise AssertionError(f"server not answering 401: {last!r} {getattr(last, 'text', '')}\n{server.output()}")


def test_no_key_reaches_the_server_log(price_pool, live_servers):
    key = _client("logged", limits="2/minute")
    disabled = _client("off", enabled=False)
    wrong = ["chk_" + "A" * 43, key[:-1] + ("B" if key[-1] != "B" else "C"), "not-even-a-key"]
    server = live_servers(env={"LOG_LEVEL": "DEBUG"})
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        for presented in (key, key, key, disabled, *wrong):  # the third is over the limit
            client.get(PRICE, headers={"X-API-Key": presented})
            client.get("/api/data/", headers={"Authorization": f"Bearer {presented}"})
            client.get(f"/api/data/price?ids=bitcoin&api_key={presented}")
            client.post("/api/crypto-hub/proxy", headers={"X-API-Key": presented}, content=b"{not json")
            client.get("/api/status", headers={"Authorization": f"Token {presented}"})
    # End the server (its group: supervisor and workers) but keep its log for reading.
    os.killpg(server.process.pid, signal.SIGTERM)
    server.process.wait(timeout=30)
    log = server.output(tail=10**8)
    assert "data plane ready" in log  # the log really was captured, at a level that shows info lines
    for secret in (key, disabled, *wrong):
        assert secret not in log
        assert hashlib.sha256(secret.encode()).hexdigest() not in log
