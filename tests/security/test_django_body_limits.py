"""Bounded input on the Django plane (the DRF API, the admin), over real sockets to a real uvicorn.

A 10 MB body is a JSON 413 naming "body", a long query string a 414 naming "query", too many form
fields a 400, never a 500 or a reset; the server answers the next request. Django reads a whole
body before its middleware runs, so the chunked and stalled cases need `BoundedBody` in front of
Django: `bounded_application` serves cryptohub.asgi with it there (uvicorn --factory).
"""

import json
import re
import socket
import subprocess
import tempfile

import httpx
import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

from tests.live_server import REPO_ROOT, LiveServer, server_env, uvicorn_command
from tests.redis_server import free_port

pytestmark = pytest.mark.django_db(transaction=True)
TEN_MB = 10_000_000
NEW_PROVIDER = {"slug": "newprov", "name": "New Provider", "category": "exchange",
                "base_url": "https://api.newprov.example.com", "health_path": "/ping", "rate_limits": ""}


def bounded_application():
    """cryptohub.asgi's application with Django behind BoundedBody (the data plane unchanged)."""
    from cryptohub import asgi
    from cryptohub.bodylimits import BoundedBody

    if not isinstance(asgi.django_http, BoundedBody):
        asgi.django_http = BoundedBody(asgi.django_http)
    return asgi.application


@pytest.fixture
def plain_server(live_servers):
    return live_servers(env={"CRYPTOHUB_BODY_READ_TIMEOUT_S": "1"})


