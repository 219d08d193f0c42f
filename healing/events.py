"""The one place that publishes to the live feed: its channels, their Channels groups and the message shape.

The feed (ws://HOST/ws/live/, DESIGN.md "Live feed") has the channels in CHANNELS plus one
`prices:<coin id>` channel per coin. Each channel is one Channels group (`group_name`); every
message sent to a group has the one shape `feed_message` builds:

    {"type": "feed.event", "channel": "breakers", "data": {...}, "at": "2026-12-02T20:00:00.123Z",
     "critical": true}

`critical` channels (breakers, alerts) are never dropped silently by a slow client's queue: the
consumer drops them only with a `resync` hint. Publishing is best-effort: the layer being down is
logged and never fails the caller (a sweep, a request). No ORM here: callers pass plain values, so
any layer of healing (the engine included) can publish.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from providers.measures import iso_precise

logger = logging.getLogger(__name__)

HEALTH, BREAKERS, POOLS, ALERTS, STATS = "health", "breakers", "pools", "alerts", "stats"
# The channels that exist besides the per-coin price channels.
CHANNELS = (HEALTH, BREAKERS, POOLS, ALERTS, STATS)
PRICE_PREFIX = "prices:"
# Events a client must not lose without being told to re-read the channel's snapshot.
CRITICAL = frozenset({BREAKERS, ALERTS})
# The Channels message type every feed group message carries (the consumer's `feed_event` handler).
FEED_EVENT = "feed.event"
# A coin id as the data plane accepts it (lowercase slug), short enough for a group name (< 100).
COIN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
GROUP_PREFIX = "live."


def price_channel(coin: str) -> str:
    return PRICE_PREFIX + coin


def coin_of(channel: str) -> str | None:
    """The coin id of a `prices:<coin>` channel, or None when `channel` is not a valid price channel."""
    if not channel.startswith(PRICE_PREFIX):
        return None
    coin = channel[len(PRICE_PREFIX):]
    return coin if COIN_ID.match(coin) else None


def is_channel(channel: Any) -> bool:
    return isinstance(channel, str) and (channel in CHANNELS or coin_of(channel) is not None)


def group_name(channel: str) -> str:
    """The Channels group of a feed channel ("prices:bitcoin" -> "live.prices.bitcoin")."""
    if not is_channel(channel):
        raise ValueError(f"not a feed channel: {channel!r}")
    return GROUP_PREFIX + channel.replace(":", ".")


def feed_message(channel: str, data: dict[str, Any], at: datetime | float | None = None) -> dict[str, Any]:
    return {
        "type": FEED_EVENT, "channel": channel, "data": data,
        "at": iso_precise(time.time() if at is None else at), "critical": channel in CRITICAL,
    }


def publish(channel: str, items: Iterable[dict[str, Any]]) -> None:
    """Send each item as one event of `channel`, from sync code (a sweep, an admin save, a task)."""
    messages = [feed_message(channel, data) for data in items]
    if not messages:
        return
    try:
        async_to_sync(_send_all)(group_name(channel), messages)
    except Exception as exc:
        logger.warning("%s events not published (%d): %s", channel, len(messages), exc)


async def apublish(channel: str, items: Iterable[dict[str, Any]]) -> None:
    """`publish` for async code (the engine, the data plane): awaited, never raises."""
    messages = [feed_message(channel, data) for data in items]
    if not messages:
        return
    try:
        await _send_all(group_name(channel), messages)
    except Exception as exc:
        logger.warning("%s events not published (%d): %s", channel, len(messages), exc)


async def _send_all(group: str, messages: Sequence[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for message in messages:
        await layer.group_send(group, message)


# --- health ------------------------------------------------------------------------------------


def status_payload(
    *, provider: str, status: str, previous: str | None, at: datetime,
    latency_ms: float | None = None, error_class: str = "", message: str = "", source: str = "sweep",
) -> dict[str, Any]:
    """The one shape of a `health` event (live feed, webhooks): a provider's up/down/degraded flip."""
    return {
        "provider": provider, "status": status, "previous": previous, "at": iso_precise(at),
        "latency_ms": latency_ms, "error_class": error_class, "message": message, "source": source,
    }


def publish_status(payloads: Sequence[dict[str, Any]]) -> None:
    """Send health flips (shaped by `status_payload`) to the `health` channel."""
    publish(HEALTH, payloads)
