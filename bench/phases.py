"""Where the added latency of a miss goes: `python -m bench.phases [--misses N]` (about 30 s).

The benchmark's world (bench/_env.py) with one uvicorn worker serving bench/_phase_app.py (the
cryptohub app with a stopwatch on each phase). N sequential misses, each a never-seen key, as in
figure (b); then the p50/p90 of every phase as the server saw it, beside what the client saw
and two baselines measured in the same run: a request to hello-world (the cost of one HTTP hop
through uvicorn) and the same upstream call made directly. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench._common import Keys
from bench._env import Server, World
from bench._load import percentile

WARMUP = 20
# Served by bench/_phase_app.py (which imports Django, so this module must not import it).
PHASES_PATH = "/_bench/phases"


async def _timed_gets(client: httpx.AsyncClient, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        t0 = time.perf_counter()
        response = await client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return times[WARMUP:]


async def _measure(world: World, timed: Server, misses: int) -> dict[str, list[float]]:
    from providers.registry import get_adapter

    adapter, base = get_adapter("coingecko"), world.upstream.base_url("coingecko")
    direct, direct_keys, keys = [], Keys(), Keys()  # the same coin sets both ways, as in figure (b)
    for _ in range(WARMUP + misses):
        spec = adapter.build_request("price", {"ids": direct_keys.ids(), "vs": "usd"})
        direct.append(f"{base}{spec.path}?{urlencode(spec.params)}")
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        seen = {
            "baseline: hello-world request (one HTTP hop)": await _timed_gets(
                client, [world.hello.url + "/"] * (WARMUP + misses)),
            "baseline: the upstream call made directly": await _timed_gets(client, direct),
        }
        await client.delete(timed.url + PHASES_PATH)
        seen["client: a miss through cryptohub"] = await _timed_gets(
            client, [timed.url + keys.path() for _ in range(WARMUP + misses)])
        server = (await client.get(timed.url + PHASES_PATH)).json()
    return {**seen, **{label: values[WARMUP:] for label, values in server.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phases", description=__doc__.split("\n")[0])
    parser.add_argument("--misses", type=int, default=500, help="timed sequential misses")
    args = parser.parse_args()
    with World(workers=1) as world:
        env = {**os.environ, **world.env}
        log_dir = Path(world.env["DATABASE_URL"].removeprefix("sqlite:///")).parent
        timed = Server("bench._phase_app:application", workers=1, env=env, ready_path="/api/data/", log_dir=log_dir)
        try:
            rows = asyncio.run(_measure(world, timed, args.misses))
        finally:
            timed.stop()
    print(f"\n{args.misses} sequential misses (never-seen keys), 1 worker; wall time in ms\n")
    print(f"{'phase':60s} {'p50':>7s} {'p90':>7s}")
    for label, values in rows.items():
        print(f"{label:60s} {percentile(values, 50):7.2f} {percentile(values, 90):7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
