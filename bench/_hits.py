"""Figures (a) and (f): cache-hit throughput of the price path, then of every capability, beside hello-world."""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from bench import _load
from bench._common import (
    HELLO_PATH,
    HIT_PATH,
    Keys,
    Options,
    Row,
    generate,
    met,
    per_answer,
    redis_commands,
)
from bench._env import World
from bench._load import LoadResult

GOAL_HIT_RATIO = 1.0


# --- (a) cache-hit throughput ---------------------------------------------------------------


def cache_hits(world: World, opts: Options) -> Row:
    with httpx.Client(base_url=world.cryptohub.url, trust_env=False, timeout=10) as client:
        client.get(HIT_PATH).raise_for_status()
        warm = client.get(HIT_PATH)
    if warm.headers.get("x-cryptohub-cache") != "cache":
        raise RuntimeError(f"the hit path is not served from the cache: {warm.headers}")
    calls_before = world.upstream.calls()
    redis_pid = world.redis._process.pid
    runs: dict[str, list[LoadResult]] = {"hello": [], "cryptohub": []}
    cpu: dict[str, list[tuple[float, float]]] = {"hello": [], "cryptohub": []}
    commands: dict[str, str] = {}
    for _ in range(opts.rounds):
        for name, server, path in (("hello", world.hello, HELLO_PATH), ("cryptohub", world.cryptohub, HIT_PATH)):
            if opts.warmup_s > 0:
                generate(opts, server.port, path, opts.warmup_s)
            s0, r0 = _load.process_tree_cpu_s(server.pid), _load.process_tree_cpu_s(redis_pid)
            c0 = redis_commands(world)
            result = generate(opts, server.port, path, opts.duration_s)
            s1, r1 = _load.process_tree_cpu_s(server.pid), _load.process_tree_cpu_s(redis_pid)
            commands[name] = per_answer(c0, redis_commands(world), result.requests)
            runs[name].append(result)
            if None not in (s0, s1, r0, r1):
                cpu[name].append((s1 - s0, r1 - r0))
    upstream_calls = world.upstream.calls() - calls_before

    best = {name: max(results, key=lambda r: r.rps) for name, results in runs.items()}
    ratio = best["cryptohub"].rps / best["hello"].rps if best["hello"].rps else math.nan
    tool = best["hello"].tool
    details = [f"load generator: {tool}, {opts.connections} keep-alive connections, no pipelining, "
               f"{opts.warmup_s:g} s warm-up + {opts.duration_s:g} s per run, {opts.rounds} round(s) "
               "alternating; best run of each shown"]
    for name, results in runs.items():
        for i, r in enumerate(results):
            line = (f"{name} run {i + 1}: {r.rps:,.0f} req/s ({r.requests:,} answers in {r.elapsed_s:.1f} s), "
                    f"latency p50 {r.p50_ms:.2f} ms p99 {r.p99_ms:.2f} ms, non-2xx {r.non_2xx}, errors {r.errors}")
            if i < len(cpu[name]):
                server_cpu, redis_cpu = cpu[name][i]
                per_answer_us = server_cpu / max(r.requests, 1) * 1e6
                line += f"; CPU s: server {server_cpu:.1f} ({per_answer_us:.0f} us per answer), redis {redis_cpu:.1f}"
            if r.cpu_s is not None:
                line += f", load generator {r.cpu_s:.1f}"
            details.append(line)
    details.append(f"cryptohub hit: {commands['cryptohub']}")
    details.append(f"upstream calls during the hit runs: {upstream_calls} (every answer came from the cache)")
    result = (f"cryptohub {best['cryptohub'].rps:,.0f} req/s vs hello-world {best['hello'].rps:,.0f} req/s "
              f"= ratio {ratio:.2f}")
    return Row("(a) cache-hit throughput, 2 workers", result, f"ratio >= {GOAL_HIT_RATIO:g}",
               met(ratio >= GOAL_HIT_RATIO), details)


# --- (f) cache-hit throughput per capability (issue 4) -------------------------------------

# One hit path per capability, as an application would ask it (mostly the endpoints' own examples).
CAPABILITY_PATHS = (
    ("price", "/api/data/price?ids=bitcoin,ethereum&vs=usd"),
    ("markets", "/api/data/markets?vs=usd&limit=10"),
    ("global", "/api/data/global"),
    ("fear-greed", "/api/data/fear-greed?limit=7"),
    ("trending", "/api/data/trending"),
    ("tvl", "/api/data/tvl?protocol=aave-v3"),  # the fake lists Aave V3, not the parent
    ("gas ethereum", "/api/data/gas?chain=ethereum"),
    ("gas bitcoin", "/api/data/gas?chain=bitcoin"),
    ("news", "/api/data/news?limit=10&q=bitcoin"),
    ("sentiment", "/api/data/sentiment?ids=bitcoin"),
)
# Requests made at most to turn a path into a fresh hit before its run (a miss, then a hit).
PRIME_ATTEMPTS = 5


