"""Bounded input on the data plane, over real sockets to a real uvicorn: a too-large body is a
413 (declared, undeclared and chunked), a body that stops arriving is a 408, a very long query
string is a 414 naming the field, too many ids or texts (or too long a text) a 400 naming the field
and the limit — never a 500, a reset or a hung worker: the server answers the next request."""

import json
import socket

import pytest

from healing.dataplane.app import MAX_QUERY_STRING_BYTES
from healing.dataplane.params import MAX_IDS, MAX_SENTIMENT_TEXT_CHARS, MAX_SENTIMENT_TEXTS
from healing.dataplane.proxy_policy import MAX_PARAM_LENGTH, MAX_PARAMS

pytestmark = pytest.mark.django_db(transaction=True)
TEN_MB = 10_000_000


def _exchange(port: int, head: bytes, body_chunks=(), timeout_s: float = 20) -> tuple[int, dict]:
    """Send a raw request, then read the whole answer; a reset fails the test."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered early and closed; the answer is still to be read
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            part = sock.recv(65536)
            if not part:
                break
            data += part
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1])


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0


@pytest.fixture
def server(live_servers):
    return live_servers(env={"CRYPTOHUB_BODY_READ_TIMEOUT_S": "1"})


def test_ten_mb_body_with_content_length_is_413(server):
    head = (b"POST /api/crypto-hub/proxy HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % TEN_MB)
    status, body = _exchange(server.port, head, [b"x" * 1_000_000] * 10)
    assert (status, body["field"]) == (413, "body")


def test_chunked_body_over_the_limit_is_413(server):
    head = b"POST /api/data/sentiment HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n%s\r\n" % (100_000, b"x" * 100_000)
    status, body = _exchange(server.port, head, [chunk] * 20 + [b"0\r\n\r\n"])
    assert (status, body["field"]) == (413, "body")


def test_body_that_stops_arriving_is_408(server):
    head = b"POST /api/crypto-hub/proxy HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    status, body = _exchange(server.port, head, [b'{"provider": '])
    assert (status, body["field"]) == (408, "body")


def test_long_query_string_is_414_naming_query(server):
    query = b"ids=" + b"a" * (MAX_QUERY_STRING_BYTES + 10)
    status, body = _exchange(server.port, b"GET /api/data/price?%s HTTP/1.1\r\nHost: x\r\n\r\n" % query)
    assert (status, body["field"]) == (414, "query")


def _post_json(port: int, path: str, payload) -> tuple[int, dict]:
    body = json.dumps(payload).encode()
    head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (path.encode(), len(body)))
    return _exchange(port, head, [body])


def _still_answers(port: int) -> None:
    status, body = _exchange(port, b"GET /api/data/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200 and "price" in body["capabilities"]


def test_one_id_too_many_is_a_400_naming_ids_and_the_limit(server):
    ids = ",".join(f"coin-{n}" for n in range(MAX_IDS + 1)).encode()
    status, body = _exchange(server.port, b"GET /api/data/price?ids=%s HTTP/1.1\r\nHost: x\r\n\r\n" % ids)
    assert (status, body["field"]) == (400, "ids")
    assert f"at most {MAX_IDS} ids" in body["detail"]
    _still_answers(server.port)


@pytest.mark.parametrize("texts,limit", [
    (["a headline"] * (MAX_SENTIMENT_TEXTS + 1), f"at most {MAX_SENTIMENT_TEXTS} texts"),
    (["a headline", "x" * (MAX_SENTIMENT_TEXT_CHARS + 1)], f"longer than {MAX_SENTIMENT_TEXT_CHARS} characters"),
])
def test_too_many_or_too_long_texts_are_a_400_naming_texts_and_the_limit(server, texts, limit):
    status, body = _post_json(server.port, "/api/data/sentiment", {"texts": texts})
    assert (status, body["field"]) == (400, "texts")
    assert limit in body["detail"]
    _still_answers(server.port)


@pytest.mark.parametrize("params", [
    {f"p{n}": "1" for n in range(MAX_PARAMS + 1)},
    {"q": "x" * (MAX_PARAM_LENGTH + 1)},
])
def test_proxy_params_past_their_limits_are_a_400_naming_params(price_pool, server, params):
    status, body = _post_json(server.port, "/api/crypto-hub/proxy",
                              {"provider": "coingecko", "path": "/simple/price", "params": params})
    assert (status, body["field"]) == (400, "params")
    _still_answers(server.port)
