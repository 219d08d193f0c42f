"""Alert evaluation: rules -> firing subjects -> open / repeat / resolve, and what to say.

`alerts_evaluate()` works out, for each enabled rule, which subjects ("provider:<slug>",
"pool:<slug>") fire right now, then moves Alert rows with compare-and-set updates:

- firing, no open alert            -> open it (one per rule and subject: a DB constraint), notify
- firing, open, repeat interval up -> notify again
- not firing, open                 -> resolve it, notify "resolved"
- subject in a maintenance window  -> nothing at all (silenced; it resumes after the window)

Notifications are handed to `notify` after the commit; the callers pass one that queues Celery
tasks (healing.tasks), so a slow or failing channel never holds up the sweep that triggered the
evaluation. What a notification says is healing.monitoring.notifications. The clock is injected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q

from healing.engine.breaker import BreakerStore
from healing.engine.config import CONFIG_FIELDS, ProviderConfig
from healing.engine.ratelimit import Budget
from healing.models.monitoring import Alert, AlertDelivery, AlertRule, AlertState, HealthCheck, RuleKind
from healing.monitoring import alert_feed
from healing.monitoring.history import latest_checks
from healing.monitoring.maintenance import active_maintenance, active_pool_maintenance
from healing.monitoring.notifications import alert_payload
from pools.models import Pool
from pools.selectors import pool_members
from providers.models import Provider

logger = logging.getLogger(__name__)

# error_rate needs at least this many checks in its window before a percentage means anything.
ERROR_RATE_MIN_CHECKS = 3

# notify(alert_id, channel_id, event, seq): hand one delivery to whoever sends it.
Notifier = Callable[[int, int, str, int], None]


@dataclass(frozen=True)
class Firing:
    subject: str
    message: str
    provider_id: int | None = None
    pool_id: int | None = None


@dataclass
class EvalReport:
    opened: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    silenced: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {"opened": len(self.opened), "repeated": len(self.repeated),
                "resolved": len(self.resolved), "silenced": len(self.silenced)}


# --- what fires ---------------------------------------------------------------------------------


@dataclass
class _Context:
    now: datetime
    providers: dict[int, Provider]  # enabled providers, by id
    latest: dict[int, dict[str, Any]]
    drained: set[str]
    drained_pools: set[str]
    breaker_states: dict[str, Any] | None = None
    budgets: dict[str, list[dict]] | None = None


def _scope_providers(rule: AlertRule, ctx: _Context) -> list[Provider]:
    if rule.provider_id:
        p = ctx.providers.get(rule.provider_id)
        return [p] if p is not None else []
    return list(ctx.providers.values())


def _scope_pools(rule: AlertRule) -> list[Pool]:
    if rule.pool_id:
        return list(Pool.objects.filter(pk=rule.pool_id, enabled=True))
    return list(Pool.objects.filter(enabled=True))


def _fire_provider_down(rule: AlertRule, ctx: _Context) -> list[Firing]:
    out = []
    for p in _scope_providers(rule, ctx):
        last = ctx.latest.get(p.pk)
        if last and not last["skipped"] and not last["ok"] and last["streak"] >= rule.consecutive_checks:
            detail = last["message"] or last["error_class"]
            out.append(Firing(f"provider:{p.slug}", f"{p.slug} is down: {last['streak']} failed checks in a row"
                              + (f" (last: {detail})" if detail else ""), provider_id=p.pk))
    return out


def _healthy(slug: str, pk: int, ctx: _Context) -> bool:
    if slug in ctx.drained:
        return False
    last = ctx.latest.get(pk)
    if last is not None and (last["skipped"] or not last["ok"]):
        return False
    state = (ctx.breaker_states or {}).get(slug)
    return state is None or state.state == "closed"


def _fire_pool_empty(rule: AlertRule, ctx: _Context) -> list[Firing]:
    by_slug = {p.slug: p for p in ctx.providers.values()}
    out = []
    for pool in _scope_pools(rule):
        members = [m.provider for m in pool_members(pool)]
        if not any(_healthy(s, by_slug[s].pk, ctx) for s in members if s in by_slug):
            out.append(Firing(f"pool:{pool.slug}", f"pool {pool.slug} has no healthy member "
                              f"({len(members)} member(s))", pool_id=pool.pk))
    return out


def _fire_breaker_open(rule: AlertRule, ctx: _Context) -> list[Firing]:
    out = []
    for p in _scope_providers(rule, ctx):
        state = (ctx.breaker_states or {}).get(p.slug)
        if state is not None and state.state != "closed":
            when = (f", retries at {datetime.fromtimestamp(state.reopens_at, UTC):%H:%M:%S} UTC"
                    if state.reopens_at else "")
            out.append(Firing(f"provider:{p.slug}", f"breaker for {p.slug} is {state.state}{when}", provider_id=p.pk))
    return out


def _fire_error_rate(rule: AlertRule, ctx: _Context) -> list[Firing]:
    providers = {p.pk: p for p in _scope_providers(rule, ctx)}
    rows = (HealthCheck.objects.filter(provider_id__in=list(providers), skipped=False,
                                       checked_at__gt=ctx.now - timedelta(minutes=rule.window_minutes),
                                       checked_at__lte=ctx.now)
            .values("provider_id").annotate(total=Count("id"), failed=Count("id", filter=Q(ok=False))))
    out = []
    for row in rows:
        if row["total"] < ERROR_RATE_MIN_CHECKS:
            continue
        rate = 100.0 * row["failed"] / row["total"]
        if rate > rule.error_rate_pct:
            p = providers[row["provider_id"]]
            out.append(Firing(f"provider:{p.slug}", f"{p.slug} error rate {rate:.0f} % over "
                              f"{rule.window_minutes} min (threshold {rule.error_rate_pct:g} %)", provider_id=p.pk))
    return out


def _limit_amount(limit: Any) -> int | None:
    if isinstance(limit, int):
        return limit
    try:
        return int(str(limit).split("/", 1)[0])
    except ValueError:
        return None


def _fire_budget_low(rule: AlertRule, ctx: _Context) -> list[Firing]:
    out = []
    for p in _scope_providers(rule, ctx):
        for window in (ctx.budgets or {}).get(p.slug, []):
            amount = _limit_amount(window.get("limit"))
            if not amount:
                continue
            left = 100.0 * window["remaining"] / amount
            if left <= rule.budget_left_pct:
                out.append(Firing(f"provider:{p.slug}", f"{p.slug} rate-limit budget {window['limit']} has "
                                  f"{window['remaining']} left ({left:.0f} %)", provider_id=p.pk))
                break
    return out


def _fire_login_lockout(rule: AlertRule, ctx: _Context) -> list[Firing]:
    """Every user name and client IP django-axes holds locked right now (failures within the cool-off)."""
    from axes.models import AccessAttempt

    since = ctx.now - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    rows = AccessAttempt.objects.filter(attempt_time__gte=since).values_list(
        "username", "ip_address", "failures_since_start")
    by_subject: dict[str, int] = {}
    for username, ip, failures in rows:
        if username:
            by_subject[f"login:user:{username}"] = by_subject.get(f"login:user:{username}", 0) + failures
        by_subject[f"login:ip:{ip}"] = by_subject.get(f"login:ip:{ip}", 0) + failures
    limit = settings.AXES_FAILURE_LIMIT
    return [Firing(subject, f"{subject.split(':', 1)[1].replace(':', ' ')} locked out after {failures} failed "
                   f"logins (limit {limit})")
            for subject, failures in sorted(by_subject.items()) if failures >= limit]


RULES: dict[str, Callable[[AlertRule, _Context], list[Firing]]] = {
    RuleKind.PROVIDER_DOWN: _fire_provider_down,
    RuleKind.POOL_EMPTY: _fire_pool_empty,
    RuleKind.BREAKER_OPEN: _fire_breaker_open,
    RuleKind.ERROR_RATE: _fire_error_rate,
    RuleKind.BUDGET_LOW: _fire_budget_low,
    RuleKind.ADMIN_LOGIN_LOCKOUT: _fire_login_lockout,
}


async def _read_runtime(configs: list[Any], *, breakers: bool, budgets: bool, clock: Callable[[], float]):
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        states = budget_map = None
        if breakers:
            states = await BreakerStore(r, clock).states(c.slug for c in configs)
        if budgets:
            budget = Budget(r, clock=clock)
            budget_map = {c.slug: await budget.remaining(c) for c in configs if c.rate_limits}
        return states, budget_map
    finally:
        await r.aclose()


def _context(rules: Iterable[AlertRule], now: datetime) -> _Context:
    kinds = {rule.kind for rule in rules}
    providers = {p.pk: p for p in Provider.objects.enabled()}
    ctx = _Context(now=now, providers=providers, latest=latest_checks(providers),
                   drained=active_maintenance(now), drained_pools=active_pool_maintenance(now))
    need_breakers = bool(kinds & {RuleKind.BREAKER_OPEN, RuleKind.POOL_EMPTY})
    need_budgets = RuleKind.BUDGET_LOW in kinds
    if need_breakers or need_budgets:
        configs = [ProviderConfig(**{f: getattr(p, f) for f in CONFIG_FIELDS}) for p in providers.values()]
        try:
            ctx.breaker_states, ctx.budgets = asyncio.run(_read_runtime(
                configs, breakers=need_breakers, budgets=need_budgets, clock=now.timestamp))
        except Exception as exc:  # Redis down: evaluate what the database alone can tell
            logger.warning("breaker/budget state unavailable for alerting: %s", exc)
    return ctx


def _silenced(f: Firing, ctx: _Context) -> bool:
    kind, _, slug = f.subject.partition(":")
    return slug in (ctx.drained if kind == "provider" else ctx.drained_pools)


def _subject_silenced(subject: str, ctx: _Context) -> bool:
    return _silenced(Firing(subject, ""), ctx)


# --- the lifecycle ------------------------------------------------------------------------------


def alerts_evaluate(*, notify: Notifier, now: datetime | None = None) -> EvalReport:
    """Evaluate every enabled rule at `now`; open, repeat and resolve alerts; hand deliveries
    to `notify` once each change is committed."""
    now = now or datetime.now(UTC)
    return _evaluate(AlertRule.objects.filter(enabled=True), notify, now)


def lockout_alerts_evaluate(*, notify: Notifier, now: datetime | None = None) -> EvalReport:
    """Only the login lockout rules: run at once when django-axes locks a login (healing.security)."""
    rules = AlertRule.objects.filter(enabled=True, kind=RuleKind.ADMIN_LOGIN_LOCKOUT)
    return _evaluate(rules, notify, now or datetime.now(UTC))


def _evaluate(rule_qs, notify: Notifier, now: datetime) -> EvalReport:
    report = EvalReport()
    rules = list(rule_qs.prefetch_related("channels"))
    if not rules:
        return report
    ctx = _context(rules, now)
    for rule in rules:
        firing = {f.subject: f for f in RULES[rule.kind](rule, ctx)}
        channel_ids = [c.pk for c in rule.channels.all() if c.enabled]
        open_alerts = {a.subject: a for a in Alert.objects.filter(rule=rule, state=AlertState.OPEN)}
        for subject, f in firing.items():
            if _silenced(f, ctx):
                report.silenced.append(subject)
            elif subject not in open_alerts:
                _open(rule, f, now, channel_ids, notify, report)
            else:
                _maybe_repeat(rule, open_alerts[subject], f, now, channel_ids, notify, report)
        for subject, alert in open_alerts.items():
            if subject in firing:
                continue
            if _subject_silenced(subject, ctx):
                report.silenced.append(subject)
                continue
            _resolve(rule, alert, now, channel_ids, notify, report)
    if any(report.summary().values()):
        logger.info("alerts evaluated: %s", report.summary())
    return report


def _send(notify: Notifier, alert_id: int, channel_ids: list[int], event: str, seq: int) -> None:
    for channel_id in channel_ids:
        transaction.on_commit(lambda c=channel_id: notify(alert_id, c, event, seq))


def _open(rule: AlertRule, f: Firing, now: datetime, channel_ids: list[int], notify: Notifier,
          report: EvalReport) -> None:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, subject=f.subject, provider_id=f.provider_id, pool_id=f.pool_id,
                severity=rule.severity, message=f.message[:500], opened_at=now,
                last_notified_at=now, notify_count=1,
            )
            _send(notify, alert.pk, channel_ids, AlertDelivery.Event.OPENED, 1)
            alert_feed.publish_on_commit(alert.pk, alert_feed.OPEN)
    except IntegrityError:  # another evaluation opened it a moment ago
        return
    report.opened.append(alert.pk)
    logger.warning("alert opened [%s] %s: %s", rule.severity, f.subject, f.message)


def _maybe_repeat(rule: AlertRule, alert: Alert, f: Firing, now: datetime, channel_ids: list[int],
                  notify: Notifier, report: EvalReport) -> None:
    if not rule.repeat_minutes:
        return
    last = alert.last_notified_at or alert.opened_at
    if now - last < timedelta(minutes=rule.repeat_minutes):
        return
    with transaction.atomic():
        # Compare-and-set on notify_count: two evaluations racing send one repeat, not two.
        changed = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN, notify_count=alert.notify_count).update(
            notify_count=F("notify_count") + 1, last_notified_at=now, message=f.message[:500])
        if changed:
            _send(notify, alert.pk, channel_ids, AlertDelivery.Event.REPEAT, alert.notify_count + 1)
            alert_feed.publish_on_commit(alert.pk, alert_feed.REPEAT)
    if changed:
        report.repeated.append(alert.pk)


def _resolve(rule: AlertRule, alert: Alert, now: datetime, channel_ids: list[int], notify: Notifier,
             report: EvalReport) -> None:
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
            state=AlertState.RESOLVED, resolved_at=now, notify_count=F("notify_count") + 1)
        if changed and rule.notify_resolved:
            _send(notify, alert.pk, channel_ids, AlertDelivery.Event.RESOLVED, alert.notify_count + 1)
        if changed:
            alert_feed.publish_on_commit(alert.pk, alert_feed.RESOLVE)
    if changed:
        report.resolved.append(alert.pk)
        logger.info("alert resolved %s (rule %s)", alert.subject, rule.name)


# --- listing ------------------------------------------------------------------------------------


def alerts_list(*, state: str | None = None, severity: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    qs = Alert.objects.select_related("rule", "provider", "pool")
    if state:
        qs = qs.filter(state=state)
    if severity:
        qs = qs.filter(severity=severity)
    return [alert_payload(a) for a in qs[:limit]]
