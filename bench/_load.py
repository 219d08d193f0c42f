"""Load generators for the data-plane benchmark: wrk when installed, else raw asyncio sockets.

- `closed_loop()`: C keep-alive connections, each sending one GET at a time (no pipelining) until
  a fixed request count or a time bound is reached; counts answers by status and times each one.
  It runs in its own process(es) (`closed_loop_in_processes`) so it never shares a loop or a GIL
  with the benchmark driver, and reports the CPU time it used, since on 2 cores the load
  generator competes with the servers it measures.
- `wrk()`: the same measurement with Debian's `wrk` (C, far cheaper per request), when present.
- `burst()`: N connections opened first, then N identical requests written at once (the
  "1,000 concurrent identical misses" figure); `Connection: close`, answers read to EOF.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import re
import resource
import shutil
import subprocess
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from providers import measures

# Longest a single closed-loop run may take beyond its duration, waiting for the last answers (s).
DRAIN_TIMEOUT_S = 10.0
# Connections opened at once by burst() (the kernel backlog is 4096; this keeps SYN storms sane).
CONNECT_CONCURRENCY = 250
BURST_TIMEOUT_S = 60.0
# Bodies of non-2xx answers kept per run, to say why they failed.
FAILURE_SAMPLES = 3


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    return measures.percentile(sorted(values), p / 100)


@dataclass
class LoadResult:
    tool: str
    requests: int = 0
    elapsed_s: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    errors: int = 0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    cpu_s: float | None = None  # CPU time the load generator used
    sources: Counter = field(default_factory=Counter)  # X-Cryptohub-Source of the answers
    failures: list[str] = field(default_factory=list)  # the first few bodies of non-2xx answers

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


def request_bytes(port: int, path: str, *, close: bool = False) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: cryptohub-bench\r\n"
            f"Accept: */*\r\n{connection}\r\n").encode()


# --- closed loop (Python) ------------------------------------------------------------------


class _Run:
    def __init__(self, request: bytes, max_requests: int, duration_s: float, *, port: int = 0,
                 paths: list[str] | None = None) -> None:
        self.request = request
        self.port = port
        self.paths = list(reversed(paths)) if paths is not None else None
        self.remaining = max_requests if paths is None else len(paths)
        self.sources: Counter = Counter()
        self.failures: list[str] = []
        self.stop_at = time.perf_counter() + duration_s
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.errors = 0
        self.open = 0
        self.last_answer = time.perf_counter()
        self.done = asyncio.get_running_loop().create_future()

    def closed(self) -> None:
        self.open -= 1
        if self.open == 0 and not self.done.done():
            self.done.set_result(None)


class _Conn(asyncio.Protocol):
    """One keep-alive connection: send, read one whole answer (Content-Length), send the next."""

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.buf = b""
        self.need: int | None = None
        self.status = 0
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.run.open += 1
        self._next()

    def _next(self) -> None:
        run = self.run
        if run.remaining <= 0 or time.perf_counter() >= run.stop_at:
            self.transport.close()
            return
        run.remaining -= 1
        self.busy = True
        self.sent_at = time.perf_counter()
        self.transport.write(run.request if run.paths is None else request_bytes(run.port, run.paths.pop()))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.need is None:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                self.status = int(head[9:12])
                match = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
                if match is None:  # chunked or close-delimited: not what these servers send
                    self.run.errors += 1
                    self.transport.close()
                    return
                self.need = end + 4 + int(match.group(1))
                source = re.search(rb"\r\nx-cryptohub-source:\s*([^\r]*)", head)
                self.run.sources[source.group(1).decode() if source else "-"] += 1
            if len(self.buf) < self.need:
                return
            now = time.perf_counter()
            if not 200 <= self.status < 300 and len(self.run.failures) < FAILURE_SAMPLES:
                self.run.failures.append(self.buf[self.buf.find(b"\r\n\r\n") + 4:self.need].decode(errors="replace"))
            self.run.latencies.append(now - self.sent_at)
            self.run.statuses[self.status] += 1
            self.run.last_answer = now
            self.buf, self.need, self.busy = self.buf[self.need:], None, False
            self._next()
            if self.busy is False:
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.run.errors += 1
        self.run.closed()


async def closed_loop(port: int, path: str, *, connections: int, max_requests: int, duration_s: float,
                      paths: list[str] | None = None) -> LoadResult:
    """Keep-alive GETs of `path` (or of each of `paths` once, in order) until done or out of time."""
    loop = asyncio.get_running_loop()
    run = _Run(request_bytes(port, path), max_requests, duration_s, port=port, paths=paths)
    started = time.perf_counter()
    opened = await asyncio.gather(
        *(loop.create_connection(lambda: _Conn(run), "127.0.0.1", port) for _ in range(connections)),
        return_exceptions=True,
    )
    run.errors += sum(1 for o in opened if isinstance(o, BaseException))
    if run.open:
        try:
            await asyncio.wait_for(run.done, duration_s + DRAIN_TIMEOUT_S)
        except TimeoutError:
            run.errors += 1
    elapsed = max(run.last_answer - started, 1e-9)
    ms = [x * 1000 for x in run.latencies]
    return LoadResult("python", len(ms), elapsed, run.statuses, run.errors, percentile(ms, 50), percentile(ms, 99),
                      sources=run.sources, failures=run.failures)


def _run_in_loop(coro_factory):
    try:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coro_factory())
    except ImportError:
        return asyncio.run(coro_factory())


def paths_in_process(port: int, paths: list[str], connections: int, duration_s: float) -> LoadResult:
    """Each of `paths` once over `connections` keep-alive connections (run in a spawned process)."""
    return _run_in_loop(lambda: closed_loop(port, "", connections=connections, max_requests=len(paths),
                                            duration_s=duration_s, paths=paths))


def _closed_loop_process(port: int, path: str, connections: int, max_requests: int, duration_s: float,
                         warmup_s: float) -> tuple[LoadResult, float]:
    if warmup_s > 0:
        _run_in_loop(lambda: closed_loop(port, path, connections=connections, max_requests=10**9,
                                         duration_s=warmup_s))
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = _run_in_loop(lambda: closed_loop(port, path, connections=connections, max_requests=max_requests,
                                              duration_s=duration_s))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu


def closed_loop_in_processes(port: int, path: str, *, processes: int, connections: int, max_requests: int,
                             duration_s: float, warmup_s: float) -> LoadResult:
    """closed_loop() in `processes` spawned processes at once, connections and requests split evenly."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=ctx) as pool:
        futures = [pool.submit(_closed_loop_process, port, path, max(1, connections // processes),
                               max(1, max_requests // processes), duration_s, warmup_s) for _ in range(processes)]
        parts = [f.result() for f in futures]
    total = LoadResult("python" if processes == 1 else f"python x{processes}")
    total.requests = sum(r.requests for r, _ in parts)
    total.elapsed_s = max(r.elapsed_s for r, _ in parts)
    for r, _ in parts:
        total.statuses.update(r.statuses)
        total.errors += r.errors
    # Per-process percentiles are not mergeable; the slowest process's p50/p99 is the honest bound.
    total.p50_ms = max(r.p50_ms for r, _ in parts)
    total.p99_ms = max(r.p99_ms for r, _ in parts)
    total.cpu_s = sum(cpu for _, cpu in parts)
    return total


# --- wrk ------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk(port: int, path: str, *, threads: int, connections: int, duration_s: float, warmup_s: float) -> LoadResult:
    """Run `wrk` (after a warm-up run) and parse its summary; CPU time from its rusage."""
    binary = wrk_path()
    assert binary is not None
    url = f"http://127.0.0.1:{port}{path}"

    def once(seconds: float) -> tuple[str, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([binary, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                              "--latency", url], capture_output=True, text=True, timeout=seconds + 60, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return out.stdout, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    if warmup_s > 0:
        once(warmup_s)
    text, cpu = once(duration_s)
    result = LoadResult("wrk", cpu_s=cpu)
    match = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise RuntimeError(f"cannot read wrk output:\n{text}")
    result.requests = int(match.group(1))
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[match.group(3)]
    result.elapsed_s = float(match.group(2)) * scale
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    result.statuses[200] = result.requests - (int(bad.group(1)) if bad else 0)
    if bad:
        result.statuses[0] = int(bad.group(1))  # wrk does not say which status
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        result.errors = sum(int(g) for g in socket_errors.groups())
    for name, attr in (("50%", "p50_ms"), ("99%", "p99_ms")):
        lat = re.search(rf"^\s*{name}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if lat:
            setattr(result, attr, float(lat.group(1)) * _UNIT_MS[lat.group(2)])
    return result


# --- burst ----------------------------------------------------------------------------------


@dataclass
class BurstAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


async def burst(ports: list[int], path: str, n: int) -> list[BurstAnswer | Exception]:
    """Open n connections (round-robin over ports), then write n identical GETs at once."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(i: int):
        async with gate:
            return await asyncio.open_connection("127.0.0.1", ports[i % len(ports)])

    streams = await asyncio.gather(*(connect(i) for i in range(n)), return_exceptions=True)

    async def one(i: int, stream) -> BurstAnswer | Exception:
        if isinstance(stream, Exception):
            return stream
        reader, writer = stream
        try:
            data = await reader.read(-1)
        except Exception as exc:  # noqa: BLE001 - an answer that failed is a figure, not a crash
            return exc
        finally:
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
        return BurstAnswer(int(status_line.split(" ", 2)[1]), headers, body)

    # Every connection is open before the first request leaves: the misses really overlap.
    for i, stream in enumerate(streams):
        if not isinstance(stream, Exception):
            stream[1].write(request_bytes(ports[i % len(ports)], path, close=True))
    async with asyncio.timeout(BURST_TIMEOUT_S):
        return await asyncio.gather(*(one(i, s) for i, s in enumerate(streams)))


# --- CPU accounting of server processes -----------------------------------------------------


def machine_busy_s() -> float | None:
    """CPU seconds all processes on the machine have used since boot (Linux /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_s(root_pid: int) -> float | None:
    """User + system CPU seconds of a process and all its descendants, those already reaped
    included (Linux /proc), or None."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        parent[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    total, stack = 0.0, [root_pid]
    seen = set()
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in cpu:
            continue
        seen.add(pid)
        total += cpu[pid]
        stack.extend(child for child, ppid in parent.items() if ppid == pid)
    return total
