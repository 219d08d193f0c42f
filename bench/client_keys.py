"""What a client key costs: cache-hit throughput with an API key vs anonymous, in one run.

    .venv/bin/python -m bench.client_keys [--duration 10] [--rounds 4] [--connections 64]
    .venv/bin/python -m bench --client-keys          (the same, from the benchmark's entry point)

The benchmark's world (bench/_env.py: its own redis-server, fake upstream and a 2-worker uvicorn
serving cryptohub), one ApiClient created through the ORM as the admin would, then alternating
rounds of GET /api/data/price?ids=bitcoin (a cache hit) without a key and with `X-API-Key`.
Both kinds are limited (the anonymous per-IP limits and the client's own, set far above what
the run can reach), so both run the inbound check: the difference is the key's lookup and the
client's counters. Reports req/s of each run, the median over rounds of keyed / anonymous (the two
runs of a round back to back; goal >= 0.95) and the Redis commands per answer. Uses wrk when
installed, else the Python load generator. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import _load  # noqa: E402
from bench._common import per_answer, redis_commands  # noqa: E402
from bench._env import RELOAD_WAIT_S, World  # noqa: E402
from bench._load import LoadResult  # noqa: E402

HIT_PATH = "/api/data/price?ids=bitcoin"
GOAL_RATIO = 0.95
# Far above any rate this machine can reach in a run: every request is counted, none refused.
UNREACHABLE_LIMIT = "1000000000/minute"
PRIME_ATTEMPTS = 5


@dataclass
class Options:
    duration_s: float = 10.0
    warmup_s: float = 2.0
    rounds: int = 4
    connections: int = 64
    loadgen: str = "auto"  # auto | wrk | python


def _wrk(port: int, path: str, header: str | None, opts: Options, seconds: float) -> LoadResult:
    """wrk with an optional request header (bench/_load.wrk sends none); the same summary parsed."""
    command = [_load.wrk_path(), "-t2", f"-c{opts.connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["-H", header] if header else []
    text = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                          timeout=seconds + 60, check=True).stdout
    result = LoadResult("wrk")
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", text)
    if total is None:
        raise RuntimeError(f"cannot read wrk output:\n{text}")
    result.requests = int(total.group(1))
    result.elapsed_s = float(total.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[total.group(3)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    result.statuses[200] = result.requests - (int(bad.group(1)) if bad else 0)
    result.statuses[0] = int(bad.group(1)) if bad else 0
    for name, attr in (("50%", "p50_ms"), ("99%", "p99_ms")):
        lat = re.search(rf"^\s*{name}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if lat:
            setattr(result, attr, float(lat.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[lat.group(2)])
    return result


async def _python(port: int, path: str, header: str | None, opts: Options, seconds: float) -> LoadResult:
    """bench/_load's closed loop, its request carrying the header (same connections, no pipelining)."""
    request = _load.request_bytes(port, path)
    if header:
        request = request[:-2] + header.encode() + b"\r\n\r\n"
    loop = asyncio.get_running_loop()
    run = _load._Run(request, 10**9, seconds)
    started = time.perf_counter()
    for _ in range(opts.connections):
        await loop.create_connection(lambda: _load._Conn(run), "127.0.0.1", port)
    await asyncio.wait_for(run.done, seconds + _load.DRAIN_TIMEOUT_S)
    ms = [x * 1000 for x in run.latencies]
    return LoadResult("python", len(ms), max(run.last_answer - started, 1e-9), run.statuses, run.errors,
                      _load.percentile(ms, 50), _load.percentile(ms, 99))


def _generate(port: int, header: str | None, opts: Options, seconds: float, path: str = HIT_PATH) -> LoadResult:
    if opts.loadgen == "wrk" or (opts.loadgen == "auto" and _load.wrk_path()):
        return _wrk(port, path, header, opts, seconds)
    return asyncio.run(_python(port, path, header, opts, seconds))


def _create_client() -> str:
    from healing.models import ApiClient

    client = ApiClient(name="bench", limits=UNREACHABLE_LIMIT)
    key = client.set_new_key()
    client.save()  # bumps the config version: every server process reloads its clients
    return key


