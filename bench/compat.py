"""What the drop-in APIs cost: compat cache hits beside the native hits they reshape, and the time a
compat miss adds to a native miss, in one run.

    .venv/bin/python -m bench.compat [--rounds 4] [--duration 4] [--connections 64] [--misses 200]

The benchmark's world (bench/_env.py: its own redis-server, fake upstream and a 2-worker uvicorn
serving the shipped catalogue). Hits: each pair below (native path, compat path asking the same
normalized answer) is primed until both are fresh cache hits, then each is timed under a closed
loop (wrk when installed), in alternating order per round; the figure is the median over rounds
of compat req/s ÷ native req/s (goal >= 0.9). Misses: sequential pairs of a never-seen native
price and a never-seen compat simple/price (a different coin set each, the same upstream call
shape), alternating which goes first; the figure is the median and p90 of compat − native per
pair (goal: median <= 0.3 ms). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._common import Keys, hit_rps, price_path, prime_hit  # noqa: E402
from bench._common import Options as LoadOptions  # noqa: E402
from bench._env import World  # noqa: E402
from bench._load import percentile  # noqa: E402

CG = "/compat/coingecko/api/v3"
BN = "/compat/binance/api/v3"
# (name, native path, compat path): each compat path reshapes the native path's cache entry.
PAIRS = (
    ("coingecko simple/price", "/api/data/price?ids=bitcoin,ethereum&vs=usd",
     f"{CG}/simple/price?ids=bitcoin,ethereum&vs_currencies=usd"),
    ("binance ticker/price", "/api/data/ticker?id=bitcoin&vs=usdt", f"{BN}/ticker/price?symbol=BTCUSDT"),
    ("binance klines 1h", "/api/data/candles?id=bitcoin&vs=usdt&interval=1h&limit=24",
     f"{BN}/klines?symbol=BTCUSDT&interval=1h&limit=24"),
)
GOAL_HIT_RATIO = 0.9
GOAL_MISS_ADDED_MS = 0.3
MISS_WARMUP = 10


def hit_ratios(world: World, rounds: int, duration_s: float, connections: int) -> list[str]:
    lines = []
    load = LoadOptions(connections=connections, duration_s=duration_s, warmup_s=1.0)
    with httpx.Client(base_url=world.cryptohub.url, timeout=30, trust_env=False) as client:
        for name, native, compat in PAIRS:
            if not (prime_hit(world, native) and prime_hit(world, compat)):
                answer = client.get(compat)
                lines.append(f"| {name} | not a cache hit: {answer.status_code} {answer.text[:120]} | | |")
                continue
            ratios, figures = [], []
            for round_no in range(rounds):
                order = (native, compat) if round_no % 2 == 0 else (compat, native)
                rps = {path: hit_rps(world, path, load) for path in order}
                ratios.append(rps[compat] / max(rps[native], 1e-9))
                figures.append(f"{rps[native]:.0f}/{rps[compat]:.0f}")
            median = statistics.median(ratios)
            verdict = "met" if median >= GOAL_HIT_RATIO else "not met"
            lines.append(f"| {name} | {median:.3f} | {', '.join(f'{r:.3f}' for r in ratios)} "
                         f"(native/compat req/s: {', '.join(figures)}) | >= {GOAL_HIT_RATIO} ({verdict}) |")
    return lines


def miss_added(world: World, n: int) -> str:
    keys = Keys()
    added, native_ms, compat_ms, refused = [], [], [], 0
    with httpx.Client(base_url=world.cryptohub.url, timeout=30, trust_env=False) as client:
        def timed(path: str) -> float:
            nonlocal refused
            t0 = time.perf_counter()
            answer = client.get(path)
            ms = (time.perf_counter() - t0) * 1000
            if answer.status_code != 200 or answer.headers.get("x-cryptohub-cache") != "live":
                refused += 1
            return ms

        for i in range(MISS_WARMUP + n):
            native = price_path(keys.ids())
            compat = f"{CG}/simple/price?ids={','.join(keys.ids())}&vs_currencies=usd"
            if i % 2:
                a, b = timed(native), timed(compat)
            else:
                b, a = timed(compat), timed(native)
            if i >= MISS_WARMUP:
                native_ms.append(a)
                compat_ms.append(b)
                added.append(b - a)
    median = statistics.median(added)
    verdict = "met" if median <= GOAL_MISS_ADDED_MS else "not met"
    return (f"compat miss − native miss over {n} pairs: median {median:+.3f} ms, p90 {percentile(added, 90):+.3f} ms "
            f"(native p50 {percentile(native_ms, 50):.2f} ms, compat p50 {percentile(compat_ms, 50):.2f} ms; "
            f"answers not a live 200: {refused}); goal median <= {GOAL_MISS_ADDED_MS} ms ({verdict})")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.compat", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--misses", type=int, default=200)
    args = p.parse_args(argv)
    with World() as world:
        lines = hit_ratios(world, args.rounds, args.duration, args.connections)
        misses = miss_added(world, args.misses)
    print("\n| cache hits | compat ÷ native, median | rounds | goal |")
    print("| --- | --- | --- | --- |")
    for line in lines:
        print(line)
    print()
    print(misses)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptohub.settings")
    main()
