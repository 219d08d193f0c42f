"""Incidents of the public status page: opened and resolved by healing.monitoring.incidents.

An incident is about one pool and one condition ("no healthy member", "the head's breaker is
open"); its timeline (IncidentUpdate rows) says when it was investigated, identified and
resolved. A partial unique constraint keeps one unresolved incident per pool and kind, so two
evaluations racing open one incident, not two.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from pools.models import Pool

__all__ = ["Incident", "IncidentKind", "IncidentState", "IncidentUpdate"]


class IncidentKind(models.TextChoices):
    NO_HEALTHY_MEMBER = "no_healthy_member", "Pool with no healthy member"
    HEAD_BREAKER_OPEN = "head_breaker_open", "Breaker open on the pool's first member"


class IncidentState(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=24, choices=IncidentKind.choices)
    state = models.CharField(max_length=16, choices=IncidentState.choices, default=IncidentState.INVESTIGATING,
                             db_index=True)
    title = models.CharField(max_length=200)
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["pool", "kind"], condition=Q(resolved_at__isnull=True),
                                    name="one_open_incident_per_pool_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.pool_id} {self.kind}: {self.state}"


class IncidentUpdate(models.Model):
    """One row of an incident's timeline: a state change, or (state empty) a note."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(default=timezone.now)  # a note added in the admin: now, unless changed
    state = models.CharField(max_length=16, choices=IncidentState.choices, blank=True)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.state or 'note'}: {self.message[:40]}"
