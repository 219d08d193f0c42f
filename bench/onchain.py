"""Cache-hit throughput of the on-chain endpoints (address, tx) beside hello-world, in one run.

    .venv/bin/python -m bench.onchain [--duration 5] [--warmup 1] [--connections 64] [--loadgen auto]

The benchmark's world (bench/_env.py: its own redis-server, fake upstream and a 2-worker uvicorn
serving cryptohub with the shipped catalogue, its address and tx pools included). Each path is
made a fresh hit first (a miss, then a request that must answer `X-Cryptohub-Cache: cache`), then
warmed up and run once; hello-world is measured the same way before and after all paths and the
faster of the two is the baseline. The upstream must receive no call during the runs. Asserts
nothing; prints req/s and the ratio to hello-world per path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench._common import HELLO_PATH, Options, generate  # noqa: E402
from bench._env import World  # noqa: E402
from tests.fake_upstream import chain_accounts as ledger  # noqa: E402

# Hit paths with the fake's ledger entries: an EVM address (checksummed on every request), a
# bech32 address (checked with its polymod on every request), a transaction on each family.
PATHS = (
    ("address ethereum", f"/api/data/address?chain=ethereum&address={ledger.ETH_ADDRESS}"),
    ("address bitcoin", f"/api/data/address?chain=bitcoin&address={ledger.BTC_ADDRESS}"),
    ("address tron", f"/api/data/address?chain=tron&address={ledger.TRON_ADDRESS}"),
    ("tx ethereum", f"/api/data/tx?chain=ethereum&hash={ledger.ETH_TX}"),
    ("tx bitcoin", f"/api/data/tx?chain=bitcoin&hash={ledger.BTC_TX}"),
    # An existing capability's hit in the same run: tells a slow machine from a slow path.
    ("gas bitcoin (reference)", "/api/data/gas?chain=bitcoin"),
)
PRIME_ATTEMPTS = 5


def _prime(client: httpx.Client, path: str) -> str:
    served = "-"
    for _ in range(PRIME_ATTEMPTS):
        answer = client.get(path)
        served = answer.headers.get("x-cryptohub-cache", "-") if answer.status_code == 200 else str(answer.status_code)
        if served == "cache":
            break
    return served


def _run(opts: Options, port: int, path: str):
    if opts.warmup_s > 0:
        generate(opts, port, path, opts.warmup_s)
    return generate(opts, port, path, opts.duration_s)


def measure(world: World, opts: Options) -> list[str]:
    before = _run(opts, world.hello.port, HELLO_PATH)
    results = []
    with httpx.Client(base_url=world.cryptohub.url, trust_env=False, timeout=30) as client:
        for name, path in PATHS:
            served = _prime(client, path)
            if served != "cache":
                results.append((name, path, None, f"not a cache hit after {PRIME_ATTEMPTS} requests ({served})"))
                continue
            calls = world.upstream.calls()
            result = _run(opts, world.cryptohub.port, path)
            results.append((name, path, result, f"upstream calls during the run: {world.upstream.calls() - calls}, "
                                                 f"still served {_prime(client, path)} after it"))
    after = _run(opts, world.hello.port, HELLO_PATH)
    hello = max(before, after, key=lambda r: r.rps)
    lines = [f"load generator: {hello.tool}, {opts.connections} connections, {opts.warmup_s:g} s warm-up + one "
             f"{opts.duration_s:g} s run per path, uvicorn {world.workers} workers",
             f"hello-world: {before.rps:,.0f} req/s before, {after.rps:,.0f} after (the faster is the baseline)"]
    for name, path, r, check in results:
        if r is None:
            lines.append(f"{name}: {check}")
            continue
        lines.append(f"{name}: {r.rps:,.0f} req/s = {r.rps / hello.rps:.2f} x hello-world; p99 {r.p99_ms:.2f} ms, "
                     f"non-2xx {r.non_2xx}, errors {r.errors}; {check}  (GET {path[:60]}...)")
    return lines


def main(argv: list[str] | None = None) -> int:
    d = Options(duration_s=5.0, warmup_s=1.0)
    p = argparse.ArgumentParser(prog="python -m bench.onchain", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=d.duration_s, help="seconds per timed run")
    p.add_argument("--warmup", type=float, default=d.warmup_s, help="warm-up seconds before each run")
    p.add_argument("--connections", type=int, default=d.connections, help="load generator connections")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default=d.loadgen)
    args = p.parse_args(argv)
    opts = Options(duration_s=args.duration, warmup_s=args.warmup, connections=args.connections, loadgen=args.loadgen)
    with World() as world:
        lines = measure(world, opts)
    print("\ncryptohub on-chain benchmark: cache hits of address and tx vs hello-world")
    for line in lines:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
