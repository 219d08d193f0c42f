"""Live feed benchmark (issue 8): 1,000 WebSocket clients on `breakers` across two workers.

    .venv/bin/python -m bench.live_feed [--clients 1000] [--events 30] [--duration 8]

One world (bench/_env.py: two uvicorn workers, the fake upstream, a redis-server of its own).
1. Baseline: cache-hit throughput of the data plane with no feed client (a closed loop of
   keep-alive GETs over cached price keys).
2. A swarm process (bench/_ws_swarm.py) connects `--clients` clients, each subscribed to
   `breakers`; the workers' resident memory before and after gives the memory per connection.
3. The same cache-hit load with the clients connected: throughput with ÷ without (goal >= 0.9).
4. `--events` breaker events are published from this process through healing.events (what a
   breaker transition in any process does), 200 ms apart; for each, the delay from publishing to
   every client's arrival. Printed: p50/p99 over all deliveries and of the last client per event
   (goal p99 <= 500 ms). Nothing asserts.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import COINS, price_path  # noqa: E402
from bench._env import World  # noqa: E402
from bench._load import paths_in_process, percentile  # noqa: E402
from bench._ws_swarm import swarm  # noqa: E402

GOAL_P99_MS = 500.0
GOAL_THROUGHPUT_RATIO = 0.9
EVENT_GAP_S = 0.2
LOAD_CONNECTIONS = 32
MAX_REQUESTS = 2_000_000
SWARM_READY_TIMEOUT_S = 180.0


def _worker_pids(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(pid) for pid in children]


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _throughput(port: int, paths: list[str], duration_s: float) -> float:
    cycle = (paths * (MAX_REQUESTS // len(paths) + 1))[:MAX_REQUESTS]
    result = paths_in_process(port, cycle, LOAD_CONNECTIONS, duration_s)
    if result.statuses.get(200, 0) == 0:
        raise SystemExit(f"the load got no 200: {dict(result.statuses)} {result.failures[:2]}")
    return result.rps


def _publish_marked(events: int) -> None:
    from healing import events as feed

    for seq in range(events):
        feed.publish(feed.BREAKERS, [{"provider": "bench", "from": "closed", "to": "open", "reason": "bench",
                                      "bench_seq": seq, "sent_at": time.time()}])
        time.sleep(EVENT_GAP_S)


def _ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.0f} ms" if values else "n/a"


def run(clients: int, events: int, duration_s: float) -> list[tuple[str, str]]:
    paths = [price_path([coin]) for coin in COINS]
    with World(workers=2) as world:
        port = world.cryptohub.port
        _throughput(port, paths, 5)  # warm-up: every key cached in both workers
        without = _throughput(port, paths, duration_s)
        pids = _worker_pids(world.cryptohub.pid)
        rss_before = _rss_bytes(pids)
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(target=swarm, args=(port, clients, child))
        process.start()
        if not parent.poll(SWARM_READY_TIMEOUT_S):
            process.kill()
            raise SystemExit("the swarm did not connect in time")
        _, connected, refused, connect_s = parent.recv()
        rss_after = _rss_bytes(pids)
        with_clients = _throughput(port, paths, duration_s)
        parent.send(("events", events, 30.0))
        _publish_marked(events)
        _, arrivals = parent.recv()
        process.join(30)
    deliveries = [delay for per_event in arrivals for delay in per_event]
    last = [max(per_event) for per_event in arrivals if len(per_event) == connected]
    ratio = with_clients / without if without else 0.0
    p99_last = percentile(last, 99) * 1000 if last else float("inf")
    per_connection = (rss_after - rss_before) / connected if connected else 0.0
    return [
        ("clients connected / refused (connect time)", f"{connected} / {refused} ({connect_s:.1f} s)"),
        ("events published", f"{events}, all clients got {len(last)} of them"),
        ("delivery delay, all deliveries p50 / p99", f"{_ms(deliveries, 50)} / {_ms(deliveries, 99)}"),
        (f"delay to the last client p50 / p99 (goal p99 <= {GOAL_P99_MS:.0f} ms)",
         f"{_ms(last, 50)} / {_ms(last, 99)} {'met' if p99_last <= GOAL_P99_MS else 'NOT met'}"),
        ("worker memory per connection",
         f"{per_connection / 1024:.1f} KiB ({(rss_after - rss_before) / 2**20:.1f} MiB)"),
        ("cache-hit req/s without / with clients", f"{without:,.0f} / {with_clients:,.0f}"),
        (f"throughput with ÷ without (goal >= {GOAL_THROUGHPUT_RATIO})",
         f"{ratio:.3f} {'met' if ratio >= GOAL_THROUGHPUT_RATIO else 'NOT met'}"),
    ]


def _raise_open_files_limit() -> None:
    # 1,000 sockets in the swarm and ~500 in each worker pass the usual soft limit of 1,024;
    # the servers and the swarm inherit this process's limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    _raise_open_files_limit()
    parser = argparse.ArgumentParser(prog="python -m bench.live_feed", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket clients subscribed to breakers")
    parser.add_argument("--events", type=int, default=30, help="breaker events to publish")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of each throughput phase")
    args = parser.parse_args()
    rows = run(args.clients, args.events, args.duration)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
