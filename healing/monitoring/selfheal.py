"""What the self-healing endpoints do: report runtime health, probe now, recover, clear failures.

Control plane, sync: each public function reads the catalogue once (healing.engine.snapshot), then does
its Redis and HTTP work in one `asyncio.run` whose coroutine creates (and closes) its own async
Redis client and, for probes, its own httpx client (STYLE.md section 3: a client belongs to one
loop). Sync DRF views run in a worker thread with no event loop, so `asyncio.run` is safe there.
Reports never contain a key: only the variable's name and whether it is set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
import redis.asyncio
from django.conf import settings

from healing.catalogue import build_snapshot
from healing.engine import stats
from healing.engine.breaker import BreakerState, BreakerStore
from healing.engine.config import ProviderConfig, Snapshot
from healing.engine.ratelimit import Budget, cooldown_key
from healing.models.recovery import RecoveryAction, RecoveryLog
from healing.monitoring import health_summary, probes, sweep
from providers import endpoints
from providers.measures import iso_precise
from providers.runtime import CONFIG_VERSION_KEY, rkey, sync_redis

logger = logging.getLogger(__name__)

# Probes in flight at once for POST /health-check (a person is waiting; the sweep uses more).
HEALTH_CHECK_CONCURRENCY = 20
# Recovery-log rows included in the diagnostics report.
DIAGNOSTICS_LOG_ROWS = 50

T = TypeVar("T")


class UnknownProvider(LookupError):
    pass


def breaker_dict(state: BreakerState) -> dict[str, Any]:
    return {**state.as_dict(), "reopens_at": iso_precise(state.reopens_at)}


def current_snapshot() -> Snapshot:
    try:
        version = int(sync_redis().get(rkey(CONFIG_VERSION_KEY)) or 0)
    except redis.RedisError:
        version = 0
    return build_snapshot(version)


def select(snapshot: Snapshot, slug: str | None, *, enabled_only: bool = False) -> list[ProviderConfig]:
    """One provider by slug (UnknownProvider if missing), or all of them."""
    if slug:
        if slug not in snapshot.providers:
            raise UnknownProvider(slug)
        return [snapshot.providers[slug]]
    return [p for p in snapshot.providers.values() if p.enabled or not enabled_only]


def run_with_redis(factory: Callable[[redis.asyncio.Redis], Awaitable[T]]) -> T:
    """Run one coroutine in a fresh loop with its own async Redis client."""

    async def main() -> T:
        r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            return await factory(r)
        finally:
            await r.aclose()

    return asyncio.run(main())


# --- reading runtime state -------------------------------------------------------------------


async def provider_runtime(
    r: redis.asyncio.Redis, configs: Iterable[ProviderConfig], *, clock: Callable[[], float] = time.time
) -> list[dict[str, Any]]:
    """Breaker, cool-down, budgets and stats of each provider, as JSON-able dicts."""
    configs = list(configs)
    slugs = [c.slug for c in configs]
    breakers = await BreakerStore(r, clock).states(slugs)
    budget = Budget(r, clock=clock)
    counters = await stats.read_stats(r, slugs)
    out = []
    for cfg in configs:
        state = breakers[cfg.slug]
        budgets = await budget.remaining(cfg)
        out.append({
            "provider": cfg.slug,
            "name": cfg.name,
            "enabled": cfg.enabled,
            "api_key_env": cfg.api_key_env,
            "api_key_set": bool(cfg.api_key()),
            "breaker": breaker_dict(state),
            "cooling_until": iso_precise(await budget.cooling_until(cfg.slug)),
            "budgets": [{**b, "resets_at": iso_precise(b["resets_at"])} for b in budgets],
            "stats": counters.get(cfg.slug, {}),
        })
    return out


def health_status(slug: str | None = None) -> list[dict[str, Any]]:
    configs = select(current_snapshot(), slug)
    return run_with_redis(lambda r: provider_runtime(r, configs))


def breaker_states(slugs: Sequence[str]) -> dict[str, BreakerState]:
    """slug -> BreakerState (sync, for `manage.py breaker`)."""
    return run_with_redis(lambda r: BreakerStore(r).states(slugs))


# --- probing and recovering ------------------------------------------------------------------


def _probe_dict(result: probes.ProbeResult) -> dict[str, Any]:
    return {
        "provider": result.slug, "ok": result.ok, "skipped": result.skipped, "status_code": result.status_code,
        "latency_ms": result.latency_ms, "error": result.error_class, "message": result.message,
    }


async def _probe(r: redis.asyncio.Redis, configs: list[ProviderConfig]) -> list[tuple[probes.ProbeResult, dict]]:
    """Probe now; the results feed the shared breaker. Each result carries the breaker after it."""
    results = await probes.run_probe_cycle(configs, redis_url=settings.REDIS_URL, concurrency=HEALTH_CHECK_CONCURRENCY)
    breakers = await BreakerStore(r).states([c.slug for c in configs])
    return [(res, {**_probe_dict(res), "breaker": breaker_dict(breakers[res.slug])}) for res in results]


def _probe_and_record(configs: list[ProviderConfig]) -> list[dict[str, Any]]:
    """Probe now and keep the results in the providers' health history (marked manual)."""
    pairs = run_with_redis(lambda r: _probe(r, configs))
    sweep.probe_results_record([res for res, _ in pairs], checked_at=datetime.now(UTC), manual=True)
    return [answer for _, answer in pairs]


