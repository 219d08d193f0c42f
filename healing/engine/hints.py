"""What to do next when every provider failed: one line per provider that can recover."""

from __future__ import annotations

import math

from healing.engine.breaker import OPEN
from healing.engine.config import ProviderConfig
from healing.engine.deps import Deps
from healing.engine.errors import SKIPPED_MAINTENANCE, Attempt
from healing.engine.ratelimit import describe_budgets
from providers.adapters.base import Outcome
from providers.measures import iso_seconds


async def suggestions(deps: Deps, providers: list[ProviderConfig], attempts: list[Attempt]) -> list[str]:
    """One line per provider that can recover: when its breaker reopens, when its budget frees."""
    seen: dict[str, ProviderConfig] = {}
    for cfg in providers:
        seen.setdefault(cfg.slug, cfg)
    states = await deps.breakers.states(seen)
    now = deps.clock()
    out: list[str] = []
    for slug, cfg in seen.items():
        state = states[slug]
        if cfg.key_required and not cfg.api_key():
            out.append(f"{slug}: set the API key variable {cfg.api_key_env} to use it")
            continue
        if state.state == OPEN and state.reopens_at is not None:
            out.append(f"{slug}: breaker reopens at {iso_seconds(state.reopens_at)} "
                       f"(in {math.ceil(state.reopens_at - now)} s)")
        cooling = await deps.budget.cooling_until(slug)
        if cooling is not None:
            out.append(f"{slug}: rate-limited by the provider until {iso_seconds(cooling)} "
                       f"(in {math.ceil(cooling - now)} s)")
        if cfg.rate_limits:
            out.extend(describe_budgets(slug, await deps.budget.remaining(cfg), now))
    drained = [a for a in attempts if a.outcome == SKIPPED_MAINTENANCE]
    if drained:
        # Taken out on purpose: say so, and when it ends, instead of blaming the parameters.
        out.extend(f"{a.provider}: {a.detail}" for a in drained)
    if not out:
        tried = {a.outcome for a in attempts}
        if tried & {Outcome.TIMEOUT.value, Outcome.TRANSIENT.value}:
            out.append("providers are timing out or failing; retry in a few seconds")
        elif tried:
            out.append("no provider had usable data for this request; check the parameters")
    return out
