"""What the asset registry costs a request: cache-hit throughput of the same coin named by id, by
symbol and by contract, and the lookup itself on a registry of a full listing's size, in one run.

    .venv/bin/python -m bench.asset_registry [--rounds 3] [--duration 6] [--assets 15000]

The benchmark's world (bench/_env.py: its own redis-server, fake upstream and a 2-worker uvicorn).
Per round, in rotating order: GET /api/data/price?ids=tether, ?ids=USDT and
?ids=eth:0xdac17f...; each a fresh cache hit, under a closed loop for --duration seconds (wrk when
installed). Reports req/s, the median over rounds of symbol / id and contract / id (goal: >= 0.98,
nothing measurable), and `resolve()` per lookup on a registry of --assets synthetic assets plus
the shipped ones, as a share of one hit's time. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import Options as LoadOptions  # noqa: E402
from bench._common import hit_rps  # noqa: E402
from bench._env import World  # noqa: E402

USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
PATHS = {"id": "/api/data/price?ids=tether", "symbol": "/api/data/price?ids=USDT",
         "contract": f"/api/data/price?ids=eth:{USDT}"}
GOAL = 0.98


def _hits(world: World, path: str, duration_s: float, connections: int) -> float:
    return hit_rps(world, path, LoadOptions(connections=connections, duration_s=duration_s, warmup_s=1.0))


def _lookup_us(n_assets: int) -> dict[str, float]:
    from providers import assets

    shipped = list(assets.shipped())
    synthetic = [assets.Asset(f"coin-{i}", f"C{i}", f"Coin {i}", platforms={"ethereum": f"0x{i:040x}"})
                 for i in range(n_assets)]
    registry = assets.Registry(shipped + synthetic)
    tokens = {"id": "tether", "symbol": "USDT", "contract": f"eth:{USDT}"}
    out = {}
    for kind, token in tokens.items():
        runs = timeit.repeat(lambda t=token: registry.resolve(t), number=20000, repeat=5)
        out[kind] = min(runs) / 20000 * 1e6
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.asset_registry", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=6.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--assets", type=int, default=15000)
    args = p.parse_args(argv)
    ratios: dict[str, list[float]] = {"symbol": [], "contract": []}
    best_id = 0.0
    with World() as world:
        for round_no in range(args.rounds):
            # Each kind goes first, second and third equally often: the first run of a round is not
            # the same as the last on this box (the server's state after two runs differs).
            kinds = list(PATHS)
            order = kinds[round_no % 3:] + kinds[:round_no % 3]
            figures = {kind: _hits(world, PATHS[kind], args.duration, args.connections) for kind in order}
            best_id = max(best_id, figures["id"])
            print(f"round {round_no + 1}: " + ", ".join(f"{k} {v:8.0f} req/s" for k, v in figures.items()), flush=True)
            for kind in ratios:
                ratios[kind].append(figures[kind] / figures["id"])
    lookups = _lookup_us(args.assets)
    # One hit's share of the server: 2 workers serve best_id req/s, so one hit takes 2 / best_id s of a core.
    hit_us = 2 / max(best_id, 1e-9) * 1e6
    print()
    print("| figure | median of rounds | rounds | goal |")
    print("| --- | --- | --- | --- |")
    for kind, values in ratios.items():
        median = statistics.median(values)
        listed = ", ".join(f"{v:.3f}" for v in values)
        print(f"| hits by {kind} / by id | {median:.3f} | {listed} | >= {GOAL} ({'met' if median >= GOAL else 'not met'}) |")
    print()
    print(f"registry of {args.assets + 40} assets: resolve() per lookup "
          + ", ".join(f"{k} {v:.2f} us ({v / hit_us:.2%} of a hit's {hit_us:.0f} us)" for k, v in lookups.items()))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptohub.settings")
    main()
