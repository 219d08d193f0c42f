"""A fresh deployment alerts without setup: `manage.py ensure_alert_rules` (run by `make run`)
creates a login-lockout, an empty-pool and a provider-down rule, once, and never over the
operator's own rules of a kind."""

from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from healing.models.monitoring import Alert, AlertRule, AlertState, RuleKind
from healing.monitoring import alerts
from healing.monitoring.default_rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db


def _ensure() -> str:
    out = StringIO()
    call_command("ensure_alert_rules", stdout=out)
    return out.getvalue()


def test_a_fresh_database_gets_the_default_rules_once():
    assert "Created alert rules: Login locked out, Pool with no healthy member, Provider down" in _ensure()
    rules = {r.kind: r for r in AlertRule.objects.all()}
    assert set(rules) == {RuleKind.ADMIN_LOGIN_LOCKOUT, RuleKind.POOL_EMPTY, RuleKind.PROVIDER_DOWN}
    assert rules[RuleKind.ADMIN_LOGIN_LOCKOUT].severity == "critical"
    assert rules[RuleKind.POOL_EMPTY].severity == "critical"
    assert rules[RuleKind.PROVIDER_DOWN].severity == "warning"
    assert rules[RuleKind.PROVIDER_DOWN].consecutive_checks == 3
    assert all(r.enabled and not r.channels.exists() for r in rules.values())

    assert "already has a rule" in _ensure()
    assert AlertRule.objects.count() == len(DEFAULT_RULES)


def test_the_operators_rule_of_a_kind_is_kept_as_it_is():
    mine = AlertRule.objects.create(name="lockouts (off)", kind=RuleKind.ADMIN_LOGIN_LOCKOUT, enabled=False)
    _ensure()
    assert list(AlertRule.objects.filter(kind=RuleKind.ADMIN_LOGIN_LOCKOUT)) == [mine]
    mine.refresh_from_db()
    assert mine.enabled is False and mine.severity == "warning"
    assert AlertRule.objects.filter(kind=RuleKind.POOL_EMPTY).count() == 1


def test_a_lockout_opens_an_alert_under_the_default_rule():
    _ensure()
    AccessAttempt.objects.create(username="operator", ip_address="203.0.113.9", user_agent="t",
                                 failures_since_start=settings.AXES_FAILURE_LIMIT, attempt_time=timezone.now())
    sent = []
    alerts.lockout_alerts_evaluate(notify=lambda *args, **kwargs: sent.append(args))
    opened = Alert.objects.filter(state=AlertState.OPEN, rule__name="Login locked out")
    assert {a.subject for a in opened} == {"login:user:operator", "login:ip:203.0.113.9"}
    assert {a.severity for a in opened} == {"critical"}
