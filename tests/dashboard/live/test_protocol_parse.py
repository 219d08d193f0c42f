"""The feed's client protocol as a unit (dashboard.live.protocol.parse): commands and errors."""

from __future__ import annotations

import json

import pytest

from dashboard.live import protocol
from dashboard.live.protocol import Command, parse


def test_commands():
    assert parse('{"type": "ping"}') == Command("ping")
    assert parse(json.dumps({"type": "subscribe", "channels": ["health", "prices:bitcoin", "health"]})) == Command(
        "subscribe", ("health", "prices:bitcoin"))
    assert parse('{"type": "unsubscribe", "channels": ["stats"]}') == Command("unsubscribe", ("stats",))


@pytest.mark.parametrize(("text", "code", "field"), [
    ("{", protocol.NOT_JSON, None),
    ('"ping"', protocol.BAD_MESSAGE, None),
    ('{"type": 1}', protocol.UNKNOWN_TYPE, "type"),
    ('{"type": "subscribe"}', protocol.BAD_CHANNELS, "channels"),
    ('{"type": "subscribe", "channels": [null]}', protocol.BAD_CHANNELS, "channels"),
    ('{"type": "subscribe", "channels": ["prices:"]}', protocol.UNKNOWN_CHANNEL, "channels"),
    ('{"type": "subscribe", "channels": ["Health"]}', protocol.UNKNOWN_CHANNEL, "channels"),
])
def test_errors(text, code, field):
    error = parse(text)
    assert error["type"] == "error" and (error["code"], error["field"]) == (code, field) and error["message"]


def test_binary_frames_and_size():
    assert parse(None, b"\x00")["code"] == protocol.NOT_JSON
    at_limit = json.dumps({"type": "ping", "pad": "x" * (protocol.MAX_MESSAGE_BYTES - 30)})
    at_limit += " " * (protocol.MAX_MESSAGE_BYTES - len(at_limit))
    assert parse(at_limit) == Command("ping")
    assert parse(at_limit + " ")["code"] == protocol.TOO_LARGE
    # Bytes count, not characters: 2,000 two-byte characters are 4,000 bytes plus the JSON around them.
    assert parse(json.dumps({"type": "ping", "pad": "é" * 2100}, ensure_ascii=False))["code"] == protocol.TOO_LARGE


def test_channel_limits_and_quoting():
    many = [f"prices:coin{n}" for n in range(protocol.MAX_CHANNELS)]
    assert parse(json.dumps({"type": "subscribe", "channels": many})).channels == tuple(many)
    too_many = parse(json.dumps({"type": "subscribe", "channels": [*many, "health"]}))
    assert too_many["code"] == protocol.TOO_MANY_CHANNELS
    unknown = parse(json.dumps({"type": "subscribe", "channels": ["a" * 200, *[f"x{n}" for n in range(9)]]}))
    assert unknown["channels"][0] == "a" * protocol.QUOTE_MAX and len(unknown["channels"]) == 5


def test_available_channels_name_the_price_pattern():
    assert protocol.available_channels()[-1] == "prices:<coin id>"
    assert set(protocol.available_channels()[:-1]) == {"health", "breakers", "pools", "alerts", "stats"}
