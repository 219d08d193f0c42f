"""Figure (e): upstream calls above the rate limit while 4 OS processes burst unique-key misses."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from bench import _load
from bench._common import Keys, Options, Row, met
from bench._env import World
from bench._load import percentile

GOAL_OVER_LIMIT = 0
RATE_LIMITS = {"coingecko": "20/second", "coinpaprika": "50/10 seconds"}
RATE_WINDOWS = {"coingecko": (20, 1.0), "coinpaprika": (50, 10.0)}
RATE_PHASE_MAX_S = 30.0


def over_limit(times: list[float], limit: int, window_s: float) -> tuple[int, int]:
    """(most calls in any moving window, calls that arrived with `limit` others already in theirs)."""
    times = sorted(times)
    most = over = start = 0
    for i, t in enumerate(times):
        while times[start] <= t - window_s:
            start += 1
        count = i - start + 1
        most = max(most, count)
        over += count > limit
    return most, over


def _jitter_ms(times: list[float], limit: int, window_s: float) -> float:
    """The least shortening of the window (ms, 1 ms steps, up to the window) that leaves no excess."""
    for shrink_ms in range(1, int(window_s * 1000)):
        if over_limit(times, limit, window_s - shrink_ms / 1000)[1] == 0:
            return shrink_ms
    return window_s * 1000


class _TokenWatch:
    """Reads the limiter's moving-window lists in Redis every few ms while a burst runs.

    A list holds the last `limit` grant times, and fewer than `limit` are granted between two
    reads, so every grant is seen: the limiter's own count, beside the upstream's."""

    POLL_S = 0.005

    def __init__(self, world: World, slugs: list[str]) -> None:
        import redis

        from bench._env import REDIS_PREFIX
        from healing.engine.ratelimit import parse_limits

        self.seen: dict[str, set[float]] = {slug: set() for slug in slugs}
        # The limits library's key for each window (one per slug here); no SCAN in the hot loop.
        self._keys = {slug: [f"{REDIS_PREFIX}rl:{item.key_for(slug)}" for item in parse_limits(RATE_LIMITS[slug])]
                      for slug in slugs}
        self._client = redis.Redis.from_url(world.redis.url)
        self._running = True
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while self._running:
            for slug, keys in self._keys.items():
                for key in keys:
                    self.seen[slug].update(float(v) for v in self._client.lrange(key, 0, -1))
            time.sleep(self.POLL_S)

    def stop(self) -> None:
        self._running = False
        self._thread.join(timeout=5)
        self._client.close()


def rate_limited_burst(world: World, opts: Options, keys: Keys) -> Row:
    world.configure(limits=RATE_LIMITS)
    try:
        world.upstream.clear_arrivals()
        paths = [[keys.path() for _ in range(opts.rate_requests)] for _ in range(opts.rate_processes)]
        ctx = multiprocessing.get_context("spawn")
        tokens = _TokenWatch(world, list(RATE_WINDOWS))
        t0 = time.perf_counter()
        try:
            with ProcessPoolExecutor(max_workers=opts.rate_processes, mp_context=ctx) as pool:
                parts = list(pool.map(_load.paths_in_process, [world.cryptohub.port] * opts.rate_processes, paths,
                                      [opts.rate_concurrency] * opts.rate_processes,
                                      [RATE_PHASE_MAX_S] * opts.rate_processes))
        finally:
            tokens.stop()
        elapsed = time.perf_counter() - t0
        arrivals = world.upstream.arrivals()
    finally:
        world.configure()
    statuses: Counter = Counter()
    sources: Counter = Counter()
    for part in parts:
        statuses.update(part.statuses)
        sources.update(part.sources)
    details = [f"{opts.rate_processes} OS processes x {opts.rate_requests} unique-key misses, "
               f"{opts.rate_concurrency} in flight each, through one uvicorn with 2 workers: "
               f"{sum(statuses.values())} answers in {elapsed:.1f} s, statuses {dict(statuses)}, "
               f"sources {dict(sources)}"]
    failures = [f for part in parts for f in part.failures]
    if failures:
        details.append(f"first non-2xx answer: {failures[0][:400]}")
    total_over = 0
    for slug, (limit, window) in RATE_WINDOWS.items():
        times = arrivals.get(slug, [])
        most, over = over_limit(times, limit, window)
        total_over += over
        span = (max(times) - min(times)) if times else 0.0
        line = (f"{slug} (limit {RATE_LIMITS[slug]}): {len(times)} calls over {span:.1f} s, at most "
                f"{most} in any {window:g} s moving window, {over} above the limit")
        if over:
            line += f"; 0 above it once the window is shortened by {_jitter_ms(times, limit, window):.0f} ms"
        details.append(line)
        granted = sorted(tokens.seen[slug])
        if granted:
            line = (f"  tokens the shared limiter granted (read from Redis during the burst): {len(granted)}, at most "
                    f"{over_limit(granted, limit, window)[0]} in any {window:g} s window")
            if len(granted) == len(times):
                lag = sorted(a - g for a, g in zip(sorted(times), granted, strict=True))
                line += (f"; the n-th call arrived {percentile(lag, 50) * 1000:.0f} ms (p50) / "
                         f"{percentile(lag, 90) * 1000:.0f} ms (p90) / {lag[-1] * 1000:.0f} ms (max) "
                         "after the n-th token")
            details.append(line)
    details.append(f"coincap (no limit) took the rest: {len(arrivals.get('coincap', []))} calls")
    result = f"{total_over} calls above the limit"
    return Row("(e) upstream calls above the rate limit, 4 processes bursting", result, f"{GOAL_OVER_LIMIT}",
               met(total_over == GOAL_OVER_LIMIT), details)