def _prime(world: World, header: dict[str, str]) -> None:
    import httpx

    with httpx.Client(base_url=world.cryptohub.url, trust_env=False, timeout=30) as client:
        for _ in range(PRIME_ATTEMPTS):
            answer = client.get(HIT_PATH, headers=header)
            if answer.status_code == 200 and answer.headers.get("x-cryptohub-cache") == "cache":
                return
    raise RuntimeError(f"not a cache hit after {PRIME_ATTEMPTS} requests: {answer.status_code} {answer.text[:200]}")


def measure(world: World, opts: Options) -> list[str]:
    """Alternating anonymous / keyed rounds; the report's lines."""
    key = _create_client()
    time.sleep(RELOAD_WAIT_S)
    kinds = {"anonymous": None, "with key": f"X-API-Key: {key}"}
    for header in kinds.values():
        _prime(world, dict([header.split(": ", 1)]) if header else {})
    runs: dict[str, list[tuple[LoadResult, str]]] = {name: [] for name in kinds}
    for round_no in range(opts.rounds):
        # ABBA order: a machine getting busier or quieter during the run favours neither kind.
        for name in list(kinds) if round_no % 2 == 0 else list(kinds)[::-1]:
            if opts.warmup_s > 0:
                _generate(world.cryptohub.port, kinds[name], opts, opts.warmup_s)
            before = redis_commands(world)
            result = _generate(world.cryptohub.port, kinds[name], opts, opts.duration_s)
            runs[name].append((result, per_answer(before, redis_commands(world), result.requests)))
    # Context only (not in the ratio): what this machine gives a hello-world right now.
    hello = _generate(world.hello.port, None, opts, opts.duration_s, path="/")
    # Each round's two runs were measured back to back: their ratio, then the median over rounds.
    ratios = [k.rps / a.rps if a.rps else math.nan
              for (a, _), (k, _) in zip(runs["anonymous"], runs["with key"], strict=True)]
    ratio = statistics.median(ratios)
    lines = [f"load generator: {hello.tool}, {opts.connections} keep-alive connections, "
             f"{opts.warmup_s:g} s warm-up + {opts.duration_s:g} s per run, {opts.rounds} rounds (ABBA), "
             f"GET {HIT_PATH} (a cache hit), uvicorn {world.workers} workers; per round keyed / anonymous, "
             "the median over rounds"]
    for name, results in runs.items():
        for i, (r, commands) in enumerate(results):
            lines.append(f"{name} run {i + 1}: {r.rps:,.0f} req/s, p50 {r.p50_ms:.2f} ms, p99 {r.p99_ms:.2f} ms, "
                         f"non-2xx {r.non_2xx}, errors {r.errors}; {commands}")
    lines.append(f"context: hello-world (bench/hello.py, same flags) {hello.rps:,.0f} req/s right after")
    met = "yes" if ratio >= GOAL_RATIO else "NO"
    lines.append(f"per-round ratios keyed / anonymous: {', '.join(f'{r:.3f}' for r in ratios)}")
    lines.append(f"median ratio {ratio:.3f} (goal >= {GOAL_RATIO:g}: {met})")
    return lines


def main(argv: list[str] | None = None) -> int:
    d = Options()
    p = argparse.ArgumentParser(prog="python -m bench.client_keys", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=d.duration_s, help="seconds per timed run")
    p.add_argument("--warmup", type=float, default=d.warmup_s, help="warm-up seconds before each run")
    p.add_argument("--rounds", type=int, default=d.rounds, help="alternating rounds of both kinds")
    p.add_argument("--connections", type=int, default=d.connections, help="load generator connections")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default=d.loadgen)
    args = p.parse_args(argv)
    opts = Options(args.duration, args.warmup, args.rounds, args.connections, args.loadgen)
    # The servers inherit this: the anonymous runs must be counted, not refused (the default is 600/minute).
    os.environ["CRYPTOHUB_ANON_LIMITS"] = f"read={UNREACHABLE_LIMIT}"
    with World() as world:
        lines = measure(world, opts)
    print("\ncryptohub client-key benchmark: cache hits with an API key vs anonymous")
    for line in lines:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
