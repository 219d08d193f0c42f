"""The `alerts` channel of the live feed: an alert's open, repeat and resolve, once committed.

The event is built from the alert as committed (read back after the commit), so a rolled-back
evaluation publishes nothing and the feed never shows a state the database does not hold.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction

from healing import events
from healing.models.monitoring import Alert
from healing.monitoring.notifications import alert_payload

logger = logging.getLogger(__name__)

OPEN, REPEAT, RESOLVE = "open", "repeat", "resolve"
# The alert's fields an `alerts` event carries (alert_payload has more; the feed keeps it short).
FIELDS = ("id", "rule", "subject", "severity", "state", "message", "opened_at", "resolved_at")


def publish_on_commit(alert_id: int, event: str) -> None:
    """Publish `event` (OPEN, REPEAT or RESOLVE) of the alert once the current transaction commits."""
    transaction.on_commit(lambda: publish_now(alert_id, event))


def publish_now(alert_id: int, event: str) -> None:
    try:
        alert = Alert.objects.select_related("rule", "provider", "pool").filter(pk=alert_id).first()
    except DatabaseError as exc:
        logger.warning("alert %s %s not published: %s", alert_id, event, exc)
        return
    if alert is None:
        return
    row = alert_payload(alert)
    events.publish(events.ALERTS, [{**{name: row[name] for name in FIELDS}, "event": event}])
