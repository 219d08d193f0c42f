"""Redis outage benchmark (issue 9): what clients get while the gateway's Redis is down.

    .venv/bin/python -m bench.redis_outage [--duration 10] [--connections 32]

One world (bench/_env.py: two uvicorn workers, the fake upstream, a redis-server of its own).
Every price key of COINS is asked once so both workers hold copies, then three load phases run
back to back over the same keys, each a closed loop of keep-alive GETs:

1. before: Redis up (the baseline of this run);
2. outage: Redis stopped for `--duration` seconds; then, still down, one request for each of as
   many never-asked keys (misses: only a provider can answer them);
3. after: Redis started again; the time until the first answer without the degraded mark.

Printed: the share of 200 answers in each phase (goal >= 0.9 during the outage for keys cached
before it), requests/s during ÷ before, and the recovery time. Nothing asserts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import COINS, price_path  # noqa: E402
from bench._env import World  # noqa: E402
from bench._load import LoadResult, paths_in_process  # noqa: E402

GOAL_SHARE_200 = 0.9
# Longest wait for the degraded mark to go after Redis is back (seconds; the gateway promises 5).
RECOVERY_WAIT_S = 15.0
# Requests one phase may send at most: the loop is bounded by this as well as by its duration.
MAX_REQUESTS = 2_000_000


def _share_200(result: LoadResult) -> float:
    total = result.requests + result.errors
    return result.statuses.get(200, 0) / total if total else 0.0


def _phase(port: int, paths: list[str], connections: int, duration_s: float) -> LoadResult:
    cycle = (paths * (MAX_REQUESTS // len(paths) + 1))[:MAX_REQUESTS]
    return paths_in_process(port, cycle, connections, duration_s)


def _recovery_s(url: str, path: str) -> float | None:
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=5, trust_env=False) as client:
        while time.monotonic() - started < RECOVERY_WAIT_S:
            answer = client.get(path)
            if answer.status_code == 200 and "x-cryptohub-degraded" not in answer.headers:
                return time.monotonic() - started
            time.sleep(0.05)
    return None


def run(duration_s: float, connections: int) -> list[tuple[str, str]]:
    cached = [price_path([coin]) for coin in COINS]
    misses = [price_path([coin], vs="eur") for coin in COINS]
    with World(workers=2, restartable_redis=True) as world:
        port = world.cryptohub.port
        warm = paths_in_process(port, cached * 4, connections, 30)
        if warm.statuses.get(200, 0) != len(cached) * 4:
            raise SystemExit(f"warm-up failed: {dict(warm.statuses)} {warm.failures[:2]}")
        before = _phase(port, cached, connections, duration_s)
        world.redis.stop()
        during = _phase(port, cached, connections, duration_s)
        missed = paths_in_process(port, misses, min(connections, len(misses)), 30)
        world.redis.start()
        recovery = _recovery_s(world.cryptohub.url, cached[0])
        after = _phase(port, cached, connections, min(duration_s, 5.0))
    share = _share_200(during)
    return [
        ("before: share 200 / req/s", f"{_share_200(before):.3f} / {before.rps:,.0f}"),
        (f"outage {duration_s:.0f} s, keys cached before: share 200 (goal >= {GOAL_SHARE_200})",
         f"{share:.3f} ({during.statuses.get(200, 0):,} of {during.requests + during.errors:,}) "
         f"{'met' if share >= GOAL_SHARE_200 else 'NOT met'}"),
        ("outage: req/s, and ÷ before", f"{during.rps:,.0f}, {during.rps / before.rps if before.rps else 0:.2f}"),
        ("outage: never-asked keys (misses) answered 200", f"{missed.statuses.get(200, 0)} of {len(misses)}"),
        ("after: first shared (non-degraded) answer", "none" if recovery is None else f"{recovery:.2f} s"),
        ("after: share 200 / req/s", f"{_share_200(after):.3f} / {after.rps:,.0f}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_outage", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the outage (and of the baseline)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections of the load")
    args = parser.parse_args()
    rows = run(args.duration, args.connections)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
