"""Monitoring models: health history, alert rules and channels, alerts, maintenance, roll-ups.

Configuration (rules, channels, maintenance windows) is edited in the admin; history (checks,
alerts, deliveries, roll-ups) is written by the sweep and alert tasks. healing/models.py
re-exports everything here so Django finds the models under the `healing` app.
"""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from pools.models import Pool
from providers.models import Provider, validate_env_name

__all__ = [
    "HealthCheck",
    "Severity",
    "RuleKind",
    "AlertRule",
    "ChannelKind",
    "NotificationChannel",
    "AlertState",
    "Alert",
    "AlertDelivery",
    "MaintenanceWindow",
    "StatsRollup",
]


class HealthCheck(models.Model):
    """One probe of one provider. Every row of a sweep shares the sweep's `checked_at`, so a
    pool's uptime can be computed per sweep ("was any member up at that moment?")."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="health_checks")
    checked_at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    # Not probed (a key_required provider without its key): neither up nor down.
    skipped = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    error_class = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=300, blank=True)
    # How many probes in a row (this one included) had this `ok` value: "down for N checks".
    streak = models.PositiveIntegerField(default=1)
    # Asked for by an operator (POST .../health-check, recover), not a sweep: it is in the
    # provider's history, but pool uptime counts sweeps (every member at one moment) only.
    manual = models.BooleanField(default=False)

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["provider", "-checked_at"], name="healthcheck_provider_time")]

    def __str__(self) -> str:
        state = "skipped" if self.skipped else ("up" if self.ok else "down")
        return f"{self.provider_id}@{self.checked_at:%Y-%m-%d %H:%M:%S} {state}"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class RuleKind(models.TextChoices):
    PROVIDER_DOWN = "provider_down", "Provider down for N consecutive checks"
    POOL_EMPTY = "pool_empty", "Pool with no healthy member"
    BREAKER_OPEN = "breaker_open", "Breaker opened"
    ERROR_RATE = "error_rate", "Error rate above X % over a window"
    BUDGET_LOW = "budget_low", "Rate-limit budget nearly spent"
    ADMIN_LOGIN_LOCKOUT = "admin_login_lockout", "Login locked out after repeated failures"


class ChannelKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Generic webhook (JSON POST)"
    SLACK = "slack", "Slack incoming webhook"
    TELEGRAM = "telegram", "Telegram bot"


class NotificationChannel(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    target = models.CharField(
        max_length=500,
        blank=True,
        help_text="Email: comma-separated addresses. Telegram: the chat id. Unused by webhooks.",
    )
    secret_env = models.CharField(
        max_length=80,
        blank=True,
        validators=[validate_env_name],
        help_text="NAME of the environment variable holding the webhook URL (webhook, Slack) or the "
        "bot token (Telegram). The secret itself is never stored or shown.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_is_set(self) -> bool:
        return bool(self.secret_env and os.environ.get(self.secret_env))

    def clean(self) -> None:
        if self.kind == ChannelKind.EMAIL and not self.target.strip():
            raise ValidationError({"target": "an email channel needs at least one address"})
        if self.kind == ChannelKind.TELEGRAM and not self.target.strip():
            raise ValidationError({"target": "a Telegram channel needs the chat id"})
        if self.kind != ChannelKind.EMAIL and not self.secret_env:
            raise ValidationError({"secret_env": "name the environment variable that holds the secret"})


class AlertRule(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.WARNING)
    # Scope: one provider / one pool, or every enabled one when empty.
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules",
        help_text="Only this provider (provider rules); empty = every enabled provider.",
    )
    pool = models.ForeignKey(
        Pool, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules",
        help_text="Only this pool (pool rules); empty = every enabled pool.",
    )
    consecutive_checks = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1)], help_text="provider_down: failed checks in a row."
    )
    error_rate_pct = models.FloatField(
        default=50.0, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="error_rate: fire above this percentage.",
    )
    window_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(1)], help_text="error_rate: look back this many minutes."
    )
    budget_left_pct = models.FloatField(
        default=10.0, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="budget_low: fire when a limit has at most this percentage left.",
    )
    repeat_minutes = models.PositiveIntegerField(
        default=60, help_text="Notify again every this many minutes while the alert lasts; 0 = never."
    )
    notify_resolved = models.BooleanField(default=True)
    channels = models.ManyToManyField(NotificationChannel, blank=True, related_name="rules")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Alert(models.Model):
    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    # What the alert is about, e.g. "provider:coingecko" or "pool:price": one open alert per
    # rule and subject (the constraint makes a racing second open fail instead of duplicating).
    subject = models.CharField(max_length=140)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    state = models.CharField(max_length=10, choices=AlertState.choices, default=AlertState.OPEN, db_index=True)
    message = models.CharField(max_length=500)
    opened_at = models.DateTimeField(db_index=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)
    notify_count = models.PositiveIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject"], condition=Q(state="open"), name="one_open_alert_per_rule_subject"
            )
        ]

    def __str__(self) -> str:
        return f"[{self.severity}] {self.subject}: {self.state}"


class AlertDelivery(models.Model):
    """One notification of one alert event on one channel, with how the delivery went."""

    class Event(models.TextChoices):
        OPENED = "opened", "Opened"
        REPEAT = "repeat", "Repeat"
        RESOLVED = "resolved", "Resolved"
        TEST = "test", "Test"

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=10, choices=Event.choices)
    # The alert's notify_count for this event: re-running the same delivery task sends nothing twice.
    seq = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel", "event", "seq"],
                condition=Q(alert__isnull=False),
                name="one_delivery_per_alert_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} {'ok' if self.ok else 'failed'}"


class MaintenanceWindow(models.Model):
    """A provider or a pool scheduled out: drained from routing, alerts silenced, back by itself."""

    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    pool = models.ForeignKey(Pool, null=True, blank=True, on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=300)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(provider__isnull=False, pool__isnull=True) | Q(provider__isnull=True, pool__isnull=False)),
                name="maintenance_provider_xor_pool",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.provider or self.pool}: {self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if bool(self.provider_id) == bool(self.pool_id):
            raise ValidationError("choose either a provider or a pool")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "must be after the start"})


class StatsRollup(models.Model):
    """One provider's live counters for one hour, copied from Redis into the database. The row
    without a provider is the whole gateway (cache hits and misses are per capability, not per
    provider, so they live there)."""

    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="stats_rollups"
    )
    hour = models.DateTimeField(db_index=True)
    requests = models.PositiveIntegerField(default=0)
    ok = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    # Failures by outcome (timeout, transient, rate_limited, ...) for the hour.
    outcomes = models.JSONField(default=dict, blank=True)
    success_rate = models.FloatField(null=True, blank=True)
    latency_p50_ms = models.FloatField(null=True, blank=True)
    latency_p95_ms = models.FloatField(null=True, blank=True)
    cache_hits = models.PositiveIntegerField(default=0)
    cache_misses = models.PositiveIntegerField(default=0)
    cache_hit_ratio = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-hour", "provider_id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "hour"], name="one_rollup_per_provider_hour"),
            # NULLs are distinct in a unique index: the gateway row needs its own constraint.
            models.UniqueConstraint(fields=["hour"], condition=Q(provider__isnull=True), name="one_gateway_rollup_per_hour"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id or 'gateway'}@{self.hour:%Y-%m-%d %H}:00"
