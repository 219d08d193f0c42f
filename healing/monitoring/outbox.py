"""Alert notifications that were decided but never handed to a worker, found again in the database.

An alert's row and its notify_count are written in the evaluation's transaction; the delivery is
queued on commit. If the broker (Redis) is unreachable at that moment, the queueing fails and
nothing would send that event until the next repeat, maybe hours later. The database already
says what is owed: each alert's latest event (opened at seq 1, a repeat at seq n, resolved at
its final seq) on every enabled channel of its rule should have an AlertDelivery row. `owed()`
lists those that do not; every alert evaluation queues them again (deliveries are idempotent
per alert, channel, event and seq, so queueing one twice sends it once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Q

from healing.models.monitoring import Alert, AlertDelivery, AlertState

# Events older than this are not sent late: a day-old "opened" helps nobody.
OWED_WITHIN = timedelta(hours=6)
# A delivery queued a moment ago may not have started (and written its row) yet: only events
# older than this count as owed, so a healthy queue is not sent everything twice.
OWED_AFTER = timedelta(seconds=60)


def _latest_event(alert: Alert) -> tuple[str, datetime | None]:
    """The alert's latest notification event and when it was decided."""
    if alert.state == AlertState.RESOLVED:
        return AlertDelivery.Event.RESOLVED, alert.resolved_at
    if alert.notify_count <= 1:
        return AlertDelivery.Event.OPENED, alert.opened_at
    return AlertDelivery.Event.REPEAT, alert.last_notified_at


def owed(now: datetime) -> list[tuple[int, int, str, int]]:
    """(alert id, channel id, event, seq) of every recent latest event with no delivery row yet."""
    since = now - OWED_WITHIN
    recent = (Alert.objects.filter(Q(last_notified_at__gte=since) | Q(resolved_at__gte=since) | Q(opened_at__gte=since))
              .select_related("rule").prefetch_related("rule__channels"))
    out = []
    for alert in recent:
        if alert.state == AlertState.RESOLVED and not alert.rule.notify_resolved:
            continue
        event, decided_at = _latest_event(alert)
        if decided_at is None or decided_at > now - OWED_AFTER:
            continue
        seq = alert.notify_count
        done = set(AlertDelivery.objects.filter(alert=alert, event=event, seq=seq).values_list("channel_id", flat=True))
        out.extend((alert.pk, channel.pk, event, seq) for channel in alert.rule.channels.all()
                   if channel.enabled and channel.pk not in done)
    return out


def requeue(notify: Callable[[int, int, str, int], None], now: datetime) -> int:
    """Hand every owed delivery to `notify` again; returns how many."""
    pending = owed(now)
    for alert_id, channel_id, event, seq in pending:
        notify(alert_id, channel_id, event, seq)
    return len(pending)