@dataclass
class _Measured:
    result: LoadResult
    server_cpu_s: float | None
    commands: str


def _prime(client: httpx.Client, path: str) -> tuple[httpx.Response, str]:
    """Ask `path` until the answer is a fresh cache hit; (the last answer, its X-Cryptohub-Cache)."""
    for _ in range(PRIME_ATTEMPTS):
        answer = client.get(path)
        served = answer.headers.get("x-cryptohub-cache", "-")
        if answer.status_code == 200 and served == "cache":
            break
    return answer, served


def _measure(world: World, opts: Options, server, path: str) -> _Measured:
    if opts.capability_warmup_s > 0:
        generate(opts, server.port, path, opts.capability_warmup_s)
    s0, c0 = _load.process_tree_cpu_s(server.pid), redis_commands(world)
    result = generate(opts, server.port, path, opts.capability_duration_s)
    s1, c1 = _load.process_tree_cpu_s(server.pid), redis_commands(world)
    cpu = s1 - s0 if None not in (s0, s1) else None
    return _Measured(result, cpu, per_answer(c0, c1, result.requests))


def _cpu_us(m: _Measured) -> str:
    return f"{m.server_cpu_s / max(m.result.requests, 1) * 1e6:.0f} us" if m.server_cpu_s is not None else "? us"


def per_capability_hits(world: World, opts: Options, keys: Keys) -> list[Row]:
    """(f): one warm-up and one timed run per capability, hello-world before and after them all."""
    hello_before = _measure(world, opts, world.hello, HELLO_PATH)
    measured: dict[str, tuple[str, _Measured | None, int, str]] = {}
    with httpx.Client(base_url=world.cryptohub.url, trust_env=False, timeout=30) as client:
        for name, path in CAPABILITY_PATHS:
            answer, served = _prime(client, path)
            if answer.status_code != 200 or served != "cache":
                # Not a hit: nothing to time. Say why in the table rather than abort the run.
                measured[name] = (path, None, -1, f"not a cache hit after {PRIME_ATTEMPTS} requests: "
                                                  f"{answer.status_code} {served} {answer.text[:200]}")
                continue
            calls0 = world.upstream.calls()
            m = _measure(world, opts, world.cryptohub, path)
            _, served_after = _prime(client, path)
            calls = world.upstream.calls() - calls0
            check = (f"X-Cryptohub-Cache before and after the run: cache / {served_after}; "
                     f"source {answer.headers.get('x-cryptohub-source', '-')}; {len(answer.content):,} byte body")
            measured[name] = (path, m, calls, check)
    hello_after = _measure(world, opts, world.hello, HELLO_PATH)
    # The better of the two baselines: the ratio is never flattered by a slow baseline.
    hello = max(hello_before, hello_after, key=lambda m: m.result.rps)
    tool = hello.result.tool
    details = [
        f"load generator: {tool}, {opts.connections} keep-alive connections, no pipelining; per capability "
        f"{opts.capability_warmup_s:g} s warm-up + one {opts.capability_duration_s:g} s run; hello-world measured "
        "the same way before and after all capabilities, the faster of the two is the baseline",
        f"hello-world: {hello_before.result.rps:,.0f} req/s before ({_cpu_us(hello_before)} server CPU per answer), "
        f"{hello_after.result.rps:,.0f} req/s after ({_cpu_us(hello_after)})",
    ]
    rows: list[Row] = []
    for name, (path, m, calls, check) in measured.items():
        if m is None:
            details.append(f"{name}: GET {path}: {check}")
            rows.append(Row(f"(f) cache hit: {name}", f"not measured: {check[:100]}...", "-", "NO"))
            continue
        r = m.result
        ratio = r.rps / hello.result.rps if hello.result.rps else math.nan
        clean = calls == 0 and r.non_2xx == 0 and r.errors == 0
        details.append(
            f"{name}: GET {path}: {r.rps:,.0f} req/s ({r.requests:,} answers in {r.elapsed_s:.1f} s), latency p50 "
            f"{r.p50_ms:.2f} ms p99 {r.p99_ms:.2f} ms, non-2xx {r.non_2xx}, errors {r.errors}; server CPU "
            f"{_cpu_us(m)} per answer; {m.commands}; upstream calls during warm-up and run: {calls}; {check}")
        result = f"{r.rps:,.0f} / {hello.result.rps:,.0f} req/s = ratio {ratio:.2f}"
        if not clean:
            result += f" (NOT all hits: {calls} upstream calls, {r.non_2xx} non-2xx, {r.errors} errors)"
        rows.append(Row(f"(f) cache hit: {name}", result, "none set",
                        "-" if clean else "NO"))
    rows[0].details = details
    rows[0].heading = "(f) cache-hit throughput per capability, 2 workers"
    return rows
