"""What the activity log costs: cache-hit and cache-miss throughput with the log on and off, in one run.

    .venv/bin/python -m bench.activity_log [--rounds 3] [--duration 8] [--misses 500] [--connections 64]

The benchmark's world (bench/_env.py: its own redis-server, fake upstream and a 2-worker uvicorn
serving cryptohub). Each round starts the server twice, with CRYPTOHUB_ACTIVITY_LOG off and on (the
order alternates between rounds), and on each measures:

- hits: GET /api/data/price?ids=bitcoin (a fresh cache hit, the fast path) under a closed loop
  for --duration seconds (wrk when installed, else the Python load generator);
- misses: --misses distinct /api/data/markets queries, each asked once (every one goes to the
  fake upstream through the engine), over 32 keep-alive connections, after the cache is emptied.

Reports req/s of every run and, per kind, the median over rounds of on / off (goals: misses
>= 0.95, i.e. the log costs at most 5 %; hits >= 0.98, nothing measurable), and the entries the
log holds afterwards. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _load  # noqa: E402
from bench._common import Options as LoadOptions  # noqa: E402
from bench._common import hit_rps  # noqa: E402
from bench._env import DUMMY_API_KEY, Server, World  # noqa: E402

HIT_PATH = "/api/data/price?ids=bitcoin"
MISS_CONNECTIONS = 32
GOAL_MISSES, GOAL_HITS = 0.95, 0.98
CURRENCIES = ("usd", "eur", "gbp", "jpy")


@dataclass
class Options:
    rounds: int = 3
    duration_s: float = 8.0
    warmup_s: float = 2.0
    misses: int = 500
    connections: int = 64
    loadgen: str = "auto"


def _miss_paths(n: int) -> list[str]:
    """n distinct markets queries; the same for both settings (the cache is emptied before each
    run), so the upstream work compared is the same."""
    return [f"/api/data/markets?vs={CURRENCIES[(i // 250) % len(CURRENCIES)]}&limit={1 + i % 250}" for i in range(n)]


def _restart(world: World, *, log_on: bool) -> None:
    if world.cryptohub is not None:
        world.cryptohub.stop()
    from providers.models import Provider

    keys = sorted({p.api_key_env for p in Provider.objects.exclude(api_key_env="")})
    env = {**os.environ, **world.env, **dict.fromkeys(keys, DUMMY_API_KEY),
           "CRYPTOHUB_ACTIVITY_LOG": "True" if log_on else "False"}
    world.cryptohub = Server("cryptohub.asgi:application", workers=world.workers, env=env,
                             ready_path="/api/data/", log_dir=Path(world._tmp.name))


def _empty_cache(world: World) -> None:
    import redis

    client = redis.Redis.from_url(world.redis.url)
    try:
        keys = list(client.scan_iter(match="*cache:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _hits(world: World, opts: Options) -> float:
    load = LoadOptions(connections=opts.connections, loadgen=opts.loadgen, duration_s=opts.duration_s,
                       warmup_s=opts.warmup_s)
    return hit_rps(world, HIT_PATH, load)


def _misses(world: World, opts: Options, round_no: int, on: bool) -> tuple[float, str]:
    _empty_cache(world)
    paths = _miss_paths(opts.misses)
    started = time.monotonic()
    result = _load.paths_in_process(world.cryptohub.port, paths, MISS_CONNECTIONS, 300)
    elapsed = time.monotonic() - started
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items()))
    return result.requests / max(elapsed, 1e-9), statuses


def _entries(world: World) -> int:
    import redis

    client = redis.Redis.from_url(world.redis.url)
    try:
        return sum(client.xlen(k) for k in client.scan_iter(match="*activity"))
    finally:
        client.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.activity_log", description=__doc__.split("\n")[0])
    d = Options()
    p.add_argument("--rounds", type=int, default=d.rounds)
    p.add_argument("--duration", type=float, default=d.duration_s, dest="duration_s")
    p.add_argument("--misses", type=int, default=d.misses)
    p.add_argument("--connections", type=int, default=d.connections)
    p.add_argument("--loadgen", choices=["auto", "wrk", "python"], default=d.loadgen)
    opts = Options(**{k: v for k, v in vars(p.parse_args(argv)).items() if k in Options.__annotations__})
    ratios: dict[str, list[float]] = {"hits": [], "misses": []}
    with World() as world:
        for round_no in range(opts.rounds):
            figures: dict[bool, dict[str, float]] = {}
            for on in ((False, True) if round_no % 2 == 0 else (True, False)):
                _restart(world, log_on=on)
                hits = _hits(world, opts)
                misses, statuses = _misses(world, opts, round_no, on)
                figures[on] = {"hits": hits, "misses": misses}
                print(f"round {round_no + 1}, log {'on ' if on else 'off'}: hits {hits:8.0f} req/s, "
                      f"misses {misses:7.1f} req/s ({statuses})", flush=True)
            for kind in ratios:
                ratios[kind].append(figures[True][kind] / figures[False][kind])
        entries = _entries(world)
    print()
    print("| figure | on / off (median of rounds) | rounds | goal |")
    print("| --- | --- | --- | --- |")
    for kind, goal in (("misses", GOAL_MISSES), ("hits", GOAL_HITS)):
        values = ", ".join(f"{v:.3f}" for v in ratios[kind])
        median = statistics.median(ratios[kind])
        print(f"| {kind} throughput | {median:.3f} | {values} | >= {goal} ({'met' if median >= goal else 'not met'}) |")
    print(f"\nactivity log entries at the end: {entries}")


if __name__ == "__main__":
    main()
