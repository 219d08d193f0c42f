"""Plain-data configuration the engine runs on: no model instance ever crosses into `healing`.

The data plane holds one `Snapshot` per process and swaps it when the config version in Redis
changes; the engine only ever sees these frozen dataclasses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class ProviderConfig:
    slug: str
    name: str
    category: str
    base_url: str
    health_path: str = ""
    health_method: str = "GET"
    health_body: str = ""
    auth_type: str = "none"  # none | query | header
    auth_param: str = ""
    auth_scheme: str = ""
    api_key_env: str = ""
    key_required: bool = False
    rate_limits: str = ""
    timeout_s: float = 10.0
    allow_post: bool = False
    breaker_failure_threshold: int = 5
    breaker_open_s: int = 30
    enabled: bool = True

    def api_key(self) -> str | None:
        """Read at call time so a rotated key takes effect without a restart; never logged."""
        return os.environ.get(self.api_key_env) or None if self.api_key_env else None

    @property
    def usable(self) -> bool:
        return self.enabled and not (self.key_required and not self.api_key())


# Provider columns a ProviderConfig is built from (the dataclass mirrors the model's fields).
CONFIG_FIELDS = tuple(f.name for f in fields(ProviderConfig))


@dataclass(frozen=True)
class MemberConfig:
    provider: str
    priority: int = 0
    weight: int = 100


@dataclass(frozen=True)
class PoolConfig:
    slug: str
    capability: str
    strategy: str
    members: tuple[MemberConfig, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class Snapshot:
    version: int
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    pools: dict[str, PoolConfig] = field(default_factory=dict)
    # API clients by key hash (healing.engine.snapshot.ClientConfig), for the inbound check.
    clients: dict = field(default_factory=dict)

    def pool_for(self, capability: str) -> PoolConfig | None:
        """The pool named after the capability, else the first enabled pool serving it."""
        pool = self.pools.get(capability)
        if pool is not None and pool.enabled:
            return pool
        return next((p for p in self.pools.values() if p.enabled and p.capability == capability), None)