@pytest.fixture
def bounded_server(transactional_db):
    port = free_port()
    log = tempfile.SpooledTemporaryFile(max_size=1_000_000)
    command = [*uvicorn_command(f"{__name__}:bounded_application", port=port, workers=1), "--factory"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=server_env({"CRYPTOHUB_BODY_READ_TIMEOUT_S": "1"}),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = LiveServer(process, port, log)
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture
def staff_token(transactional_db):
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("staffer", password="pw-staffer", is_staff=True)
    return Token.objects.create(user=user).key


def _exchange(port: int, head: bytes, body_chunks=()) -> tuple[int, bytes, bytes]:
    """Send a raw request, then read the whole answer (status, head, body); a reset fails the test."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered early and closed; the answer is still to be read
        data = b""
        while not _complete(data):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    answer_head, body = data.split(b"\r\n\r\n", 1)
    if _chunked(answer_head):
        body = _dechunk(body)
    return int(answer_head.split(b" ", 2)[1]), answer_head, body


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _chunked(head: bytes) -> bool:
    return (_header(head, b"transfer-encoding") or b"").lower() == b"chunked"


def _complete(data: bytes) -> bool:
    if b"\r\n\r\n" not in data:
        return False
    head, body = data.split(b"\r\n\r\n", 1)
    if _chunked(head):
        return body.endswith(b"0\r\n\r\n")
    return len(body) >= int(_header(head, b"content-length") or 0)


def _dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out, body = out + rest[:size], rest[size + 2:]


def _head(method: str, path: str, *lines: str) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{line}\r\n" for line in lines)
            + "\r\n").encode()


def _refused(status: int, answer: tuple[int, bytes, bytes], field: str) -> dict:
    got, head, body = answer
    assert got == status, body[:300]
    assert b"application/json" in head.lower()
    payload = json.loads(body)
    assert payload["field"] == field and payload["detail"]
    return payload


def _still_answers(port: int) -> None:
    status, _, body = _exchange(port, _head("GET", "/api/providers"))
    assert status == 200 and isinstance(json.loads(body), list)


def _ten_mb(path: str, content_type: str) -> tuple[bytes, list[bytes]]:
    return _head("POST", path, f"Content-Type: {content_type}", f"Content-Length: {TEN_MB}"), [b"x" * 1_000_000] * 10


# --- without the wrapper: what Django's middleware and the DRF handler answer ----------------------


@pytest.mark.parametrize("path,content_type", [
    ("/api/providers", "application/json"),
    ("/admin/login/", "application/x-www-form-urlencoded"),
])
def test_a_ten_mb_body_is_a_413_json_naming_body(plain_server, path, content_type):
    payload = _refused(413, _exchange(plain_server.port, *_ten_mb(path, content_type)), "body")
    assert str(settings.CRYPTOHUB_MAX_REQUEST_BYTES) in payload["detail"]
    _still_answers(plain_server.port)


def test_a_long_query_string_is_a_414_naming_query(plain_server):
    path = "/api/providers?search=" + "a" * settings.CRYPTOHUB_MAX_QUERY_BYTES
    _refused(414, _exchange(plain_server.port, _head("GET", path)), "query")
    _still_answers(plain_server.port)


def test_too_many_form_fields_to_the_api_are_a_400_naming_body_not_a_500(plain_server, staff_token):
    body = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)).encode()
    head = _head("POST", "/api/providers", f"Authorization: Token {staff_token}",
                 "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}")
    payload = _refused(400, _exchange(plain_server.port, head, [body]), "body")
    assert f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields" in payload["detail"]
    _still_answers(plain_server.port)


def test_too_many_form_fields_to_the_admin_login_are_a_400_not_a_500(plain_server):
    with httpx.Client(base_url=plain_server.url, timeout=20, trust_env=False) as client:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/admin/login/").text).group(1)
        fields = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)}
        answer = client.post("/admin/login/", data={"csrfmiddlewaretoken": token, **fields})
    # The CSRF check reads the form first; Django's answer to a form past the cap is its 400 page.
    assert answer.status_code == 400
    _still_answers(plain_server.port)


# --- with BoundedBody in front of Django: refused before or while the body is read ----------------


def test_a_declared_ten_mb_body_is_a_413_before_it_is_read(bounded_server):
    _refused(413, _exchange(bounded_server.port, *_ten_mb("/api/providers", "application/json")), "body")
    _still_answers(bounded_server.port)


def test_a_chunked_body_over_the_limit_is_a_413(bounded_server):
    head = _head("POST", "/admin/login/", "Content-Type: application/x-www-form-urlencoded",
                 "Transfer-Encoding: chunked")
    chunk = b"%x\r\n%s\r\n" % (100_000, b"x" * 100_000)
    chunks = [chunk] * (settings.CRYPTOHUB_MAX_REQUEST_BYTES // 100_000 + 5) + [b"0\r\n\r\n"]
    _refused(413, _exchange(bounded_server.port, head, chunks), "body")
    _still_answers(bounded_server.port)


def test_a_body_that_stops_arriving_is_a_408(bounded_server, staff_token):
    head = _head("POST", "/api/providers", f"Authorization: Token {staff_token}", "Content-Type: application/json",
                 "Content-Length: 1000")
    payload = _refused(408, _exchange(bounded_server.port, head, [b'{"slug": ']), "body")
    assert "within 1 s" in payload["detail"]
    _still_answers(bounded_server.port)


def test_a_body_within_the_limits_still_reaches_the_view(bounded_server, staff_token):
    body = json.dumps(NEW_PROVIDER).encode()
    head = _head("POST", "/api/providers", f"Authorization: Token {staff_token}", "Content-Type: application/json",
                 f"Content-Length: {len(body)}")
    status, _, answer = _exchange(bounded_server.port, head, [body[:20], body[20:]])
    assert status == 201, answer[:300]
    assert json.loads(answer)["slug"] == "newprov"


# --- the DRF handler, for a body limit Django raises lazily ----------------------------------------


@pytest.mark.parametrize("exc,status,words", [
    (RequestDataTooBig(), 413, f"larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"),
    (TooManyFieldsSent(), 400, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields"),
    (TooManyFilesSent(), 400, f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} form files"),
])
def test_the_api_handler_names_the_body_for_django_size_errors(exc, status, words):
    # Imported here: the server processes import this module (the factory) before Django is set up.
    from cryptohub.exceptions import api_exception_handler

    response = api_exception_handler(exc, {"view": None})
    assert (response.status_code, response.data["field"]) == (status, "body")
    assert words in response.data["detail"]


def test_a_malformed_multipart_body_is_a_400_and_an_unknown_api_url_a_json_404(db):
    from django.test import Client

    client = Client(raise_request_exception=False)
    # No boundary: Django cannot parse it; the lockout check (axes) reads the form with the token.
    broken = client.post("/api/pools", data=b"--x\r\n", content_type="multipart/form-data",
                         HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert broken.status_code == 400 and broken.json()["field"] == "body"
    missing = client.get("/api/pools/%C2%84")
    assert missing.status_code == 404 and missing.json() == {"detail": "no such endpoint"}
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page["content-type"].startswith("text/html")
