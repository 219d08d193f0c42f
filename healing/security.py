"""Where a login lockout meets alerting: django-axes' `user_locked_out` signal opens the
admin_login_lockout alerts at once (healing.monitoring.alerts), delivered like every other alert
by Celery tasks (healing.tasks), and leaves an entry in the audit trail (healing.audit). Connected in HealingConfig.ready()."""

from __future__ import annotations

import logging

from healing import audit
from healing.monitoring import alerts
from healing.tasks import enqueue_notification

logger = logging.getLogger(__name__)


def on_user_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    logger.warning("login locked out: user %r from %s", username or "", ip_address or "?")
    try:
        audit.record_lockout(username=username or "", ip_address=ip_address or "")
    except Exception:  # the lockout itself must hold even when the trail cannot be written
        logger.exception("login lockout not recorded in the audit trail")
    try:
        alerts.lockout_alerts_evaluate(notify=enqueue_notification)
    except Exception:  # the lockout itself must hold even when alerting fails
        logger.exception("login lockout alert could not be evaluated")
