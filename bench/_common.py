"""What the data-plane figures share: options, the table row, fresh cache keys, Redis command counts."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

from bench import _load
from bench._env import World
from bench._load import LoadResult, percentile

HIT_PATH = "/api/data/price?ids=bitcoin,ethereum&vs=usd"
HELLO_PATH = "/"
COINS = ("bitcoin", "ethereum", "tether", "ripple", "binancecoin", "solana", "usd-coin", "dogecoin", "tron",
         "cardano", "chainlink", "stellar", "bitcoin-cash", "avalanche-2", "the-open-network", "litecoin",
         "shiba-inu", "polkadot", "monero", "dai", "uniswap", "pepe", "aave", "near", "aptos",
         "ethereum-classic", "internet-computer", "cosmos", "filecoin", "arbitrum", "optimism", "sui")


@dataclass
class Options:
    duration_s: float = 10.0
    warmup_s: float = 2.0
    rounds: int = 2
    connections: int = 64
    loadgen: str = "auto"  # auto | wrk | python
    loadgen_processes: int = 1
    misses: int = 500
    breaker_requests: int = 1000
    burst: int = 1000
    rate_processes: int = 4
    rate_requests: int = 600  # per process
    rate_concurrency: int = 16  # per process
    capability_duration_s: float = 5.0  # (f): per capability, one run each
    capability_warmup_s: float = 1.0
    only: str = "abcdef"


@dataclass
class Row:
    figure: str
    result: str
    goal: str
    met: str
    details: list[str] = field(default_factory=list)
    heading: str = ""  # above the details, when not the figure's name


def met(ok: bool) -> str:
    return "yes" if ok else "NO"


class Keys:
    """Price paths whose cache key no earlier request of the run has used (2-4 coins, usd)."""

    def __init__(self) -> None:
        self._combos = (c for size in (2, 3, 4) for c in itertools.combinations(COINS, size)
                        if c != ("bitcoin", "ethereum"))

    def ids(self) -> list[str]:
        return list(next(self._combos))

    def path(self) -> str:
        return price_path(self.ids())


def price_path(ids: list[str], vs: str = "usd") -> str:
    return f"/api/data/price?ids={','.join(ids)}&vs={vs}"


def redis_commands(world: World) -> Counter:
    """Commands the benchmark's redis-server has run so far, by name (INFO commandstats)."""
    import redis

    client = redis.Redis.from_url(world.redis.url)
    try:
        stats = client.info("commandstats")
    finally:
        client.close()
    return Counter({name.removeprefix("cmdstat_"): v["calls"] for name, v in stats.items()})


def per_answer(before: Counter, after: Counter, answers: int) -> str:
    delta = after - before
    top = ", ".join(f"{name} {n / answers:.1f}" for name, n in delta.most_common(6))
    return f"{sum(delta.values()) / max(answers, 1):.1f} Redis commands per answer ({top})"


def ms_summary(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.2f} ms, p99 {percentile(values, 99):.2f} ms"


def generate(opts: Options, port: int, path: str, duration_s: float) -> LoadResult:
    if opts.loadgen == "wrk" or (opts.loadgen == "auto" and _load.wrk_path()):
        return _load.wrk(port, path, threads=2, connections=opts.connections, duration_s=duration_s, warmup_s=0)
    return _load.closed_loop_in_processes(port, path, processes=opts.loadgen_processes,
                                          connections=opts.connections, max_requests=10**8,
                                          duration_s=duration_s, warmup_s=0)


# Requests a hit-throughput figure makes before the load, to turn the path into a fresh cache hit.
PRIME_ATTEMPTS = 5


def prime_hit(world: World, path: str) -> bool:
    """Ask `path` until it is answered from the cache (a fetch, then hits); False if it never was."""
    import httpx

    with httpx.Client(base_url=world.cryptohub.url, timeout=30, trust_env=False) as client:
        for _ in range(PRIME_ATTEMPTS):
            if client.get(path).headers.get("x-cryptohub-cache") == "cache":
                return True
    return False


def hit_rps(world: World, path: str, opts: Options) -> float:
    """Requests per second of `path` once it is a cache hit: primed, warmed up for opts.warmup_s,
    then loaded for opts.duration_s (0.0 when any answer of the load was not a 2xx)."""
    prime_hit(world, path)
    if opts.warmup_s > 0:
        generate(opts, world.cryptohub.port, path, opts.warmup_s)
    result = generate(opts, world.cryptohub.port, path, opts.duration_s)
    return 0.0 if result.non_2xx else result.requests / max(result.elapsed_s, 1e-9)
