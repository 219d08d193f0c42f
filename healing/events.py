"""The one place that publishes to the live feed: its Channels groups, event types and payload shapes.

Each channel of the feed is a `publish_<channel>(...)` function that shapes its payloads and hands
them to `_send`, which delivers them to the channel's group. The dashboard's consumer maps an event
type to a handler (STYLE §5: "provider.status" -> consumer.provider_status). Publishing is
best-effort: the feed being down is logged and never fails the caller (a sweep, a request).
No ORM here: callers pass plain values, so any layer above the engine can publish.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from providers.measures import iso_precise

logger = logging.getLogger(__name__)

# Provider up/down flips, published by the health sweep.
STATUS_GROUP = "provider-status"
STATUS_EVENT = "provider.status"


def status_payload(
    *, provider: str, status: str, previous: str | None, at: datetime,
    latency_ms: float | None = None, error_class: str = "", message: str = "",
) -> dict[str, Any]:
    """The one shape of a provider.status event (live feed, webhooks)."""
    return {
        "provider": provider, "status": status, "previous": previous, "at": iso_precise(at),
        "latency_ms": latency_ms, "error_class": error_class, "message": message,
    }


def publish_status(payloads: Sequence[dict[str, Any]]) -> None:
    """Send provider.status events (shaped by `status_payload`) to the status group."""
    _send(STATUS_GROUP, STATUS_EVENT, payloads)


def _send(group: str, event: str, payloads: Sequence[dict[str, Any]]) -> None:
    """Every payload to `group` as one `event` each, in one trip through the event loop."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return

        async def send_all() -> None:
            for payload in payloads:
                await layer.group_send(group, {"type": event, "payload": payload})

        async_to_sync(send_all)()
    except Exception as exc:
        logger.warning("%s events not published (%d): %s", event, len(payloads), exc)
