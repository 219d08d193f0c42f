"""Health-sweep benchmark: sweep time and false timeouts for 100 / 1,000 providers answering in
200 ms and 1.1 s, against a local HTTP server (its own process) and its own redis-server.

    .venv/bin/python -m bench.sweep

A "false timeout" is a probe marked timed out although the server answered within the probe
timeout. The last rows run the naive design for comparison: the deadline starts when the probe
is queued and the connection pool (100) is smaller than the fan-out.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Probe timeout: above the slowest provider's 1.1 s, below two rounds of it, so a deadline that
# started in the queue shows up as timeouts.
PROBE_TIMEOUT_S = 2.0
CONCURRENCY = 500
NAIVE_POOL = 100
# (providers, server latency ms, probes in flight)
CASES = [(100, 200, CONCURRENCY), (1000, 200, CONCURRENCY), (100, 1100, CONCURRENCY), (1000, 1100, CONCURRENCY),
         (1000, 1100, 1000)]


def _serve(queue: multiprocessing.Queue) -> None:
    from tests.healing.loopback import LoopbackServer

    server = LoopbackServer().start()
    queue.put(server.port)
    while True:
        time.sleep(3600)


def _configs(base: str, n: int, latency_ms: int):
    from healing.config import ProviderConfig

    return [ProviderConfig(slug=f"bench-{i}", name=f"B{i}", category="market_data", base_url=base,
                           health_path=f"/slow/{latency_ms}", timeout_s=10.0) for i in range(n)]


async def _naive(configs, timeout_s: float) -> list[bool]:
    """The replaced design: wait_for around queueing + request, pool smaller than the fan-out."""
    import httpx

    limits = httpx.Limits(max_connections=NAIVE_POOL, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(30.0)) as client:
        async def one(cfg) -> bool:
            try:
                await asyncio.wait_for(client.get(cfg.base_url + cfg.health_path), timeout_s)
                return False
            except (TimeoutError, httpx.TimeoutException):
                return True

        return list(await asyncio.gather(*(one(c) for c in configs)))


def main() -> None:
    from tests.redis_server import RedisServer

    redis_server = RedisServer()
    os.environ["REDIS_URL"] = redis_server.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptohub.settings")
    import django

    django.setup()
    # A thousand "breaker opened" warnings are the point of some rows, not news.
    logging.getLogger("healing").setLevel(logging.ERROR)
    from healing import probes

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{queue.get(timeout=30)}"
    rows = []
    try:
        for n, latency_ms, concurrency in CASES:
            configs = _configs(base, n, latency_ms)
            t0, cpu0 = time.perf_counter(), time.process_time()
            results = asyncio.run(probes.run_probe_cycle(configs, redis_url=redis_server.url,
                                                         concurrency=concurrency, timeout_s=PROBE_TIMEOUT_S))
            total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            timeouts = sum(1 for r in results if r.error_class == probes.ERR_TIMEOUT)
            ok = sum(1 for r in results if r.ok)
            worst = max(r.latency_ms or 0 for r in results)
            rows.append((n, f"{latency_ms} ms", f"sweep, {concurrency} in flight", f"{total:.2f}", f"{cpu:.2f}", ok,
                         timeouts, f"{worst:.0f}"))
        n, latency_ms = 1000, 1100
        configs = _configs(base, n, latency_ms)
        t0, cpu0 = time.perf_counter(), time.process_time()
        timed_out = asyncio.run(_naive(configs, PROBE_TIMEOUT_S))
        total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        rows.append((n, f"{latency_ms} ms", f"naive, pool {NAIVE_POOL}", f"{total:.2f}", f"{cpu:.2f}",
                     n - sum(timed_out), sum(timed_out), "-"))
    finally:
        server.terminate()
        server.join(5)
        redis_server.stop()

    header = ("providers", "latency", "design", "sweep s", "cpu s", "ok", "false timeouts", "worst probe ms")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"health sweep on {os.cpu_count()} cores, probe timeout {PROBE_TIMEOUT_S:g} s; 'sweep s' includes "
          "feeding the breaker (Redis); 'cpu s' is this process's CPU time")
    for row in [header, *rows]:
        print("  ".join(str(c).rjust(widths[i]) for i, c in enumerate(row)))


if __name__ == "__main__":
    main()
