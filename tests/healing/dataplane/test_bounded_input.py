"""Bounded input on the data plane, over real sockets to a real uvicorn: a too-large body is a
413 (declared, undeclared and chunked), a body that stops arriving is a 408, a very long query
string is a 414 naming the field — never a reset or a hung worker."""

import json
import socket

import pytest

from healing.dataplane.app import MAX_QUERY_STRING_BYTES

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