def health_check(slug: str | None = None, *, slugs: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Probe one provider (enabled or not: an operator asked), the listed ones, or every enabled one."""
    snapshot = current_snapshot()
    if slugs:
        configs = [c for s in dict.fromkeys(slugs) for c in select(snapshot, s)]
    else:
        configs = select(snapshot, slug, enabled_only=True)
    if not configs:
        return []
    return _probe_and_record(configs)


def provider_check(slug: str) -> dict[str, Any]:
    """POST /api/providers/{id}/health-check: one provider now, in the old API's shape
    (provider_id, name, is_healthy, status, response_time, timestamp) plus the probe itself."""
    config = select(current_snapshot(), slug)[0]
    probe = _probe_and_record([config])[0]
    status = "unknown" if probe["skipped"] else ("online" if probe["ok"] else "offline")
    return {"provider_id": slug, "name": config.name, "is_healthy": bool(probe["ok"]), "status": status,
            "response_time": probe["latency_ms"], "timestamp": iso_precise(time.time()), **probe}


def resolve_endpoint(url: str) -> str:
    """The slug of the provider an old-API endpoint URL belongs to (UnknownProvider if none;
    endpoints.NotAUrl / AmbiguousUrl for a URL that cannot name one)."""
    snapshot = current_snapshot()
    slug = endpoints.provider_for_url(url, ((p.slug, p.base_url) for p in snapshot.providers.values()))
    if slug is None:
        raise UnknownProvider(url)
    return slug


async def _forget_failures(r: redis.asyncio.Redis, slugs: Iterable[str]) -> None:
    """Breaker closed and cool-down lifted. Budget windows stay: they mirror the provider's own
    limits, and forgetting them would let the next burst exceed those."""
    store = BreakerStore(r)
    for slug in slugs:
        await store.reset(slug)
        await r.delete(cooldown_key(slug))


def recover(slug: str, *, reason: str, actor: str) -> dict[str, Any]:
    """Reset the breaker and cool-down, probe at once, and record who did it and why."""
    configs = select(current_snapshot(), slug)

    async def work(r: redis.asyncio.Redis) -> list[tuple[probes.ProbeResult, dict]]:
        await _forget_failures(r, [slug])
        return await _probe(r, configs)

    raw, probe = run_with_redis(work)[0]
    sweep.probe_results_record([raw], checked_at=datetime.now(UTC), manual=True)
    result = {"probe": probe, "breaker": probe["breaker"]}
    entry = RecoveryLog.objects.create(
        provider_slug=slug, action=RecoveryAction.RECOVER, reason=reason, actor=actor, result=result
    )
    logger.info("provider %s recovered by %s (%s): probe ok=%s", slug, actor, reason, probe["ok"])
    return {"provider": slug, "recovered": probe["ok"], **result, "log_id": entry.pk}


def breaker_reset(slug: str) -> None:
    """Close one breaker, nothing else (`manage.py breaker reset`; not logged, unlike recover)."""
    run_with_redis(lambda r: BreakerStore(r).reset(slug))


def reset_breakers(slugs: list[str], *, actor: str, reason: str = "") -> list[RecoveryLog]:
    """Reset breaker and cool-down without probing (the admin action)."""
    run_with_redis(lambda r: _forget_failures(r, slugs))
    return [
        RecoveryLog.objects.create(provider_slug=s, action=RecoveryAction.RESET_BREAKER, reason=reason, actor=actor)
        for s in slugs
    ]


def clear_failures(*, actor: str, reason: str = "") -> dict[str, Any]:
    """Every provider's breaker, cool-down and failure counters back to zero."""
    slugs = sorted(current_snapshot().providers)

    async def work(r: redis.asyncio.Redis) -> None:
        await _forget_failures(r, slugs)
        for slug in slugs:
            await stats.reset(r, slug)

    run_with_redis(work)
    RecoveryLog.objects.create(
        provider_slug="*", action=RecoveryAction.CLEAR_FAILURES, reason=reason, actor=actor,
        result={"providers": len(slugs)},
    )
    logger.info("failures cleared for %d providers by %s", len(slugs), actor)
    return {"cleared": len(slugs), "providers": slugs}


# --- diagnostics -----------------------------------------------------------------------------


def log_entry(row: RecoveryLog) -> dict[str, Any]:
    return {
        "id": row.pk, "provider": row.provider_slug, "action": row.action, "reason": row.reason,
        "actor": row.actor, "result": row.result, "created_at": iso_precise(row.created_at),
    }


def diagnostics() -> dict[str, Any]:
    """One JSON document an operator can attach to a bug report: config, runtime state, history."""
    snapshot = current_snapshot()
    providers = run_with_redis(lambda r: provider_runtime(r, snapshot.providers.values()))
    pools = [
        {"slug": p.slug, "capability": p.capability, "strategy": p.strategy, "enabled": p.enabled,
         "members": [m.provider for m in p.members]}
        for p in snapshot.pools.values()
    ]
    open_breakers = sorted(p["provider"] for p in providers if p["breaker"]["state"] != "closed")
    return {
        "generated_at": iso_precise(time.time()),
        "snapshot": {
            "version": snapshot.version,
            "providers": len(snapshot.providers),
            "enabled_providers": sum(p.enabled for p in snapshot.providers.values()),
            "pools": pools,
        },
        "summary": {"breakers_not_closed": open_breakers,
                    "cooling_down": sorted(p["provider"] for p in providers if p["cooling_until"])},
        "providers": providers,
        "recovery_log": [log_entry(row) for row in RecoveryLog.objects.all()[:DIAGNOSTICS_LOG_ROWS]],
        "failed_endpoints": health_summary.failed_endpoints(),
    }
