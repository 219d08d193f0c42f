"""Data-plane benchmark: the five figures of issue 3, in one run, against the local fake upstream.

    .venv/bin/python -m bench            (see bench/__main__.py for the options)

(a) cache-hit throughput of GET /api/data/price?ids=bitcoin,ethereum&vs=usd, uvicorn 2 workers,
    next to a Starlette hello-world served with the same flags: req/s of each and the ratio;
(b) added latency of a miss: the same upstream call made through cryptohub and directly, with
    the same client, interleaved, each with a never-seen cache key: p50/p99 of each and of the
    per-pair difference;
(c) upstream calls for 1,000 concurrent identical misses (connections opened first, then all
    requests written at once), once with the full pool and the upstream faster than the hedge
    floor, once with a single-member pool and a slow upstream;
(d) the primary provider hangs: the first requests (hedged, before the breaker opens), then p99
    with the breaker open divided by the healthy p99 (both sequential misses);
(e) 4 OS processes burst unique-key misses through the servers while coingecko allows
    "20/second" and coinpaprika "50/10 seconds": calls above the limit in any moving window, as
    time-stamped on arrival at the fake upstream;
(f) issue 4: cache-hit throughput of every data capability (price, markets, global, fear & greed,
    trending, TVL, gas for both chains, news, coin sentiment), each next to the hello-world
    baseline measured in the same figure: req/s of each and the ratio.

Nothing here asserts: every figure is printed, with its goal, and whether it was met. The figures
live in bench/_hits.py (a, f), bench/_misses.py (b-d) and bench/_ratelimit.py (e), what they share
in bench/_common.py.
"""

from __future__ import annotations

import os
import time

from bench import _load
from bench._common import Keys, Options, Row
from bench._env import World
from bench._hits import cache_hits, per_capability_hits
from bench._misses import concurrent_misses, hanging_primary, miss_latency
from bench._ratelimit import rate_limited_burst

__all__ = ["FIGURES", "Options", "Row", "run"]


FIGURES = {"a": cache_hits, "b": miss_latency, "c": concurrent_misses, "d": hanging_primary, "e": rate_limited_burst,
           "f": per_capability_hits}


def run(opts: Options) -> tuple[list[Row], dict[str, str]]:
    """Build the world, run the selected figures in order, tear it down; (rows, run facts)."""
    rows: list[Row] = []
    keys = Keys()
    busy0, own0, wall0 = _load.machine_busy_s(), _load.process_tree_cpu_s(os.getpid()), time.perf_counter()
    with World() as world:
        info = {"cryptohub": world.cryptohub.flags(), "hello": world.hello.flags()}
        for letter in FIGURES:
            if letter not in opts.only:
                continue
            t0 = time.perf_counter()
            print(f"running ({letter}) ...", flush=True)
            figure = FIGURES[letter]
            made = figure(world, opts) if letter == "a" else figure(world, opts, keys)
            for row in made if isinstance(made, list) else [made]:
                print(f"  {row.figure}: {row.result}  [{time.perf_counter() - t0:.0f} s]", flush=True)
                rows.append(row)
        busy1, own1, wall1 = _load.machine_busy_s(), _load.process_tree_cpu_s(os.getpid()), time.perf_counter()
    if None not in (busy0, busy1, own0, own1):
        # What the rest of the machine did meanwhile: on a shared box it is the main source of noise.
        others = max(0.0, (busy1 - busy0) - (own1 - own0))
        info["background"] = (f"other processes used {others:.0f} CPU-s during the {wall1 - wall0:.0f} s run "
                              f"({others / (wall1 - wall0) / (os.cpu_count() or 1):.0%} of the machine)")
    return rows, info
