"""The per-process config snapshot: providers and pools as frozen dataclasses, reloaded on change.

`SnapshotHolder` keeps the current snapshot for the data plane; a background task polls the
config version key in Redis (one cheap GET every CHECK_INTERVAL_S) and calls its builder when
the version moved (healing.catalogue builds from the ORM in a worker thread), so the request
path never touches the ORM and an admin edit is live everywhere within ~1 s. ORM-free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis
import redis.asyncio

from healing.engine.config import Snapshot
from providers.runtime import CONFIG_VERSION_KEY, rkey

logger = logging.getLogger(__name__)

# How often each process asks Redis whether the config changed (seconds). One GET per tick;
# with the rebuild itself taking milliseconds, an edit is live in every process within ~0.5 s.
CHECK_INTERVAL_S = 0.5
# After a failed reload (database locked, Redis down) wait this long before trying again.
RETRY_AFTER_ERROR_S = 2.0
# How long `stop` waits for the poller to end (it ends at once unless a rebuild is running).
STOP_WAIT_S = 10.0


async def read_config_version(r: redis.asyncio.Redis) -> int:
    raw = await r.get(rkey(CONFIG_VERSION_KEY))
    return int(raw) if raw is not None else 0


@dataclass(frozen=True)
class ClientConfig:
    """One API client as the data plane sees it (healing.models.ApiClient without the ORM)."""

    name: str
    enabled: bool = True
    capabilities: frozenset[str] = frozenset()  # empty: every capability
    limits: str = ""


Builder = Callable[[int], Awaitable[Snapshot]]


class SnapshotHolder:
    """One per process: the current snapshot, swapped (never mutated) when the version changes."""

    def __init__(
        self,
        redis_client: redis.asyncio.Redis,
        *,
        builder: Builder,
        check_interval_s: float = CHECK_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis_client
        self._builder = builder
        self._interval = check_interval_s
        self._monotonic = monotonic
        self._snapshot: Snapshot | None = None
        self._seen_version: int | None = None
        self._last_check = float("-inf")
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self._version_unreadable = False  # warn once per Redis outage, not once per poll

    @property
    def current(self) -> Snapshot | None:
        return self._snapshot

    async def start(self) -> None:
        """Load once (a failure is logged, not raised: the loop keeps trying) and start polling."""
        try:
            await self.refresh()
        except Exception:
            logger.exception("initial config snapshot failed; the poller keeps trying")
        self._stopping = asyncio.Event()  # made on the loop that polls
        self._task = asyncio.create_task(self._poll_forever(), name="cryptohub-snapshot-poll")

    async def stop(self) -> None:
        if self._task is not None:
            # The event, not only the cancel: a cancel landing while the builder runs in a thread
            # (sync_to_async) can be swallowed, and the loop must still end at its next turn.
            self._stopping.set()
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=STOP_WAIT_S)
            self._task = None

    async def get(self) -> Snapshot:
        """The snapshot to serve this request with.

        With the background poller running this is a plain attribute read. Without it (an app
        used without lifespan) the check happens inline, still at most once per interval.
        """
        polling = self._task is not None and not self._task.done()
        if self._snapshot is None or (not polling and self._monotonic() - self._last_check >= self._interval):
            await self.refresh()
        assert self._snapshot is not None
        return self._snapshot

    async def refresh(self, *, force: bool = False) -> bool:
        """Rebuild if the version in Redis moved (or nothing is loaded yet). True if it rebuilt."""
        async with self._lock:
            self._last_check = self._monotonic()
            try:
                version = await read_config_version(self._redis)
            except redis.RedisError as exc:
                if self._snapshot is not None:
                    # Keep serving the last known config through a Redis outage.
                    if not self._version_unreadable:
                        logger.warning("config version check failed, keeping snapshot v%s: %s",
                                       self._snapshot.version, exc)
                    self._version_unreadable = True
                    return False
                version = 0
            self._version_unreadable = False
            if not force and self._snapshot is not None and version == self._seen_version:
                return False
            # Read the version *before* building: an edit landing during the build leaves the
            # recorded version behind, so the next check rebuilds again instead of missing it.
            snapshot = await self._builder(version)
            self._snapshot = snapshot
            self._seen_version = version
            logger.info("config snapshot v%s loaded: %d providers, %d pools",
                        version, len(snapshot.providers), len(snapshot.pools))
            return True

    async def _poll_forever(self) -> None:
        pause = self._interval
        while not await self._stopped_within(pause):
            pause = self._interval
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("config snapshot reload failed; retrying in %ss", RETRY_AFTER_ERROR_S)
                pause = RETRY_AFTER_ERROR_S

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return self._stopping.is_set()
