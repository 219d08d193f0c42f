"""Alert notifications: what they say, and delivering them by email, generic webhook, Slack, Telegram.

Every channel kind is one small function with the same shape (healthchecks' transports):
`send(channel, message, secret)` raises DeliveryError on failure, with `permanent` telling the
retry loop whether trying again can help. A channel's secret (webhook URL, bot token) is read
from the environment variable the channel names, at send time; it never reaches a log line, an
error message or the database. Deliveries run in Celery tasks (never inside the sweep), are
retried with exponential backoff (tenacity) and recorded as AlertDelivery rows.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError
from tenacity import RetryError, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from healing.models.monitoring import Alert, AlertDelivery, ChannelKind, NotificationChannel
from providers.measures import iso_precise

logger = logging.getLogger(__name__)

# Attempts per delivery (first try included), unless settings.CRYPTOHUB_NOTIFY_ATTEMPTS says otherwise.
DEFAULT_ATTEMPTS = 4
# Backoff base in seconds (1, 2, 4 ... capped at MAX_BACKOFF_S); settings.CRYPTOHUB_NOTIFY_BACKOFF_S.
DEFAULT_BACKOFF_S = 2.0
MAX_BACKOFF_S = 60.0
# One HTTP delivery may take this long before it counts as failed (seconds).
HTTP_TIMEOUT_S = 10.0
DEFAULT_TELEGRAM_API = "https://api.telegram.org"
# Telegram refuses messages longer than this.
TELEGRAM_MAX_TEXT = 4096


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Message:
    event: str  # opened | repeat | resolved | test
    subject: str  # one line
    text: str  # a few lines of plain text
    payload: dict[str, Any] = field(default_factory=dict)  # the generic webhook's JSON body


# --- messages -----------------------------------------------------------------------------------


def alert_payload(alert: Alert) -> dict[str, Any]:
    """An alert as JSON: the generic webhook's "alert" and the alert list's rows."""
    return {
        "id": alert.pk,
        "rule": alert.rule.name,
        "kind": alert.rule.kind,
        "severity": alert.severity,
        "state": alert.state,
        "subject": alert.subject,
        "provider": alert.provider.slug if alert.provider_id else None,
        "pool": alert.pool.slug if alert.pool_id else None,
        "message": alert.message,
        "opened_at": iso_precise(alert.opened_at),
        "resolved_at": iso_precise(alert.resolved_at),
        "notify_count": alert.notify_count,
    }


def alert_message(alert: Alert, event: str) -> Message:
    label = {"opened": "ALERT", "repeat": "STILL FIRING", "resolved": "RESOLVED"}.get(event, event.upper())
    subject = f"[cryptohub {label}] [{alert.severity}] {alert.subject}"
    lines = [alert.message, f"rule: {alert.rule.name}", f"opened: {iso_precise(alert.opened_at)}"]
    if alert.resolved_at:
        lines.append(f"resolved: {iso_precise(alert.resolved_at)}")
    return Message(event=event, subject=subject, text="\n".join(lines),
                   payload={"event": event, "alert": alert_payload(alert)})


def channel_test_message(channel: NotificationChannel) -> Message:
    text = f"Test notification from cryptohub for channel {channel.name!r} ({channel.kind})."
    return Message(event="test", subject="[cryptohub TEST] notification channel test", text=text,
                   payload={"event": "test", "channel": channel.name, "text": text})


# --- transports ---------------------------------------------------------------------------------


def _secret(channel: NotificationChannel) -> str:
    value = os.environ.get(channel.secret_env, "") if channel.secret_env else ""
    if not value:
        raise DeliveryError(f"environment variable {channel.secret_env or '(none)'} is not set", permanent=True)
    return value


def _post_json(url: str, body: dict[str, Any]) -> httpx.Response:
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT_S, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, json=body)
    except httpx.HTTPError as exc:
        # Only the class name: the error text could carry the URL, which is the secret.
        raise DeliveryError(f"{exc.__class__.__name__} while posting") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"HTTP {response.status_code}")
    if response.status_code >= 300:
        raise DeliveryError(f"HTTP {response.status_code}", permanent=True)
    return response


def send_email(channel: NotificationChannel, message: Message) -> None:
    recipients = [a.strip() for a in channel.target.split(",") if a.strip()]
    if not recipients:
        raise DeliveryError("no recipient address", permanent=True)
    try:
        send_mail(message.subject, message.text, None, recipients, fail_silently=False)
    except OSError as exc:  # smtplib errors are OSErrors
        raise DeliveryError(f"{exc.__class__.__name__} while sending mail") from None


def send_webhook(channel: NotificationChannel, message: Message) -> None:
    _post_json(_secret(channel), message.payload)


def send_slack(channel: NotificationChannel, message: Message) -> None:
    _post_json(_secret(channel), {"text": f"*{message.subject}*\n{message.text}"})


def send_telegram(channel: NotificationChannel, message: Message) -> None:
    token = _secret(channel)
    base = getattr(settings, "CRYPTOHUB_TELEGRAM_API_BASE", DEFAULT_TELEGRAM_API).rstrip("/")
    text = f"{message.subject}\n{message.text}"[:TELEGRAM_MAX_TEXT]
    response = _post_json(f"{base}/bot{token}/sendMessage", {"chat_id": channel.target, "text": text})
    try:
        ok = response.json().get("ok") is True
    except ValueError:
        ok = False
    if not ok:
        raise DeliveryError("Telegram did not confirm the message")


TRANSPORTS: dict[str, Callable[[NotificationChannel, Message], None]] = {
    ChannelKind.EMAIL: send_email,
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.SLACK: send_slack,
    ChannelKind.TELEGRAM: send_telegram,
}


# --- retries and records ------------------------------------------------------------------------


def send_with_retries(
    channel: NotificationChannel, message: Message, *, sleep: Callable[[float], None] = time.sleep
) -> tuple[bool, int, str]:
    """(ok, attempts, error). Transient failures are retried with exponential backoff."""
    transport = TRANSPORTS.get(channel.kind)
    if transport is None:
        return False, 0, f"unknown channel kind {channel.kind!r}"
    attempts = int(getattr(settings, "CRYPTOHUB_NOTIFY_ATTEMPTS", DEFAULT_ATTEMPTS))
    backoff = float(getattr(settings, "CRYPTOHUB_NOTIFY_BACKOFF_S", DEFAULT_BACKOFF_S))
    retrying = Retrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential(multiplier=backoff, max=MAX_BACKOFF_S),
        retry=retry_if_exception(lambda exc: isinstance(exc, DeliveryError) and not exc.permanent),
        sleep=sleep,
        reraise=True,
    )
    tries = 0
    try:
        for attempt in retrying:
            with attempt:
                tries = attempt.retry_state.attempt_number
                transport(channel, message)
    except DeliveryError as exc:
        return False, tries, str(exc)[:300]
    except RetryError as exc:  # not raised with reraise=True; kept for safety
        return False, tries, str(exc)[:300]
    return True, tries, ""


def deliver(
    *, alert_id: int | None, channel_id: int, event: str, seq: int = 0,
    sleep: Callable[[float], None] = time.sleep,
) -> AlertDelivery | None:
    """Send one alert event on one channel and record it. Idempotent: a delivery that already
    succeeded for (alert, channel, event, seq) is not sent again. None if the rows are gone."""
    channel = NotificationChannel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.enabled:
        return None
    if alert_id is None:
        message = channel_test_message(channel)
        record = AlertDelivery.objects.create(channel=channel, event=event, seq=seq)
    else:
        alert = Alert.objects.select_related("rule", "provider", "pool").filter(pk=alert_id).first()
        if alert is None:
            return None
        message = alert_message(alert, event)
        try:
            record, _ = AlertDelivery.objects.get_or_create(alert=alert, channel=channel, event=event, seq=seq)
        except IntegrityError:  # a racing twin created it first
            record = AlertDelivery.objects.get(alert=alert, channel=channel, event=event, seq=seq)
        if record.ok:
            return record
    ok, tries, error = send_with_retries(channel, message, sleep=sleep)
    AlertDelivery.objects.filter(pk=record.pk).update(
        ok=ok, attempts=record.attempts + tries, error=error,
        delivered_at=datetime.now(UTC) if ok else None,
    )
    record.refresh_from_db()
    if ok:
        logger.info("alert %s %s delivered via %s (%s) in %d attempt(s)",
                    alert_id, event, channel.name, channel.kind, tries)
    else:
        logger.warning("alert %s %s NOT delivered via %s (%s) after %d attempt(s): %s",
                       alert_id, event, channel.name, channel.kind, tries, error)
    return record


def channel_test_send(channel: NotificationChannel) -> AlertDelivery | None:
    """The admin's "send test" action: one delivery now, recorded like any other."""
    return deliver(alert_id=None, channel_id=channel.pk, event=AlertDelivery.Event.TEST)
