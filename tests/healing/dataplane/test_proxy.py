"""The safe proxy end to end, in-process, over real sockets: a recording echo server stands in for
a provider (so the test sees exactly what went upstream), plus the shared fake upstream."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from asgiref.sync import sync_to_async

KEY = "sekrit-key-4711"
PROXY = "/api/crypto-hub/proxy"


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.redirect_to = ""
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        seen = {"method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode()}
        self.server.requests.append(seen)
        if parts.path.endswith("/redirect-away"):
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts.path.endswith("/missing"):
            payload, status = {"error": "not found"}, 404
        elif parts.path.endswith("/reflect"):
            payload, status = seen, 200  # a provider that echoes the request, key and all
        else:
            payload, status = {"ok": True, "path": parts.path, "method": self.command}, 200
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (("Content-Type", "application/json"), ("Cache-Control", "max-age=5"), ("ETag", '"v1"'),
                            ("Set-Cookie", "session=abc"), ("X-Internal-Token", "t0k"), ("Server", "echo/1")):
            self.send_header(name, value)
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = _answer


@pytest.fixture
def recorder():
    server = Recorder()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def elsewhere():
    """Another host the proxy must never reach (a redirect target)."""
    server = Recorder()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def echo_providers(transactional_db, recorder, monkeypatch):
    from providers.models import Provider

    monkeypatch.setenv("ECHO_KEY", KEY)
    common = {"category": "market_data", "rate_limits": "", "timeout_s": 5, "api_key_env": "ECHO_KEY"}
    Provider.objects.create(slug="echo", name="Echo", base_url=recorder.url + "/echo/v1", auth_type="query",
                            auth_param="apikey", **common)
    Provider.objects.create(slug="echo-header", name="Echo H", base_url=recorder.url + "/hdr", auth_type="header",
                            auth_param="X-Api-Key", auth_scheme="Bearer", **common)
    Provider.objects.create(slug="echo-rpc", name="Echo RPC", base_url=recorder.url + "/rpc", allow_post=True,
                            category="rpc", rate_limits="", timeout_s=5)
    Provider.objects.create(slug="echo-off", name="Echo off", base_url=recorder.url + "/off", enabled=False,
                            category="market_data")


def _no_key_in(response) -> None:
    assert KEY not in response.text
    assert all(KEY not in value for value in response.headers.values())


async def test_proxies_a_get_with_the_key_added_server_side(echo_providers, recorder, data_client):
    response = await data_client.post(PROXY, json={"provider": "echo", "path": "/prices", "params": {"ids": "btc"}})
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "path": "/echo/v1/prices", "method": "GET"}
    [seen] = recorder.requests
    assert seen["query"] == {"ids": ["btc"], "apikey": [KEY]}
    assert response.headers["x-cryptohub-source"] == "echo"
    assert response.headers["x-cryptohub-cache"] == "live"
    # Only safe headers pass: no cookie, no internal token, no server banner.
    assert response.headers["cache-control"] == "max-age=5"
    assert response.headers["etag"] == '"v1"'
    for name in ("set-cookie", "x-internal-token", "server"):
        assert name not in response.headers
    _no_key_in(response)


async def test_header_auth_and_the_url_form(echo_providers, recorder, data_client):
    response = await data_client.post(PROXY, json={"url": recorder.url + "/hdr/a/b?x=1"})
    assert response.status_code == 200
    [seen] = recorder.requests
    assert (seen["path"], seen["query"]) == ("/hdr/a/b", {"x": ["1"]})
    assert seen["headers"]["x-api-key"] == f"Bearer {KEY}"
    assert response.headers["x-cryptohub-source"] == "echo-header"
    _no_key_in(response)


async def test_a_provider_echoing_its_key_never_shows_it_to_the_caller(echo_providers, recorder, data_client):
    response = await data_client.post(PROXY, json={"provider": "echo", "path": "/reflect"})
    assert response.status_code == 200
    assert recorder.requests[0]["query"]["apikey"] == [KEY]
    assert response.json()["query"]["apikey"] == ["[redacted]"]
    _no_key_in(response)


async def test_post_only_where_allowed(echo_providers, recorder, data_client):
    rpc = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    response = await data_client.post(PROXY, json={"provider": "echo-rpc", "path": "/", "method": "POST", "body": rpc})
    assert response.status_code == 200
    assert json.loads(recorder.requests[0]["body"]) == rpc
    refused = await data_client.post(PROXY, json={"provider": "echo", "path": "/x", "method": "POST", "body": rpc})
    assert refused.status_code == 403
    assert refused.json()["field"] == "method"
    assert len(recorder.requests) == 1


async def test_head_answers_headers_only(echo_providers, recorder, data_client):
    response = await data_client.request("POST", PROXY, json={"provider": "echo", "path": "/x", "method": "HEAD"})
    assert response.status_code == 200
    assert response.content == b""
    assert recorder.requests[0]["method"] == "HEAD"


async def test_the_providers_own_4xx_passes_through(echo_providers, recorder, data_client):
    response = await data_client.post(PROXY, json={"provider": "echo", "path": "/missing"})
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


async def test_cache_ttl_serves_the_second_call_from_cache(echo_providers, recorder, data_client):
    request = {"provider": "echo", "path": "/cached", "cache_ttl_s": 60}
    first = await data_client.post(PROXY, json=request)
    second = await data_client.post(PROXY, json=request)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-cryptohub-cache"] == "live"
    assert second.headers["x-cryptohub-cache"] == "cache"
    assert second.content == first.content
    assert len(recorder.requests) == 1


async def test_a_redirect_to_another_host_is_a_502_and_never_followed(echo_providers, recorder, elsewhere,
                                                                       data_client):
    recorder.redirect_to = elsewhere.url + "/steal?token=1"
    response = await data_client.post(PROXY, json={"provider": "echo", "path": "/redirect-away"})
    assert response.status_code == 502
    assert "redirect" in response.json()["detail"]
    assert "steal" not in response.text and "token" not in response.text
    assert elsewhere.requests == []
    assert len(recorder.requests) == 1


async def test_a_redirect_outside_the_base_path_is_refused_too(echo_providers, recorder, data_client):
    recorder.redirect_to = recorder.url + "/admin/secrets"
    response = await data_client.post(PROXY, json={"provider": "echo", "path": "/redirect-away"})
    assert response.status_code == 502
    assert "redirect" in response.json()["detail"]
    assert [r["path"] for r in recorder.requests] == ["/echo/v1/redirect-away"]


HOSTILE = [
    {"url": "http://evil.example.com/echo/v1/x"},
    {"url": "{base}@evil.example.com/echo/v1/x"},
    {"url": "http://user:pw@127.0.0.1:{port}/echo/v1/x"},
    {"url": "{base}/echo/v1/../../admin"},
    {"url": "{base}/echo/v1/%2e%2e/%2e%2e/admin"},
    {"url": "{base}/echo/v1/%252e%252e/admin"},
    {"provider": "echo", "path": "/..%2f..%2fadmin"},
    {"provider": "echo", "path": "/%252E%252E/%252E%252E/admin"},
    {"url": "http://%31%32%37.0.0.1:{port}/echo/v1/x"},
    {"url": "http://127.0.0.1%3a{port}/echo/v1/x"},
    {"url": "{base}\\@evil.example.com/echo/v1"},
    {"provider": "echo", "path": "/x\\..\\..\\admin"},
    {"url": "http://[::1]:{port}/echo/v1/x"},
    {"url": "http://[::ffff:7f00:1]:{port}/echo/v1/x"},
    {"url": "http://2130706433:{port}/echo/v1/x"},
    {"url": "http://0x7f.1:{port}/echo/v1/x"},
    {"url": "http://0x7f000001:{port}/echo/v1/x"},
    {"url": "http://0177.0.0.1:{port}/echo/v1/x"},
    {"url": "http://127.1:{port}/echo/v1/x"},
    {"url": "ftp://127.0.0.1:{port}/echo/v1/x"},
    {"url": "file:///etc/passwd"},
    {"provider": "echo", "path": "http://evil.example.com/x"},
    {"provider": "echo", "path": "//evil.example.com/x"},
    {"provider": "echo", "path": "/x\r\nX-Injected: 1"},
    {"provider": "echo", "path": "/x%0d%0aX-Injected:%201"},
    {"provider": "echo", "path": "/x", "params": {"q": "a\r\nX-Injected: 1"}},
    {"provider": "echo", "path": "/x", "params": {"apikey": "mine"}},
    {"provider": "echo-off", "path": "/x"},
    {"provider": "not-registered", "path": "/x"},
    {"provider": "echo", "path": "/x", "method": "DELETE"},
    {"provider": "echo", "path": "/x", "headers": {"Host": "evil.example.com"}},
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=[json.dumps(h)[:60] for h in HOSTILE])
async def test_every_hostile_input_is_refused_before_any_call(echo_providers, recorder, data_client, hostile):
    port = recorder.server_address[1]
    body = {k: (v.format(base=recorder.url, port=port) if isinstance(v, str) else v) for k, v in hostile.items()}
    response = await data_client.post(PROXY, json=body)
    assert response.status_code in (400, 403), response.text
    assert response.json()["detail"]
    assert recorder.requests == []


async def test_bad_request_bodies(echo_providers, recorder, data_client):
    response = await data_client.post(PROXY, content=b"{not json", headers={"content-type": "application/json"})
    assert (response.status_code, response.json()["field"]) == (400, "body")
    response = await data_client.post(PROXY, content=b"[" + b"1," * 200_000 + b"1]")
    assert response.status_code == 413
    response = await data_client.get(PROXY)
    assert response.status_code == 405
    assert recorder.requests == []


async def test_same_breaker_and_cooldowns_as_data_calls(price_pool, fake_upstream, data_client):
    fake_upstream.fault("coingecko", "rate_limit", retry_after=120)
    first = await data_client.post(PROXY, json={"provider": "coingecko", "path": "/ping"})
    assert first.status_code == 502
    assert first.json()["attempts"][0]["outcome"] == "rate_limited"
    fake_upstream.reset()
    second = await data_client.post(PROXY, json={"provider": "coingecko", "path": "/ping"})
    assert second.status_code == 503
    assert [a["outcome"] for a in second.json()["attempts"]] == ["skipped_budget"]
    assert any("coingecko" in s for s in second.json()["suggestions"])
    assert fake_upstream.calls() == 0


async def test_a_provider_disabled_by_an_edit_is_refused(echo_providers, recorder, data_client):
    from providers.models import Provider

    assert (await data_client.post(PROXY, json={"provider": "echo", "path": "/x"})).status_code == 200

    def disable():
        echo = Provider.objects.get(slug="echo")
        echo.enabled = False
        echo.save()

    await sync_to_async(disable)()
    await data_client.app.state.runtime.holder.refresh()
    response = await data_client.post(PROXY, json={"provider": "echo", "path": "/x"})
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]
    assert len(recorder.requests) == 1
