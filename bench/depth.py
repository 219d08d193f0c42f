"""Market depth: cache-hit throughput of /api/data/candles and /api/data/orderbook beside hello-world.

    .venv/bin/python -m bench.depth [--duration 5] [--warmup 1] [--connections 64] [--loadgen auto]

The benchmark's world (bench/_env.py: its own redis-server, fake upstream and a 2-worker uvicorn
serving cryptohub over the shipped catalogue, whose candles and orderbook pools it includes).
Hello-world is measured before and after the capabilities, the faster run is the baseline; each
path is primed until it is a fresh cache hit, then timed once. Prints req/s, the ratio to
hello-world, and the upstream calls made during the runs (0: every answer came from the cache).
A candle answer is larger than a price answer (100 candles by default), so its ratio says what
the body size costs. Asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._common import HELLO_PATH, Options  # noqa: E402
from bench._env import World  # noqa: E402
from bench._hits import _measure, _prime  # noqa: E402

PATHS = (
    # The price hit of figure (a), measured the same way: what the depth figures compare with.
    ("price (reference)", "/api/data/price?ids=bitcoin,ethereum&vs=usd"),
    ("candles 1h x24", "/api/data/candles?id=bitcoin&vs=usd&interval=1h&limit=24"),
    ("candles 1m x100", "/api/data/candles?id=ethereum&vs=usd&interval=1m"),
    ("orderbook depth 10", "/api/data/orderbook?id=bitcoin&vs=usd&depth=10"),
)


def measure(world: World, opts: Options) -> list[str]:
    before = _measure(world, opts, world.hello, HELLO_PATH)
    lines, results = [], []
    with httpx.Client(base_url=world.cryptohub.url, trust_env=False, timeout=30) as client:
        for name, path in PATHS:
            answer, served = _prime(client, path)
            if answer.status_code != 200 or served != "cache":
                lines.append(f"{name}: not a cache hit ({answer.status_code} {served}): {answer.text[:160]}")
                continue
            calls0 = world.upstream.calls()
            m = _measure(world, opts, world.cryptohub, path)
            results.append((name, path, m, world.upstream.calls() - calls0, len(answer.content),
                            answer.headers.get("x-cryptohub-source", "-")))
    after = _measure(world, opts, world.hello, HELLO_PATH)
    hello = max(before, after, key=lambda m: m.result.rps).result
    lines.insert(0, f"hello-world: {before.result.rps:,.0f} req/s before, {after.result.rps:,.0f} after "
                    f"(baseline {hello.rps:,.0f}; load generator {hello.tool}, {opts.connections} connections, "
                    f"{opts.capability_warmup_s:g} s warm-up + {opts.capability_duration_s:g} s per run)")
    for name, path, m, calls, size, source in results:
        r = m.result
        ratio = r.rps / hello.rps if hello.rps else float("nan")
        lines.append(f"{name}: {r.rps:,.0f} req/s = {ratio:.2f} x hello-world; p50 {r.p50_ms:.2f} ms p99 "
                     f"{r.p99_ms:.2f} ms; non-2xx {r.non_2xx}, errors {r.errors}; upstream calls {calls}; "
                     f"{size:,} byte body from {source}; GET {path}")
    return lines


def main(argv: list[str] | None = None) -> int:
    d = Options()
    p = argparse.ArgumentParser(prog="python -m bench.depth", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=d.capability_duration_s, help="seconds per timed run")
    p.add_argument("--warmup", type=float, default=d.capability_warmup_s, help="warm-up seconds before each run")
    p.add_argument("--connections", type=int, default=d.connections, help="load generator connections")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default=d.loadgen)
    args = p.parse_args(argv)
    opts = Options(connections=args.connections, loadgen=args.loadgen, capability_duration_s=args.duration,
                   capability_warmup_s=args.warmup)
    with World() as world:
        lines = measure(world, opts)
    print("\ncryptohub market depth benchmark: cache hits per capability vs hello-world")
    for line in lines:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
