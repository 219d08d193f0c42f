"""`python -m bench`: the data-plane benchmark (issues 3 and 4); `--sweep` / `--all` add the health sweep.

    .venv/bin/python -m bench                  # figures (a)-(f), about 4 minutes on 2 cores
    .venv/bin/python -m bench --only ab        # some figures
    .venv/bin/python -m bench --only f         # cache-hit throughput of every capability (issue 4)
    .venv/bin/python -m bench --all            # the data plane, then bench/sweep.py
    .venv/bin/python -m bench --sweep          # only bench/sweep.py
    .venv/bin/python -m bench --client-keys    # only bench/client_keys.py (hits with a key vs anonymous)

The cache-hit figure uses `wrk` when it is on PATH (Debian: apt-get install wrk, or pass
--install-wrk), else a Python load generator on raw asyncio sockets; the table says which.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SWEEP_STOP_TIMEOUT_S = 15
sys.path.insert(0, str(ROOT))

from bench import _load  # noqa: E402
from bench.dataplane import Options, Row, run  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    d = Options()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("--all", action="store_true", help="also run the health-sweep benchmark (bench/sweep.py)")
    p.add_argument("--sweep", action="store_true", help="run only the health-sweep benchmark")
    p.add_argument("--client-keys", action="store_true",
                   help="run only the client-key benchmark (bench/client_keys.py, its defaults)")
    p.add_argument("--only", default=d.only, help="figures to run, e.g. 'ab' (default: abcdef)")
    p.add_argument("--duration", type=float, default=d.duration_s, help="seconds per throughput run (a)")
    p.add_argument("--warmup", type=float, default=d.warmup_s, help="warm-up seconds before each throughput run")
    p.add_argument("--rounds", type=int, default=d.rounds, help="alternating throughput rounds (a); best shown")
    p.add_argument("--connections", type=int, default=d.connections, help="load generator connections (a, f)")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default=d.loadgen,
                   help="load generator for (a) and (f): wrk if installed (auto), or the Python one")
    p.add_argument("--loadgen-processes", type=int, default=d.loadgen_processes,
                   help="processes of the Python load generator (a, f)")
    p.add_argument("--capability-duration", type=float, default=d.capability_duration_s,
                   help="seconds of the throughput run of each capability (f)")
    p.add_argument("--capability-warmup", type=float, default=d.capability_warmup_s,
                   help="warm-up seconds before each capability's run (f)")
    p.add_argument("--install-wrk", action="store_true", help="apt-get install wrk first if it is missing")
    p.add_argument("--misses", type=int, default=d.misses, help="timed misses (b)")
    p.add_argument("--breaker-requests", type=int, default=d.breaker_requests, help="requests per phase (d)")
    p.add_argument("--burst", type=int, default=d.burst, help="concurrent identical misses (c)")
    p.add_argument("--rate-requests", type=int, default=d.rate_requests, help="misses per bursting process (e)")
    return p


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores{f' ({model})' if model else ''}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def _command() -> str:
    exe = Path(sys.executable)
    shown = os.path.relpath(exe, Path.cwd()) if exe.is_relative_to(Path.cwd()) else exe.name
    return shlex.join([shown, "-m", "bench", *sys.argv[1:]])


def _load_average() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average unknown"


def _print_table(rows: list[Row], flags: dict[str, str], started: float, load_before: str) -> None:
    header = ("figure", "result", "goal", "met")
    body = [(r.figure, r.result, r.goal, r.met) for r in rows]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    print()
    print(f"cryptohub data-plane benchmark: {_command()}")
    print(f"machine: {_machine()}; run took {time.time() - started:.0f} s")
    print(f"before the run: {load_before}; {flags.get('background', 'background load unknown')}")
    print(f"servers: uvicorn {flags['cryptohub']}  |  uvicorn {flags['hello']}")
    print()
    for row in [header, tuple("-" * w for w in widths), *body]:
        print("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip())
    for r in rows:
        if not r.details:  # (f) keeps all its lines on its first row
            continue
        print(f"\n{r.heading or r.figure}")
        for line in r.details:
            print(f"  {line}")


def _run_module(module: str = "bench.sweep") -> int:
    # Its own process: each benchmark sets Django up on its own world's database.
    process = subprocess.Popen([sys.executable, "-m", module], cwd=ROOT)
    try:
        return process.wait()
    except BaseException:
        # Ctrl-C lets the benchmark run its own clean-up (its redis-server and servers).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=SWEEP_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
        raise


def main() -> int:
    # A SIGTERM (timeout, CI cancel) must still run the teardown: the servers live in their own
    # process groups and would otherwise outlive the benchmark.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    args = _parser().parse_args()
    if args.install_wrk and not _load.wrk_path():
        subprocess.run([str(ROOT / "scripts" / "apt-install.sh"), "wrk"], check=False)
    if args.client_keys:
        return _run_module("bench.client_keys")
    if not args.sweep:
        opts = Options(duration_s=args.duration, warmup_s=args.warmup, rounds=args.rounds,
                       connections=args.connections, loadgen=args.loadgen, loadgen_processes=args.loadgen_processes,
                       misses=args.misses, breaker_requests=args.breaker_requests, burst=args.burst,
                       rate_requests=args.rate_requests, capability_duration_s=args.capability_duration,
                       capability_warmup_s=args.capability_warmup, only=args.only)
        if opts.loadgen == "wrk" and not _load.wrk_path():
            print("wrk is not installed (apt-get install wrk, or --install-wrk); use --loadgen python", file=sys.stderr)
            return 2
        started, load_before = time.time(), _load_average()
        rows, info = run(opts)
        _print_table(rows, info, started, load_before)
    if args.sweep or args.all:
        print(flush=True)
        return _run_module()
    return 0


if __name__ == "__main__":
    sys.exit(main())
