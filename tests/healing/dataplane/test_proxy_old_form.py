"""The old system's proxy body, {"url", "method"}: its clients read the envelope {success,
status_code, data, source, attempt}; the provider + path form keeps answering the raw body."""

import json

import pytest

from healing.dataplane.proxy import ProxyResult, is_old_form, old_envelope
from tests.healing.dataplane.test_proxy import KEY, PROXY, echo_providers, recorder  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_old_body_gets_the_old_envelope(echo_providers, recorder, data_client):
    response = await data_client.post(PROXY, json={"url": recorder.url + "/echo/v1/prices?ids=btc", "method": "GET"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json() == {"success": True, "status_code": 200, "source": "echo", "attempt": 1,
                               "data": {"ok": True, "path": "/echo/v1/prices", "method": "GET"}}
    assert response.headers["x-cryptohub-source"] == "echo"
    for name in ("set-cookie", "etag", "server"):
        assert name not in response.headers
    assert KEY not in response.text

    raw = await data_client.post(PROXY, json={"provider": "echo", "path": "/prices"})
    assert raw.json() == {"ok": True, "path": "/echo/v1/prices", "method": "GET"}


async def test_upstream_errors_and_refusals_keep_their_status_inside_the_envelope(echo_providers, recorder,
                                                                                 data_client):
    missing = await data_client.post(PROXY, json={"url": recorder.url + "/echo/v1/missing"})
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "status_code": 404, "data": {"error": "not found"},
                              "source": "echo", "attempt": 1}
    refused = await data_client.post(PROXY, json={"url": "https://api.example.com/x", "method": "GET"})
    body = refused.json()
    assert refused.status_code == 403 and body["success"] is False and body["field"] == "url"
    assert body["source"] is None and body["attempt"] == 0 and body["status_code"] == 403
    bad = await data_client.post(PROXY, json={"url": recorder.url + "/echo/v1/x", "method": "PATCH"})
    assert bad.status_code == 400 and bad.json()["field"] == "method" and bad.json()["success"] is False


def test_which_bodies_are_the_old_form():
    assert is_old_form({"url": "https://x.example/a", "method": "GET"})
    assert not is_old_form({"url": "https://x.example/a", "provider": "x"})
    assert not is_old_form({"provider": "x", "path": "/a"})
    assert not is_old_form(["url"])


def test_the_envelope_of_a_text_answer_and_of_an_empty_one():
    text = old_envelope(ProxyResult(200, b"<rss/>", {"content-type": "application/rss+xml"}, "feed", 2))
    assert text.headers == {"content-type": "application/json"}
    assert text.body == b'{"success": true, "status_code": 200, "data": "<rss/>", "source": "feed", "attempt": 2}'
    empty = old_envelope(ProxyResult(204, b"", {"x-cryptohub-source": "feed", "retry-after": "3"}, "feed", 1))
    assert empty.status == 200 and empty.headers["retry-after"] == "3"  # a 204 carries no body
    assert b'"status_code": 204' in empty.body
    assert b'"data": null' in empty.body and b'"success": true' in empty.body


def test_an_answer_nested_too_deep_for_the_envelope_is_carried_as_text():
    # Decoded, it would take the encoder past its recursion limit: the client gets the text instead.
    deep = b"[" * 5000 + b"]" * 5000
    answer = old_envelope(ProxyResult(200, deep, {"content-type": "application/json"}, "feed", 1))
    assert json.loads(answer.body)["data"] == deep.decode()
    shallow = old_envelope(ProxyResult(200, b"[[1]]", {"content-type": "application/json"}, "feed", 1))
    assert json.loads(shallow.body)["data"] == [[1]]
