"""DeFi cache-hit benchmark: throughput of each new DeFi path, all hits, beside a hello-world baseline.

    .venv/bin/python -m bench.defi [--duration 5] [--warmup 1] [--connections 64] [--loadgen auto]

The benchmark's world (bench/_env.py: its own redis-server, the fake upstream, the shipped
catalogue's pools, cryptohub and bench/hello.py under uvicorn with the same flags). Each DeFi path
is made a fresh cache hit (a miss, then a hit), warmed up, then timed once; hello-world is timed
the same way before and after all of them and the faster of the two is the baseline, so a slow
baseline never flatters a ratio. The fake upstream must receive 0 calls during each run. Prints
req/s, the ratio to hello-world, p50/p99 and Redis commands per answer. Asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._common import HELLO_PATH, Options  # noqa: E402
from bench._env import World  # noqa: E402
from bench._hits import _measure, _prime  # noqa: E402

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
DEFI_PATHS = (
    ("dex", f"/api/data/dex?chain=ethereum&token={WETH}"),
    ("stablecoins", "/api/data/stablecoins?limit=20"),
    ("yields", "/api/data/yields?chain=ethereum&limit=10"),
)


def measure(world: World, opts: Options) -> list[str]:
    hello_before = _measure(world, opts, world.hello, HELLO_PATH)
    lines = []
    with httpx.Client(base_url=world.cryptohub.url, trust_env=False, timeout=30) as client:
        runs = []
        for name, path in DEFI_PATHS:
            answer, served = _prime(client, path)
            if answer.status_code != 200 or served != "cache":
                lines.append(f"{name}: GET {path}: not a cache hit ({answer.status_code} {served}), not measured")
                continue
            calls0 = world.upstream.calls()
            runs.append((name, path, _measure(world, opts, world.cryptohub, path), world.upstream.calls() - calls0,
                         answer.headers.get("x-cryptohub-source", "-")))
    hello_after = _measure(world, opts, world.hello, HELLO_PATH)
    hello = max(hello_before, hello_after, key=lambda m: m.result.rps).result
    lines.insert(0, f"load generator: {hello.tool}, {opts.connections} connections, {opts.capability_warmup_s:g} s "
                    f"warm-up + one {opts.capability_duration_s:g} s run per path; hello-world "
                    f"{hello_before.result.rps:,.0f} req/s before, {hello_after.result.rps:,.0f} after "
                    f"(baseline {hello.rps:,.0f})")
    for name, path, m, calls, source in runs:
        r = m.result
        ratio = r.rps / hello.rps if hello.rps else math.nan
        lines.append(f"{name}: GET {path} (source {source}): {r.rps:,.0f} req/s = {ratio:.2f} x hello-world; "
                     f"p50 {r.p50_ms:.2f} ms p99 {r.p99_ms:.2f} ms; non-2xx {r.non_2xx}, errors {r.errors}; "
                     f"upstream calls {calls}; {m.commands}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.defi", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=5.0, help="seconds per timed run")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds before each run")
    p.add_argument("--connections", type=int, default=64, help="load generator connections")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    args = p.parse_args(argv)
    opts = Options(connections=args.connections, loadgen=args.loadgen, capability_duration_s=args.duration,
                   capability_warmup_s=args.warmup)
    with World() as world:
        lines = measure(world, opts)
    print("\ncryptohub DeFi benchmark: cache hits per capability vs hello-world")
    for line in lines:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
