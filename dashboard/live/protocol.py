"""The live feed's client protocol: a client's frame parsed into a command, or the error to answer.

Client -> server (JSON text frames, at most MAX_MESSAGE_BYTES):

    {"type": "subscribe", "channels": ["health", "prices:bitcoin"]}
    {"type": "unsubscribe", "channels": ["health"]}
    {"type": "ping"}

Anything else is answered with one `error` message ({"type": "error", "code", "field", "message"})
and the connection stays open. A subscribe or unsubscribe naming an unknown channel changes
nothing (the whole message is refused), so a client never ends up half-subscribed by a typo.
No I/O here: the consumer (dashboard.live.consumer) acts on what `parse` returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from common import json_input
from healing import events

# A client message larger than this (bytes, UTF-8) is refused unparsed.
MAX_MESSAGE_BYTES = 4096
# Channels one subscribe/unsubscribe may name, and channels one connection may hold at once.
MAX_CHANNELS = 50
# Unknown names quoted back in an error are cut to this many characters.
QUOTE_MAX = 64

SUBSCRIBE, UNSUBSCRIBE, PING = "subscribe", "unsubscribe", "ping"
MESSAGE_TYPES = (SUBSCRIBE, UNSUBSCRIBE, PING)

# Error codes (the `code` of an error message).
NOT_JSON = "not_json"
TOO_LARGE = "too_large"
BAD_MESSAGE = "bad_message"
UNKNOWN_TYPE = "unknown_type"
BAD_CHANNELS = "bad_channels"
UNKNOWN_CHANNEL = "unknown_channel"
TOO_MANY_CHANNELS = "too_many_channels"
FORBIDDEN = "forbidden"


@dataclass(frozen=True)
class Command:
    """A valid client message: its type, and the channels it names (deduplicated, in order)."""

    type: str
    channels: tuple[str, ...] = ()


def error(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    """The one shape of an `error` message."""
    return {"type": "error", "code": code, "field": field, "message": message, **extra}


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:QUOTE_MAX]


def parse(text: str | None, binary: bytes | None = None) -> Command | dict[str, Any]:
    """A client frame -> a Command, or the error message to send back."""
    if text is None:
        return error(NOT_JSON, "send JSON text frames, not binary ones", size=len(binary or b""))
    if len(text) > MAX_MESSAGE_BYTES or len(text.encode()) > MAX_MESSAGE_BYTES:
        return error(TOO_LARGE, f"a message may have at most {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json_input.loads(text)
    except ValueError as exc:
        return error(NOT_JSON, f"the message is not valid JSON ({exc})")
    if not isinstance(message, dict):
        return error(BAD_MESSAGE, 'a message is a JSON object like {"type": "ping"}')
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        return error(UNKNOWN_TYPE, f"type must be one of {list(MESSAGE_TYPES)}", field="type")
    if kind == PING:
        return Command(PING)
    return _channels_command(kind, message.get("channels"))


def _channels_command(kind: str, channels: Any) -> Command | dict[str, Any]:
    if not isinstance(channels, list) or not channels:
        return error(BAD_CHANNELS, "channels must be a non-empty list of channel names", field="channels")
    if len(channels) > MAX_CHANNELS:
        return error(TOO_MANY_CHANNELS, f"at most {MAX_CHANNELS} channels per message", field="channels")
    if not all(isinstance(name, str) for name in channels):
        return error(BAD_CHANNELS, "each channel is a string", field="channels")
    unknown = [name for name in channels if not events.is_channel(name)]
    if unknown:
        return error(
            UNKNOWN_CHANNEL, f"unknown channel(s); channels are {list(events.CHANNELS)} and prices:<coin id>",
            field="channels", channels=[_quote(name) for name in unknown[:5]],
        )
    return Command(kind, tuple(dict.fromkeys(channels)))


def available_channels() -> list[str]:
    """The channels a welcome message lists (price channels are one per coin: a pattern)."""
    return [*events.CHANNELS, events.PRICE_PREFIX + "<coin id>"]
