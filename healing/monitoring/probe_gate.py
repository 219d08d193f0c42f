"""Probes are traffic: the gate every probe passes before it may call a provider.

A probe spends the same shared budget as real traffic (healing.engine.ratelimit.Budget, the
bucket the data plane takes its tokens from) and honours the same Retry-After cool-down. So a
sweep never eats the quota users need:

- a provider cooling down (a 429 to anyone) is not probed until the cool-down ends;
- a provider with a daily budget is probed at most every `min_probe_interval_s`: probes may use
  PROBE_DAILY_SHARE of the daily budget, the rest stays for real traffic;
- a probe is skipped when any window has PROBE_RESERVE_SHARE (at least one token) or less
  left: the last tokens of a window belong to users, not to the health check;
- otherwise the probe takes one token in every window, exactly as a real call does.

A skipped probe is a result (skipped, with a reason), never "down". A 429 from a probe cools
the provider down in the shared state, so real traffic backs off too (`after_probe`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from healing.engine.config import ProviderConfig
from healing.engine.ratelimit import Budget, cooldown_seconds, parse_limits
from providers.runtime import rkey

# Windows this long or longer count as the daily budget (seconds).
DAY_S = 86_400
# Share of a daily budget probes may use (the rest is real traffic's): 1,440/day -> one probe
# every 10 minutes, 1,000/day -> every 14.4 minutes.
PROBE_DAILY_SHARE = 0.1
# Tokens kept for real traffic in every window: no probe when this share (or one token) is left.
PROBE_RESERVE_SHARE = 0.2

SKIP_COOLDOWN = "skipped_cooldown"
SKIP_BUDGET = "skipped_budget"
SKIP_INTERVAL = "skipped_interval"


def last_probe_key(slug: str) -> str:
    return rkey("probe", "last", slug)


def min_probe_interval_s(cfg: ProviderConfig) -> float:
    """Seconds between two probes of a provider with a daily (or longer) budget; 0 without one."""
    interval = 0.0
    for item in parse_limits(cfg.rate_limits):
        expiry = item.get_expiry()
        if expiry >= DAY_S:
            allowed = max(1.0, item.amount * PROBE_DAILY_SHARE)
            interval = max(interval, expiry / allowed)
    return interval


def reserve(limit: int) -> int:
    return max(1, math.ceil(limit * PROBE_RESERVE_SHARE))


async def admit(cfg: ProviderConfig, budget: Budget, clock: Callable[[], float]) -> tuple[str, str] | None:
    """None when the probe may go (its token taken), else (skip reason, message)."""
    now = clock()
    until = await budget.cooling_until(cfg.slug)
    if until is not None:
        return SKIP_COOLDOWN, f"cooling down for {math.ceil(until - now)} s (Retry-After)"
    interval = min_probe_interval_s(cfg)
    if interval:
        raw = await budget.redis.get(last_probe_key(cfg.slug))
        if raw is not None and now - float(raw) < interval:
            return SKIP_INTERVAL, f"probed {now - float(raw):.0f} s ago; every {interval:.0f} s at most (daily budget)"
    for window in await budget.remaining(cfg):
        limit = int(window["limit"].split("/")[0])
        if window["remaining"] <= reserve(limit):
            return SKIP_BUDGET, f"budget {window['limit']} has {window['remaining']} left (kept for real traffic)"
    spent = await budget.acquire(cfg)
    if spent is not None:
        return SKIP_BUDGET, f"budget {spent} spent"
    if interval:
        await budget.redis.set(last_probe_key(cfg.slug), repr(now), ex=math.ceil(interval) + 60)
    return None


async def after_probe(cfg: ProviderConfig, budget: Budget, *, rate_limited: bool, retry_after_s: float | None) -> None:
    """A 429 (or 418) to a probe cools the provider down for everyone, as one to real traffic does."""
    if rate_limited:
        await budget.cool_down(cfg.slug, cooldown_seconds(retry_after_s))
