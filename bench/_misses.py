"""Figures (b)-(d): the added latency of a miss, 1,000 concurrent identical misses, a hanging primary."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from bench import _load
from bench._common import Keys, Options, Row, met, ms_summary, per_answer, price_path, redis_commands
from bench._env import PRICE_PROVIDERS, World
from bench._load import percentile

# Goals from the issue.
GOAL_MISS_P50_MS = 1.0
GOAL_MISS_P99_MS = 3.0
GOAL_BURST_CALLS = 1
GOAL_OPEN_RATIO = 1.2
# Misses timed before the measured ones, so both workers hold warm upstream connections.
MISS_WARMUP = 20
# Upstream latency in the full-pool burst: under the 200 ms hedge floor, so a hedge only starts
# if the server itself is too busy to answer in time (then the extra call is real, and counted).
BURST_FAST_MS = 150
# Upstream latency in the single-member burst (as the tests use): hedging has nobody to call.
BURST_SLOW_MS = 300
# Requests made at most while waiting for the breaker to open under a hanging primary.
MAX_BEFORE_OPEN = 40
FIRST_SHOWN = 10
# The breaker stays open 30 s by default: the measured phase must end well before it half-opens.
OPEN_PHASE_MAX_S = 20.0


# --- (b) added latency on a miss ------------------------------------------------------------


async def _miss_pairs(world: World, n: int, keys: Keys) -> tuple[list[float], list[float], Counter]:
    from providers.registry import get_adapter

    adapter = get_adapter("coingecko")
    base = world.upstream.base_url("coingecko")
    through: list[float] = []
    direct: list[float] = []
    anomalies: Counter = Counter()
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        for i in range(MISS_WARMUP + n):
            ids = keys.ids()
            spec = adapter.build_request("price", {"ids": ids, "vs": "usd"})
            hub_url = world.cryptohub.url + price_path(ids)
            upstream_url = f"{base}{spec.path}?{urlencode(spec.params)}"

            async def via() -> float:
                t0 = time.perf_counter()
                r = await client.get(hub_url)
                ms = (time.perf_counter() - t0) * 1000
                meta = r.json().get("meta", {}) if r.status_code == 200 else {}
                if (meta.get("served"), meta.get("source"), len(meta.get("attempts", []))) != ("live", "coingecko", 1):
                    anomalies[f"{r.status_code} {meta.get('served')} {meta.get('source')}"] += 1
                return ms

            async def upstream() -> float:
                t0 = time.perf_counter()
                r = await client.get(upstream_url)
                ms = (time.perf_counter() - t0) * 1000
                if r.status_code != 200:
                    anomalies[f"direct {r.status_code}"] += 1
                return ms

            # Alternate which goes first, so neither always finds the other's warm caches.
            if i % 2:
                a, b = await via(), await upstream()
            else:
                b, a = await upstream(), await via()
            if i >= MISS_WARMUP:
                through.append(a)
                direct.append(b)
    return through, direct, anomalies


def miss_latency(world: World, opts: Options, keys: Keys) -> Row:
    c0 = redis_commands(world)
    through, direct, anomalies = asyncio.run(_miss_pairs(world, opts.misses, keys))
    commands = per_answer(c0, redis_commands(world), opts.misses + MISS_WARMUP)
    added = [a - b for a, b in zip(through, direct, strict=True)]
    p50, p99 = percentile(added, 50), percentile(added, 99)
    details = [
        f"{opts.misses} sequential misses (a never-seen key each, after {MISS_WARMUP} warm-up pairs), each paired "
        "with the same coingecko call made directly; one keep-alive httpx client for both",
        f"through cryptohub: {ms_summary(through)}; upstream directly: {ms_summary(direct)}",
        f"difference of the percentiles: p50 {percentile(through, 50) - percentile(direct, 50):.2f} ms, "
        f"p99 {percentile(through, 99) - percentile(direct, 99):.2f} ms",
        f"answers not 'live from coingecko in one attempt': {sum(anomalies.values())} {dict(anomalies) or ''}",
        f"a miss: {commands}",
    ]
    result = f"added p50 {p50:.2f} ms, p99 {p99:.2f} ms (per-pair difference)"
    goal = f"<= {GOAL_MISS_P50_MS:g} ms / <= {GOAL_MISS_P99_MS:g} ms"
    return Row("(b) added latency on a miss", result, goal, met(p50 <= GOAL_MISS_P50_MS and p99 <= GOAL_MISS_P99_MS),
               details)


# --- (c) 1,000 concurrent identical misses --------------------------------------------------


def _burst_once(world: World, opts: Options, path: str, latency_ms: int) -> tuple[int, dict, list[str]]:
    world.upstream.reset()
    world.upstream.fault("coingecko", "latency", ms=latency_ms)
    try:
        t0 = time.perf_counter()
        answers = asyncio.run(_load.burst([world.cryptohub.port], path, opts.burst))
        elapsed = time.perf_counter() - t0
    finally:
        world.upstream.fault("coingecko", "ok")
    detail = world.upstream.calls_detail()
    statuses = Counter(a.status if isinstance(a, _load.BurstAnswer) else type(a).__name__ for a in answers)
    served = Counter(a.headers.get("x-cryptohub-cache") for a in answers if isinstance(a, _load.BurstAnswer))
    bodies = {json.dumps(json.loads(a.body).get("data"), sort_keys=True) for a in answers
              if isinstance(a, _load.BurstAnswer) and a.status == 200}
    lines = [f"{opts.burst} answers in {elapsed:.2f} s: statuses {dict(statuses)}; served {dict(served)} "
             "(live = waited on the one fetch, cache = arrived after it was stored); "
             f"{len(bodies)} distinct data bodies",
             f"upstream calls by provider: {detail['by_slug']}"]
    return detail["total"], detail["by_slug"], lines


def concurrent_misses(world: World, opts: Options, keys: Keys) -> Row:
    calls_pool, _, lines_pool = _burst_once(world, opts, keys.path(), BURST_FAST_MS)
    world.configure(members=("coingecko",))
    try:
        calls_single, _, lines_single = _burst_once(world, opts, keys.path(), BURST_SLOW_MS)
    finally:
        world.configure()
    details = [f"full pool (coingecko > coinpaprika > coincap), coingecko answering in {BURST_FAST_MS} ms "
               f"(under the 200 ms hedge floor): {calls_pool} upstream call(s)", *lines_pool,
               f"single-member pool (coingecko only), answering in {BURST_SLOW_MS} ms: "
               f"{calls_single} upstream call(s)", *lines_single,
               f"{opts.burst} connections opened first, then every request written at once, to one uvicorn "
               "with 2 workers (the kernel spreads the connections over both processes)"]
    result = f"{calls_pool} call(s) with the full pool; {calls_single} with a single-member pool"
    return Row("(c) upstream calls, 1,000 concurrent identical misses", result, f"{GOAL_BURST_CALLS}",
               met(calls_pool == GOAL_BURST_CALLS and calls_single == GOAL_BURST_CALLS), details)


# --- (d) hanging primary: hedging, then the breaker -----------------------------------------


@dataclass
class Timed:
    ms: float
    status: int
    source: str
    outcomes: str  # "coingecko=cancelled coinpaprika=ok"


async def _sequential(world: World, paths: list[str], *, stop=None, max_s: float | None = None) -> list[Timed]:
    out: list[Timed] = []
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=world.cryptohub.url, trust_env=False, timeout=30) as client:
        for path in paths:
            t0 = time.perf_counter()
            r = await client.get(path)
            ms = (time.perf_counter() - t0) * 1000
            meta = r.json().get("meta", {}) if r.status_code == 200 else {}
            outcomes = " ".join(f"{a['provider']}={a['outcome']}" for a in meta.get("attempts", []))
            out.append(Timed(ms, r.status_code, meta.get("source", "-"), outcomes))
            if stop is not None and stop(out[-1]):
                break
            if max_s is not None and time.perf_counter() - started > max_s:
                break
    return out


def _breaker_open(t: Timed) -> bool:
    return "coingecko=skipped_breaker_open" in t.outcomes


def hanging_primary(world: World, opts: Options, keys: Keys) -> Row:
    n = opts.breaker_requests
    world.reset_runtime(*PRICE_PROVIDERS)
    healthy = asyncio.run(_sequential(world, [keys.path() for _ in range(n)]))
    # The same requests answered by the secondary with no breaker involved: what the open-breaker
    # phase costs beyond "a different provider answers" (coinpaprika's multi-coin answer is its
    # whole /tickers list, so it is slower than coingecko's by itself).
    world.configure(members=PRICE_PROVIDERS[1:])
    try:
        secondary = asyncio.run(_sequential(world, [keys.path() for _ in range(n)]))
    finally:
        world.configure()
    world.reset_runtime(*PRICE_PROVIDERS)
    world.upstream.fault("coingecko", "hang")
    try:
        first = asyncio.run(_sequential(world, [keys.path() for _ in range(MAX_BEFORE_OPEN)], stop=_breaker_open))
        opened = _breaker_open(first[-1])
        t_open = time.perf_counter()
        open_phase = asyncio.run(_sequential(world, [keys.path() for _ in range(n)],
                                             max_s=OPEN_PHASE_MAX_S)) if opened else []
        open_for = time.perf_counter() - t_open
    finally:
        world.upstream.fault("coingecko", "ok")
        world.reset_runtime(*PRICE_PROVIDERS)

    healthy_ms = [t.ms for t in healthy if t.status == 200]
    secondary_ms = [t.ms for t in secondary if t.status == 200]
    open_ms = [t.ms for t in open_phase if t.status == 200]
    p99_open = percentile(open_ms, 99)
    ratio = p99_open / percentile(healthy_ms, 99) if open_ms else math.nan
    before_open = [t for t in first if not _breaker_open(t)]
    details = [
        f"healthy: {len(healthy_ms)} sequential misses, sources {dict(Counter(t.source for t in healthy))}: "
        f"{ms_summary(healthy_ms)}",
        f"coingecko taken out of the pool (no breaker, same requests): sources "
        f"{dict(Counter(t.source for t in secondary))}: {ms_summary(secondary_ms)}",
        f"coingecko hangs: the breaker opened after {len(before_open)} requests; "
        f"first {min(FIRST_SHOWN, len(first))} requests (ms, source, attempts):",
        *(f"  #{i + 1}: {t.ms:.0f} ms, {t.status} from {t.source}: {t.outcomes}" for i, t in
          enumerate(first[:FIRST_SHOWN])),
        f"before it opened: {ms_summary([t.ms for t in before_open])}, max {max(t.ms for t in before_open):.0f} ms "
        "(hedge floor 200 ms; provider timeout 5 s, request deadline 8 s)" if before_open else "",
        f"breaker open: {len(open_ms)} sequential misses in {open_for:.1f} s, coingecko skipped without a call "
        f"in {sum(_breaker_open(t) for t in open_phase)}, sources {dict(Counter(t.source for t in open_phase))}: "
        f"{ms_summary(open_ms)}",
        f"p99 open / p99 with coingecko out of the pool (the breaker's own cost): "
        f"{p99_open / percentile(secondary_ms, 99):.2f}" if open_ms else "",
    ]
    result = (f"p99 open {p99_open:.2f} ms / healthy {percentile(healthy_ms, 99):.2f} ms = "
              f"{ratio:.2f}; first {len(before_open)} hedged requests <= "
              f"{max((t.ms for t in before_open), default=math.nan):.0f} ms")
    return Row("(d) primary hanging: breaker-open p99 / healthy p99", result, f"<= {GOAL_OPEN_RATIO:g}",
               met(ratio <= GOAL_OPEN_RATIO), [d for d in details if d])
