"""Health-sweep benchmark: sweep time and false timeouts for 100 / 1,000 providers answering in
200 ms and 1.1 s, against a local HTTP server in its own process and its own redis-server.

    .venv/bin/python -m bench.sweep

The server runs in a separate process (on uvloop, the cheapest fake provider we can write) so
this process's CPU is the sweeper's alone: a real provider's CPU is not ours. A "false timeout" is
a probe marked timed out although the server answers well within the probe timeout. Each case
runs REPEATS times; the table shows the median time and the worst false-timeout count.

Rows:
- "sweep": healing.monitoring.probes.run_probe_cycle as the sweep runs it (aiohttp, deadline inside the
  slot, breaker fed in batches); "probe s" and "breaker s" split its time.
- "httpx, same rules": the previous sweeper (httpx clients in shards of 50, deadline inside the
  slot), to show why the sweep has its own client.
- "naive": the design cryptohub replaces (deadline starts in the queue, pool of 100).
- "full sweep_run": healing.monitoring.sweep.sweep_run end to end against a temporary SQLite database
  (read the providers, probe, feed the breaker, write 1,000 HealthCheck rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Probe timeout: above the slowest provider's 1.1 s, below two rounds of it, so a deadline that
# started in the queue (or a sweeper that falls behind) shows up as timeouts.
PROBE_TIMEOUT_S = 2.0
NAIVE_POOL = 100
REPEATS = 3
# httpx connections per client in the previous design (httpcore's pool scan is quadratic).
HTTPX_SHARD = 50
# (providers, server latency ms, probes in flight or None for the sweep's default)
CASES = [(100, 200, None), (1000, 200, None), (100, 1100, None), (1000, 1100, None), (1000, 1100, 500)]


def _serve(queue: multiprocessing.Queue) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    from tests.healing.loopback import LoopbackServer

    server = LoopbackServer().start()
    queue.put(server.port)
    while True:
        time.sleep(3600)


def _configs(base: str, n: int, latency_ms: int):
    from healing.engine.config import ProviderConfig

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


async def _httpx_same_rules(configs, timeout_s: float, concurrency: int) -> tuple[list[bool], float]:
    """The previous sweeper: httpx clients in shards, each with its share of slots, the deadline
    starting inside the slot. Returns (timed out per probe, worst probe seconds)."""
    import httpx

    shards = math.ceil(concurrency / HTTPX_SHARD)
    per_shard = math.ceil(concurrency / shards)
    limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=0)
    tls = httpx.create_ssl_context()
    worst = [0.0]
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(httpx.AsyncClient(limits=limits, verify=tls, timeout=httpx.Timeout(
            timeout_s, pool=30.0))) for _ in range(shards)]
        slots = [asyncio.Semaphore(per_shard) for _ in clients]

        async def one(i: int, cfg) -> bool:
            async with slots[i % shards]:
                t0 = time.perf_counter()
                try:
                    async with asyncio.timeout(timeout_s):
                        async with clients[i % shards].stream("GET", cfg.base_url + cfg.health_path) as response:
                            await response.aread()
                    return False
                except (TimeoutError, httpx.TimeoutException):
                    return True
                finally:
                    worst[0] = max(worst[0], time.perf_counter() - t0)

        return list(await asyncio.gather(*(one(i, c) for i, c in enumerate(configs)))), worst[0]


def _measure(run, repeats: int = REPEATS) -> list[dict]:
    out = []
    for _ in range(repeats):
        t0, cpu0 = time.perf_counter(), time.process_time()
        figures = run()
        figures.update(total=time.perf_counter() - t0, cpu=time.process_time() - cpu0)
        out.append(figures)
    return out


def _row(n, latency_ms, design, in_flight, runs: list[dict]) -> tuple:
    def med(key: str) -> str:
        values = [r[key] for r in runs if r.get(key) is not None]
        return f"{statistics.median(values):.2f}" if values else "-"

    worst = max((r.get("worst_ms") or 0) for r in runs)
    return (n, f"{latency_ms} ms", design, in_flight, med("total"), med("probe"), med("breaker"), med("cpu"),
            min(r["ok"] for r in runs), max(r["timeouts"] for r in runs), f"{worst:.0f}" if worst else "-")


def _setup_database(base: str, n: int, latency_ms: int) -> None:
    from django.core.management import call_command

    from providers.models import Provider

    call_command("migrate", verbosity=0)
    Provider.objects.bulk_create([
        Provider(slug=f"bench-{i}", name=f"B{i}", category="market_data", base_url=base,
                 health_path=f"/slow/{latency_ms}") for i in range(n)])


def _environment():
    """A redis-server and a throwaway SQLite database for this run, and Django set up on them."""
    from tests.redis_server import RedisServer

    redis_server = RedisServer()
    scratch = tempfile.TemporaryDirectory(prefix="cryptohub-bench-")
    os.environ["REDIS_URL"] = redis_server.url
    # A throwaway database for the end-to-end row; never the developer's own.
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptohub.settings")
    # A throwaway key: cryptohub's settings refuse to start without one.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()
    # A thousand "breaker opened" warnings are the point of some rows, not news.
    logging.getLogger("healing").setLevel(logging.ERROR)
    return redis_server, scratch


def _start_server() -> tuple[multiprocessing.Process, str]:
    """The fake providers' server in its own process, and its base URL."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(queue,), daemon=True)
    server.start()
    return server, f"http://127.0.0.1:{queue.get(timeout=30)}"


