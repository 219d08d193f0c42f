"""The catalogue as the engine's plain-data `Snapshot`: the one place that reads it from the ORM.

`build_snapshot()` reads providers and pools in two queries (sync). `snapshot_builder` is the
async builder a `SnapshotHolder` calls when the config version moves: the same build, in a worker
thread, so the data plane's event loop never waits on the database.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections

from healing.engine.config import MemberConfig, PoolConfig, ProviderConfig, Snapshot
from healing.engine.snapshot import ClientConfig
from pools.models import Pool
from providers import asset_store, assets
from providers.models import Provider

_PROVIDER_FIELDS = (
    "slug", "name", "category", "base_url", "health_path", "health_method", "health_body", "auth_type",
    "auth_param", "auth_scheme", "api_key_env", "key_required", "rate_limits", "timeout_s", "allow_post",
    "breaker_failure_threshold", "breaker_open_s", "enabled",
)


def build_snapshot(version: int = 0) -> Snapshot:
    """The whole catalogue as plain data (sync, two queries).

    Pool members are only the enabled memberships of enabled providers, ordered by priority, so
    the engine never has to know about a disabled row. Every provider is kept in `providers`
    (enabled or not) so the proxy can say *why* it refuses one.
    """
    rows = list(Provider.objects.values("id", *_PROVIDER_FIELDS))
    providers = {row["slug"]: ProviderConfig(**{f: row[f] for f in _PROVIDER_FIELDS}) for row in rows}
    slug_by_id = {row["id"]: row["slug"] for row in rows}

    # One LEFT JOIN: a pool without members still appears (with no members).
    pool_rows = Pool.objects.values(
        "slug", "capability", "strategy", "enabled",
        "memberships__provider_id", "memberships__priority", "memberships__weight", "memberships__enabled",
    ).order_by("slug", "-memberships__priority", "memberships__provider__slug")
    pools: dict[str, dict[str, Any]] = {}
    for row in pool_rows:
        pool = pools.setdefault(
            row["slug"],
            {"slug": row["slug"], "capability": row["capability"], "strategy": row["strategy"],
             "enabled": row["enabled"], "members": []},
        )
        slug = slug_by_id.get(row["memberships__provider_id"])
        if slug is None or not row["memberships__enabled"] or not providers[slug].enabled:
            continue
        pool["members"].append(
            MemberConfig(provider=slug, priority=row["memberships__priority"], weight=row["memberships__weight"])
        )
    _install_registry()
    return Snapshot(
        version=version,
        providers=providers,
        pools={slug: PoolConfig(**{**p, "members": tuple(p["members"])}) for slug, p in pools.items()},
        clients=_clients(),
    )


_registry_fingerprint: tuple | None = None


def _install_registry() -> None:
    """The asset registry rides on the snapshot's rebuild, but is read again only when its rows
    changed (a sync, an operator's edit): thousands of assets are not re-read on every pool edit.
    An empty registry (before `make catalogue`) is the shipped snapshot."""
    global _registry_fingerprint
    seen = asset_store.fingerprint()
    if seen == _registry_fingerprint:
        return
    registry = asset_store.build_registry()
    assets.install(registry if len(registry) else assets.shipped())
    _registry_fingerprint = seen


def _clients() -> dict[str, ClientConfig]:
    """API clients by key hash: what the data plane's inbound check reads instead of the ORM."""
    from healing.models import ApiClient

    return {
        c["key_hash"]: ClientConfig(name=c["name"], enabled=c["enabled"],
                                    capabilities=frozenset(c["capabilities"] or ()), limits=c["limits"])
        for c in ApiClient.objects.values("key_hash", "name", "enabled", "capabilities", "limits")
    }


def _build_in_worker_thread(version: int) -> Snapshot:
    # Runs in an executor thread that Django knows nothing about: close its connection so a
    # long-lived process does not pile up idle database connections (CONN_MAX_AGE is 0 anyway).
    try:
        return build_snapshot(version)
    finally:
        connections.close_all()


async def snapshot_builder(version: int) -> Snapshot:
    return await sync_to_async(_build_in_worker_thread, thread_sensitive=False)(version)
