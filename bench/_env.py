"""The benchmark's own world, built and torn down in one `with World() as world:` block.

A temp dir holding a fresh SQLite database (migrated; the price pool coingecko > coinpaprika >
coincap, plus the shipped catalogue's other providers and default pools (markets, global, fear &
greed, trending, TVL, gas, news), every provider pointing at the fake upstream), its own
redis-server, the fake upstream (with an
arrival log, bench/_upstream.py), and two uvicorn servers with identical flags: cryptohub
(`cryptohub.asgi:application`) and the hello-world baseline (`bench.hello:app`). 127.0.0.1 only.
Nothing outside the temp dir is written, and every process started here is stopped on exit.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.fake_upstream import FakeUpstream
from tests.live_server import LiveServer, uvicorn_command
from tests.redis_server import RedisServer, RestartableRedis, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_MODULE = "bench.settings"
REDIS_PREFIX = "bench:"
START_TIMEOUT_S = 60
# An edit to providers or pools is live in every server process within this long (the issue
# promises 2 s; the snapshot poll runs every 0.5 s).
RELOAD_WAIT_S = 2.5
# The price pool, highest priority first.
PRICE_PROVIDERS = ("coingecko", "coinpaprika", "coincap")
# The shipped catalogue (providers and default pools), loaded after the price pool.
CATALOGUE = REPO_ROOT / "fixtures" / "providers.json"
# Keyed providers (Etherscan for gas, CryptoPanic, CoinMarketCap...) get this value in their key
# variable, in the servers' environment only: the fake upstream takes any key, and a real key
# from this machine's environment never reaches even the fake.
DUMMY_API_KEY = "bench-dummy-key"


class BenchUpstream(FakeUpstream):
    """tests/fake_upstream, run through bench/_upstream.py so arrivals are time-stamped."""

    module = "bench._upstream"

    @property
    def pid(self) -> int:
        return self._process.pid

    def arrivals(self) -> dict[str, list[float]]:
        return self._client.get("/_bench/arrivals").json()

    def clear_arrivals(self) -> None:
        self._client.post("/_bench/arrivals").raise_for_status()


class Server(LiveServer):
    """`uvicorn APP --workers N` in its own process group, started like tests/live_server.py's."""

    def __init__(self, app: str, *, workers: int, env: dict[str, str], ready_path: str, log_dir: Path) -> None:
        self.app = app
        port = free_port()
        self.command = uvicorn_command(app, port=port, workers=workers)
        log = open(log_dir / f"{app.replace(':', '_')}.log", "w+b")  # noqa: SIM115 - closed in stop()
        process = subprocess.Popen(self.command, cwd=REPO_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        super().__init__(process, port, log)
        self.wait_ready(START_TIMEOUT_S, path=ready_path)

    @property
    def name(self) -> str:
        return self.app

    @property
    def pid(self) -> int:
        return self.process.pid

    def flags(self) -> str:
        return " ".join(self.command[self.command.index(self.app):]).replace(str(self.port), "PORT")


class World:
    """Everything the data-plane benchmark runs against; see the module docstring."""

    def __init__(self, *, workers: int = 2, restartable_redis: bool = False) -> None:
        self.workers = workers
        # bench/redis_outage.py stops and starts the world's Redis under load.
        self.restartable_redis = restartable_redis
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.redis: RedisServer | RestartableRedis | None = None
        self.upstream: BenchUpstream | None = None
        self.cryptohub: Server | None = None
        self.hello: Server | None = None
        self.env: dict[str, str] = {}

    def __enter__(self) -> World:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _start(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="cryptohub-bench-")
        tmp = Path(self._tmp.name)
        if self.restartable_redis:
            self.redis = RestartableRedis()
            self.redis.start()
        else:
            self.redis = RedisServer()
        self.env = {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "REDIS_URL": self.redis.url,
            "CRYPTOHUB_REDIS_PREFIX": REDIS_PREFIX,
            "DEBUG": "False",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO_ROOT),
            # A throwaway key per run: servers refuse to start without one.
            "SECRET_KEY": secrets.token_urlsafe(50),
            # Each server process takes 1/workers of every provider budget while Redis is down.
            "CRYPTOHUB_PROCESS_COUNT": str(self.workers),
        }
        # This process writes the catalogue through the ORM, so its signals bump the config
        # version in the benchmark's Redis, exactly as an admin save would.
        os.environ.update(self.env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        self.upstream = BenchUpstream().start()
        self._create_price_pool()
        key_env = self._load_catalogue()
        server_env = {**os.environ, **self.env, **dict.fromkeys(key_env, DUMMY_API_KEY)}
        self.cryptohub = Server("cryptohub.asgi:application", workers=self.workers, env=server_env,
                                ready_path="/api/data/", log_dir=tmp)
        self.hello = Server("bench.hello:app", workers=self.workers, env=server_env, ready_path="/", log_dir=tmp)

    def _create_price_pool(self) -> None:
        from pools.models import Pool, PoolMembership
        from providers.models import Provider

        pool = Pool.objects.create(slug="price", name="Price", capability="price", strategy="priority")
        for n, slug in enumerate(PRICE_PROVIDERS):
            provider = Provider.objects.create(
                slug=slug, name=slug.title(), category="market_data", base_url=self.upstream.base_url(slug),
                health_path="/ping", rate_limits="", timeout_s=5,
            )
            PoolMembership.objects.create(pool=pool, provider=provider, priority=100 - 10 * n)

    def _load_catalogue(self) -> list[str]:
        """The shipped catalogue over the fake upstream; returns the key variables it names.

        The same logic as `manage.py load_providers`. The three price providers created above are
        kept as they are (they count as operator edits), and the price pool keeps exactly those
        three members, so figures (a)-(e) run against the pool issue 3 describes. Every other
        provider is repointed at the fake, with no rate limits and the 5 s timeout.
        """
        from pools.catalogue import load_catalogue
        from pools.models import PoolMembership
        from providers.models import Provider
        from providers.runtime import bump_config_version

        load_catalogue(CATALOGUE)
        PoolMembership.objects.filter(pool__slug="price").exclude(provider__slug__in=PRICE_PROVIDERS).delete()
        others = list(Provider.objects.exclude(slug__in=PRICE_PROVIDERS))
        for provider in others:
            provider.base_url = self.upstream.base_url(provider.slug)
            provider.rate_limits = ""
            provider.timeout_s = 5
        # No server runs yet, so no signal is needed; bump the version once all the same.
        Provider.objects.bulk_update(others, ["base_url", "rate_limits", "timeout_s"])
        bump_config_version()
        return sorted({p.api_key_env for p in Provider.objects.exclude(api_key_env="")})

    def configure(self, *, members: tuple[str, ...] = PRICE_PROVIDERS, limits: dict[str, str] | None = None) -> None:
        """Change the price pool through the ORM (as the admin would) and wait until it is live."""
        from pools.models import PoolMembership
        from providers.models import Provider

        for membership in PoolMembership.objects.filter(pool__slug="price").select_related("provider"):
            enabled = membership.provider.slug in members
            if membership.enabled != enabled:
                membership.enabled = enabled
                membership.save()
        for provider in Provider.objects.all():
            wanted = (limits or {}).get(provider.slug, "")
            if provider.rate_limits != wanted:
                provider.rate_limits = wanted
                provider.save()
        time.sleep(RELOAD_WAIT_S)

    def reset_runtime(self, *slugs: str) -> None:
        """Close the providers' breakers and forget their latency samples (between figures)."""
        import redis

        from healing.engine.breaker import breaker_key
        from healing.engine.ratelimit import cooldown_key
        from pools.state import latency_key

        client = redis.Redis.from_url(self.redis.url)
        try:
            client.delete(*[k for s in slugs for k in (breaker_key(s), cooldown_key(s), latency_key(s))])
        finally:
            client.close()

    def stop(self) -> None:
        for part in (self.hello, self.cryptohub, self.upstream, self.redis):
            if part is not None:
                try:
                    getattr(part, "close", part.stop)()  # a restartable Redis also removes its dir
                except Exception as exc:  # noqa: BLE001 - keep tearing the rest down
                    print(f"warning: could not stop {part!r}: {exc}", file=sys.stderr)
        self.hello = self.cryptohub = self.upstream = self.redis = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