@contextlib.contextmanager
def _timed_breaker_feeding(probes):
    """Time the breaker feeding apart from the probes (run_probe_cycle looks it up by name)."""
    feed_times: list[float] = []
    real_feed = probes.feed_breaker

    async def timed_feed(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return await real_feed(*args, **kwargs)
        finally:
            feed_times.append(time.perf_counter() - t0)

    probes.feed_breaker = timed_feed
    try:
        yield feed_times
    finally:
        probes.feed_breaker = real_feed


def _sweep_rows(probes, base: str, redis_url: str, feed_times: list[float]) -> list[tuple]:
    rows = []
    for n, latency_ms, in_flight in CASES:
        configs = _configs(base, n, latency_ms)
        concurrency = in_flight or probes.DEFAULT_CONCURRENCY

        def sweep() -> dict:
            t0 = time.perf_counter()
            results = asyncio.run(probes.run_probe_cycle(configs, redis_url=redis_url,
                                                         concurrency=concurrency, timeout_s=PROBE_TIMEOUT_S))
            total = time.perf_counter() - t0
            return {"ok": sum(1 for r in results if r.ok),
                    "timeouts": sum(1 for r in results if r.error_class == probes.ERR_TIMEOUT),
                    "worst_ms": max(r.latency_ms or 0 for r in results),
                    "breaker": feed_times[-1], "probe": total - feed_times[-1]}

        rows.append(_row(n, latency_ms, "sweep", concurrency, _measure(sweep)))
    return rows


def _replaced_design_rows(probes, base: str, n: int, latency_ms: int) -> list[tuple]:
    """The previous sweeper and the naive design, on the hardest case."""
    configs = _configs(base, n, latency_ms)

    def previous() -> dict:
        timed_out, worst = asyncio.run(_httpx_same_rules(configs, PROBE_TIMEOUT_S, probes.DEFAULT_CONCURRENCY))
        return {"ok": n - sum(timed_out), "timeouts": sum(timed_out), "worst_ms": worst * 1000}

    def naive() -> dict:
        timed_out = asyncio.run(_naive(configs, PROBE_TIMEOUT_S))
        return {"ok": n - sum(timed_out), "timeouts": sum(timed_out)}

    return [_row(n, latency_ms, "httpx, same rules", probes.DEFAULT_CONCURRENCY, _measure(previous)),
            _row(n, latency_ms, f"naive, pool {NAIVE_POOL}", NAIVE_POOL, _measure(naive, repeats=1))]


def _full_sweep_row(probes, base: str, n: int, latency_ms: int, feed_times: list[float]) -> tuple:
    from django.conf import settings

    from healing.monitoring import sweep as monitoring

    _setup_database(base, n, latency_ms)
    settings.CRYPTOHUB_SWEEP_CONCURRENCY = probes.DEFAULT_CONCURRENCY
    settings.CRYPTOHUB_HEALTH_TIMEOUT_S = PROBE_TIMEOUT_S

    def full() -> dict:
        report = monitoring.sweep_run()
        return {"ok": report.up, "timeouts": sum(1 for r in report.results if r.error_class == probes.ERR_TIMEOUT),
                "worst_ms": max(r.latency_ms or 0 for r in report.results), "breaker": feed_times[-1]}

    return _row(n, latency_ms, "full sweep_run", probes.DEFAULT_CONCURRENCY, _measure(full))


def _print_table(rows: list[tuple]) -> None:
    header = ("providers", "latency", "design", "in flight", "sweep s", "probe s", "breaker s", "cpu s", "ok",
              "false timeouts", "worst probe ms")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"health sweep on {os.cpu_count()} cores, probe timeout {PROBE_TIMEOUT_S:g} s, median of {REPEATS} runs "
          "(false timeouts and ok: worst run); 'cpu s' is this process's CPU time, the server runs in its own")
    for row in [header, *rows]:
        print("  ".join(str(c).rjust(widths[i]) for i, c in enumerate(row)))


def main() -> None:
    redis_server, scratch = _environment()
    from healing.monitoring import probes

    server, base = _start_server()
    # The comparison rows and the end-to-end row use the hardest case: many slow providers.
    n, latency_ms = 1000, 1100
    try:
        with _timed_breaker_feeding(probes) as feed_times:
            rows = _sweep_rows(probes, base, redis_server.url, feed_times)
            rows += _replaced_design_rows(probes, base, n, latency_ms)
            rows.append(_full_sweep_row(probes, base, n, latency_ms, feed_times))
    finally:
        server.terminate()
        server.join(5)
        redis_server.stop()
        scratch.cleanup()
    _print_table(rows)


if __name__ == "__main__":
    main()
