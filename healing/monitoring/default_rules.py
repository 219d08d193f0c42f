"""The alert rules a fresh deployment starts with, so that `make run` alerts without any setup.

`ensure_default_rules` creates a default rule only when no rule of its kind exists yet: an
operator's own rules of that kind (or an edited default) are never touched, and a default the
operator does not want is disabled in the admin, not deleted (a deleted one comes back at the next
start, like a missing admin login). The rules have no notification channel: their alerts show on
the dashboard's Alerts tab until a channel is added to them in the admin.
"""

from __future__ import annotations

from django.db import transaction

from healing.models.monitoring import AlertRule, RuleKind, Severity

DEFAULT_RULES = (
    {"name": "Login locked out", "kind": RuleKind.ADMIN_LOGIN_LOCKOUT, "severity": Severity.CRITICAL,
     "repeat_minutes": 0},
    {"name": "Pool with no healthy member", "kind": RuleKind.POOL_EMPTY, "severity": Severity.CRITICAL},
    {"name": "Provider down", "kind": RuleKind.PROVIDER_DOWN, "severity": Severity.WARNING,
     "consecutive_checks": 3},
)


def ensure_default_rules() -> list[str]:
    """Create the missing defaults; returns the names created (none on a second run)."""
    created = []
    with transaction.atomic():
        for fields in DEFAULT_RULES:
            if AlertRule.objects.filter(kind=fields["kind"]).exists():
                continue
            AlertRule.objects.create(**fields)
            created.append(fields["name"])
    return created
