"""Consensus: ask N providers of a pool at once and compare their numbers (?consensus=N).

The maths is pure (top half): the median of each compared value, each provider's value, the
spread, and outliers — providers more than `outlier_pct` percent from the median. Which values
are compared is fixed per capability (`key_values`): a coin's price, the total market cap, the
standard gas fee; the other numbers of an answer are reported as medians but never judged, as
providers legitimately disagree on them (24 h volume windows, slow/fast fee ladders).

`fetch_consensus()` (bottom half) picks the first N usable members of the capability's pool in
strategy order (open breakers, cool-downs, missing keys and maintenance windows skipped), asks
each alone through the engine in parallel (`only_provider`: retries, breaker, budget, no
fallback, no cache), and counts every outlier against its provider as bad data (breaker failure
and a `bad_data` stats outcome). Partial answers are fine; the answer says who did not answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from healing.engine import fetch as engine
from healing.engine import stats
from healing.engine.candidates import order_candidates, providers_of
from healing.engine.config import Snapshot
from healing.engine.errors import AllProvidersFailed, Attempt, UnknownCapability
from healing.engine.hints import suggestions
from providers.measures import iso_seconds

logger = logging.getLogger(__name__)

# With fewer answers than this no majority exists, so nobody is called an outlier (of two
# disagreeing providers, either may be the liar).
MIN_VOTERS_FOR_OUTLIERS = 3
# The value each capability is judged on (numbers several providers must agree on).
KEY_FIELDS: Mapping[str, str] = {"global": "total_market_cap", "gas": "standard"}
# Timestamp fields: the median answer carries the newest of them.
TIME_FIELDS = frozenset({"last_updated", "updated_at", "source_time", "timestamp"})
CAPABILITIES = frozenset({"price", "global", "gas"})


# --- pure maths -------------------------------------------------------------------------------


def deviation_pct(value: float, median: float) -> float:
    """How far `value` lies from `median`, in percent of the median."""
    if median == 0:
        return 0.0 if value == 0 else math.inf
    return abs(value - median) / abs(median) * 100.0


@dataclass(frozen=True)
class Comparison:
    """One compared value across providers."""

    label: str
    median: float
    by_provider: dict[str, float]
    low: float
    high: float
    spread: float  # high - low
    spread_pct: float  # spread in percent of the median
    deviation_pct: dict[str, float]
    outliers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "median": self.median, "by_provider": self.by_provider, "low": self.low, "high": self.high,
            "spread": self.spread, "spread_pct": _round(self.spread_pct),
            "deviation_pct": {slug: _round(d) for slug, d in self.deviation_pct.items()},
            "outliers": list(self.outliers),
        }


def _round(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def compare(label: str, by_provider: Mapping[str, float], outlier_pct: float,
            *, min_voters: int = MIN_VOTERS_FOR_OUTLIERS) -> Comparison:
    """Median, spread and outliers of one value as each provider reported it."""
    if not by_provider:
        raise ValueError(f"no values to compare for {label}")
    values = list(by_provider.values())
    mid = statistics.median(values)
    deviations = {slug: deviation_pct(v, mid) for slug, v in by_provider.items()}
    outliers = tuple(slug for slug, d in deviations.items() if d > outlier_pct) if len(values) >= min_voters else ()
    low, high = min(values), max(values)
    spread_pct = (high - low) / abs(mid) * 100.0 if mid else (0.0 if high == low else math.inf)
    return Comparison(label, mid, dict(by_provider), low, high, high - low, spread_pct, deviations, outliers)


def key_values(capability: str, data: Any) -> dict[str, float]:
    """The judged numbers of one normalized answer: {label: value}."""
    if capability == "price":
        return {q["id"]: float(q["price"]) for q in data if isinstance(q, Mapping) and _is_number(q.get("price"))}
    name = KEY_FIELDS.get(capability)
    if name is None or not isinstance(data, Mapping) or not _is_number(data.get(name)):
        return {}
    return {name: float(data[name])}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def median_record(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One record in the same shape: the median of every number, the newest timestamp, else the first value."""
    out = dict(records[0])
    for name in out:
        values = [r.get(name) for r in records]
        numbers = [v for v in values if _is_number(v)]
        if numbers:
            mid = statistics.median(numbers)
            # Counts (active_coins) stay whole numbers.
            out[name] = round(mid) if all(isinstance(v, int) for v in numbers) else float(mid)
        elif name in TIME_FIELDS:
            stamps = [v for v in values if isinstance(v, str)]
            out[name] = max(stamps) if stamps else None  # same ISO format: text order is time order
        else:
            out[name] = next((v for v in values if v is not None), None)
    return out


def median_answer(capability: str, answers: Mapping[str, Any]) -> Any:
    """The normalized answer built from the medians of all answering providers."""
    datas = list(answers.values())
    if capability == "price":
        by_id: dict[str, list[Mapping[str, Any]]] = {}
        for data in datas:
            for quote in data:
                by_id.setdefault(quote["id"], []).append(quote)
        return [median_record(quotes) for quotes in by_id.values()]
    return median_record(datas)


