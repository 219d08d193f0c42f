"""Prometheus metrics, read from Redis and the database at scrape time.

cryptohub runs many processes (web workers, Celery workers), so module-level prometheus-client
counters would each hold one process's share. Instead a custom collector reads the shared
state when /metrics is scraped: live counters and latency samples (healing.engine.stats), breaker
states, rate-limit budgets, cache counters, the last sweep, open alerts, the latest checks and
the requests and 429s of each API client (healing.monitoring.client_usage).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import redis.asyncio
from django.conf import settings
from django.db.models import Count
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from healing.engine.breaker import BreakerStore
from healing.engine.config import CONFIG_FIELDS, ProviderConfig
from healing.engine.ratelimit import Budget
from healing.models.monitoring import Alert, AlertState, Severity
from healing.monitoring import client_usage
from healing.monitoring.history import GATEWAY, latest_checks, read_live_totals
from healing.monitoring.sweep import sweep_last_key
from providers.models import Provider

logger = logging.getLogger(__name__)

# Latency histogram buckets (milliseconds) over each provider's recent successful calls.
LATENCY_BUCKETS_MS = (25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)
BREAKER_STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}


@dataclass
class Snapshot:
    """Everything one scrape reports, as plain data (collected first, then rendered)."""

    providers: list[str] = field(default_factory=list)
    live: dict[str, dict] = field(default_factory=dict)
    breakers: dict[str, str] = field(default_factory=dict)
    budgets: dict[str, list[dict]] = field(default_factory=dict)
    sweep: dict[str, float] = field(default_factory=dict)
    alerts_open: dict[str, int] = field(default_factory=dict)
    up: dict[str, int] = field(default_factory=dict)
    clients: dict[str, client_usage.ClientUsage] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def _read_redis(configs: list[ProviderConfig], snap: Snapshot, clock: Callable[[], float]) -> None:
    snap.live = await read_live_totals(settings.REDIS_URL, [c.slug for c in configs])
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    try:
        states = await BreakerStore(r, clock).states(c.slug for c in configs)
        snap.breakers = {slug: s.state for slug, s in states.items()}
        budget = Budget(r, clock=clock)
        for cfg in configs:
            if cfg.rate_limits:
                snap.budgets[cfg.slug] = await budget.remaining(cfg)
        raw = await r.hgetall(sweep_last_key())
        snap.sweep = {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}
    finally:
        await r.aclose()


def gather(*, clock: Callable[[], float] = time.time) -> Snapshot:
    """Read every figure once. A part that cannot be read is left out and named in `errors`."""
    snap = Snapshot()
    rows = list(Provider.objects.enabled().values("pk", *CONFIG_FIELDS))
    snap.providers = [row["slug"] for row in rows]
    configs = [ProviderConfig(**{f: row[f] for f in CONFIG_FIELDS}) for row in rows]
    counts = dict(Alert.objects.filter(state=AlertState.OPEN).values_list("severity").annotate(n=Count("id")))
    snap.alerts_open = {sev: counts.get(sev, 0) for sev in Severity.values}
    slug_by_pk = {row["pk"]: row["slug"] for row in rows}
    for pk, last in latest_checks(slug_by_pk).items():
        if not last["skipped"]:
            snap.up[slug_by_pk[pk]] = int(last["ok"])
    try:
        asyncio.run(_read_redis(configs, snap, clock))
    except Exception as exc:  # Redis down: still serve what the database knows
        logger.warning("metrics: runtime state unavailable: %s", exc)
        snap.errors.append("redis")
    if "redis" not in snap.errors:
        snap.clients = client_usage.read_usage(client_usage.caller_names()) or {}
    return snap


def _traffic(snap: Snapshot) -> Iterator[Metric]:
    """Upstream calls by outcome and the latency histogram, per provider."""
    requests = CounterMetricFamily("cryptohub_provider_requests", "Upstream calls per provider by outcome",
                                   labels=["provider", "outcome"])
    latency = HistogramMetricFamily(
        "cryptohub_provider_latency_ms",
        "Latency of each provider's recent successful calls (a sliding window of samples, in ms)",
        labels=["provider"])
    for slug in snap.providers:
        live = snap.live.get(slug)
        if not live:
            continue
        counters = live["counters"]
        requests.add_metric([slug, "ok"], counters.get("ok", 0))
        for outcome, n in sorted((counters.get("outcomes") or {}).items()):
            requests.add_metric([slug, outcome], n)
        samples = live.get("samples") or []
        buckets = [(str(float(b)), sum(1 for s in samples if s <= b)) for b in LATENCY_BUCKETS_MS]
        buckets.append(("+Inf", len(samples)))
        latency.add_metric([slug], buckets, sum(samples))
    yield requests
    yield latency


def _breakers_and_budgets(snap: Snapshot) -> Iterator[Metric]:
    breaker = GaugeMetricFamily("cryptohub_breaker_state", "Breaker state: 0 closed, 1 half-open, 2 open",
                                labels=["provider"])
    for slug, state in sorted(snap.breakers.items()):
        breaker.add_metric([slug], BREAKER_STATE_VALUE.get(state, 0))
    yield breaker

    budget = GaugeMetricFamily("cryptohub_budget_remaining", "Rate-limit tokens left per provider and window",
                               labels=["provider", "limit"])
    for slug, windows in sorted(snap.budgets.items()):
        for w in windows:
            budget.add_metric([slug, str(w["limit"])], w["remaining"])
    yield budget


def _cache(snap: Snapshot) -> Iterator[Metric]:
    """Cache hits, misses and stale answers per capability (the gateway's cache counters)."""
    cache = (snap.live.get(GATEWAY) or {}).get("cache", {})
    hits = CounterMetricFamily("cryptohub_cache_hits", "Cache hits per capability", labels=["capability"])
    misses = CounterMetricFamily("cryptohub_cache_misses", "Cache misses per capability", labels=["capability"])
    stale = CounterMetricFamily(
        "cryptohub_cache_stale", "Answers served from the stale copy per capability", labels=["capability"]
    )
    by_kind = {"hit": hits, "miss": misses, "stale": stale}
    for key, n in sorted(cache.items()):
        kind, _, capability = key.partition(":")
        if kind in by_kind:
            by_kind[kind].add_metric([capability], n)
    yield from by_kind.values()


def _sweep(snap: Snapshot) -> Iterator[Metric]:
    """The last sweep's duration, start and results (nothing before the first sweep)."""
    if not snap.sweep:
        return
    yield GaugeMetricFamily("cryptohub_sweep_duration_seconds", "Duration of the last health sweep",
                            value=snap.sweep.get("duration_s", 0.0))
    yield GaugeMetricFamily("cryptohub_sweep_last_run_timestamp_seconds", "When the last health sweep started",
                            value=snap.sweep.get("started_at", 0.0))
    probed = GaugeMetricFamily("cryptohub_sweep_providers", "Providers in the last sweep by result",
                               labels=["result"])
    for result in ("up", "down", "skipped"):
        probed.add_metric([result], snap.sweep.get(result, 0.0))
    yield probed


def _clients(snap: Snapshot) -> Iterator[Metric]:
    """Requests and 429s per API client (and the keyless callers), as the inbound check counted them."""
    requests = CounterMetricFamily("cryptohub_client_requests", "Data-plane requests per API client",
                                   labels=["client"])
    rejected = CounterMetricFamily("cryptohub_client_rejected", "Data-plane requests per API client answered 429",
                                   labels=["client"])
    for name, usage in sorted(snap.clients.items()):
        requests.add_metric([name], usage.requests)
        rejected.add_metric([name], usage.limited)
    yield requests
    yield rejected


def _health_and_alerts(snap: Snapshot) -> Iterator[Metric]:
    """Latest check per provider, open alerts, and whether the scrape could read Redis."""
    up = GaugeMetricFamily("cryptohub_provider_up", "1 if the provider's latest health check passed",
                           labels=["provider"])
    for slug, value in sorted(snap.up.items()):
        up.add_metric([slug], value)
    yield up

    alerts = GaugeMetricFamily("cryptohub_alerts_open", "Open alerts by severity", labels=["severity"])
    for severity, n in sorted(snap.alerts_open.items()):
        alerts.add_metric([severity], n)
    yield alerts

    errors = GaugeMetricFamily("cryptohub_metrics_source_up", "1 if the scrape could read the source",
                               labels=["source"])
    errors.add_metric(["redis"], 0 if "redis" in snap.errors else 1)
    yield errors


def families(snap: Snapshot) -> Iterator[Metric]:
    """Every metric family of one scrape, in exposition order."""
    for part in (_traffic, _breakers_and_budgets, _cache, _sweep, _clients, _health_and_alerts):
        yield from part(snap)


class CryptohubCollector:
    """Reads the shared state on every collect(); nothing is kept between scrapes."""

    def __init__(self, gatherer: Callable[[], Snapshot] = gather):
        self._gather = gatherer

    def collect(self) -> Iterator[Metric]:
        yield from families(self._gather())


def render_metrics(gatherer: Callable[[], Snapshot] = gather) -> bytes:
    """The Prometheus text exposition of one fresh scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CryptohubCollector(gatherer))
    return generate_latest(registry)


def scrape_allowed(authorization: str) -> bool:
    """Open unless settings.CRYPTOHUB_METRICS_TOKEN is set; then a matching Bearer token is needed."""
    token = getattr(settings, "CRYPTOHUB_METRICS_TOKEN", "")
    if not token:
        return True
    return hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())