@dataclass
class Verdict:
    """Everything consensus concluded from the answers it got."""

    median: Any
    values: dict[str, Comparison]
    outliers: dict[str, dict[str, float]] = field(default_factory=dict)  # slug -> {label: deviation %}


def judge(capability: str, answers: Mapping[str, Any], outlier_pct: float) -> Verdict:
    """Compare the key values of every answer (slug -> normalized data)."""
    per_label: dict[str, dict[str, float]] = {}
    for slug, data in answers.items():
        for label, value in key_values(capability, data).items():
            per_label.setdefault(label, {})[slug] = value
    values = {label: compare(label, by, outlier_pct) for label, by in per_label.items()}
    outliers: dict[str, dict[str, float]] = {}
    for label, comparison in values.items():
        for slug in comparison.outliers:
            outliers.setdefault(slug, {})[label] = comparison.deviation_pct[slug]
    return Verdict(median_answer(capability, answers), values, outliers)


# --- asking the providers ---------------------------------------------------------------------


@dataclass
class _Asked:
    slug: str
    answer: engine.Answer | None = None
    reason: str = ""  # why it did not answer
    attempts: list[Attempt] = field(default_factory=list)


async def _ask(capability: str, params: Mapping[str, Any], slug: str, snapshot: Snapshot, deps: engine.Deps) -> _Asked:
    try:
        answer = await engine.fetch_capability(capability, params, snapshot=snapshot, deps=deps, only_provider=slug)
    except AllProvidersFailed as exc:
        last = next((a for a in reversed(exc.attempts) if a.provider == slug), None)
        reason = f"{last.outcome}: {last.detail}" if last and last.detail else (last.outcome if last else "no answer")
        return _Asked(slug, reason=reason, attempts=list(exc.attempts))
    except UnknownCapability as exc:
        return _Asked(slug, reason=str(exc))
    return _Asked(slug, answer=answer, attempts=list(answer.attempts))


async def _count_as_bad_data(deps: engine.Deps, snapshot: Snapshot, slug: str) -> None:
    """An outlier's answer was bad data: one breaker failure and one bad_data outcome in its stats."""
    cfg = snapshot.providers[slug]
    now = deps.clock()
    await asyncio.gather(deps.breakers.record(cfg, False), stats.record(deps.redis, slug, "bad_data", None, now))


async def fetch_consensus(
    capability: str, params: Mapping[str, Any], n: int, *, snapshot: Snapshot, deps: engine.Deps,
) -> engine.Answer:
    """Ask `n` providers in parallel; the answer's data holds the median and the comparison.

    Raises UnknownCapability when no pool serves the capability and AllProvidersFailed when
    nobody answered.
    """
    if capability not in CAPABILITIES:
        raise UnknownCapability(f"consensus is not offered for {capability!r}")
    pool, members = providers_of(snapshot, capability)
    candidates = await order_candidates(deps, pool, members, capability, last_resort=False, params=params)
    chosen = [c.cfg.slug for c in candidates if not c.skip][:n]
    passed_over = [c for c in candidates if c.skip]

    asked = await asyncio.gather(*(_ask(capability, params, slug, snapshot, deps) for slug in chosen))
    attempts = [a for result in asked for a in result.attempts]
    answers = {r.slug: r.answer.data for r in asked if r.answer is not None}
    missing = [{"provider": r.slug, "reason": r.reason} for r in asked if r.answer is None]
    if len(chosen) < n:
        # Fewer usable members than asked for: say who could not even be asked, and why.
        missing += [{"provider": c.cfg.slug, "reason": f"{c.skip}: {c.skip_detail}"} for c in passed_over]
        attempts += [Attempt(c.cfg.slug, c.skip, 0.0, c.skip_detail, c.skip_until) for c in passed_over]
    if not answers:
        hints = await suggestions(deps, [c.cfg for c in candidates], attempts)
        raise AllProvidersFailed(capability, attempts, hints or [f"no provider of pool {pool.slug} could be asked"])

    outlier_pct = deps.settings.consensus_outlier_pct
    verdict = judge(capability, answers, outlier_pct)
    for slug, labels in verdict.outliers.items():
        worst = max(labels.values())
        logger.warning("consensus %s: provider %s is an outlier (%.2f %% from the median)", capability, slug, worst)
        attempts.append(Attempt(slug, "bad_data", 0.0, f"outlier: {worst:.2f} % from the median of {len(answers)}"))
    await asyncio.gather(*(_count_as_bad_data(deps, snapshot, slug) for slug in verdict.outliers))

    data = {
        "median": verdict.median,
        "values": {label: c.to_dict() for label, c in verdict.values.items()},
        "providers": {slug: answers[slug] for slug in answers},
        "outliers": sorted(verdict.outliers),
        "missing": missing,
        "asked": len(chosen),
        "answered": len(answers),
        "requested": n,
        "outlier_pct": outlier_pct,
    }
    now = deps.clock()
    return engine.Answer(data, ",".join(answers), engine.SERVED_CONSENSUS, 0.0, iso_seconds(now), attempts)
