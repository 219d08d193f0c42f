"""Where the control plane meets runtime state in Redis: key naming and the config version.

Every process of the data plane keeps a snapshot of providers and pools and reloads it when
the version key changes, so every write to the catalogue bumps it (see signals.py).
"""

import functools
import logging

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

CONFIG_VERSION_KEY = "config:version"


def rkey(*parts: object) -> str:
    """A namespaced Redis key: the deployment's prefix, then the parts joined with ':'."""
    return settings.CRYPTOHUB_REDIS_PREFIX + ":".join(str(p) for p in parts)


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


def sync_redis() -> redis.Redis:
    """The process's sync Redis client (connection-pooled; safe to share between threads)."""
    return _client(settings.REDIS_URL)


def bump_config_version() -> int | None:
    """Tell every process the catalogue changed. A Redis outage must not fail the save itself."""
    try:
        return int(sync_redis().incr(rkey(CONFIG_VERSION_KEY)))
    except redis.RedisError as exc:
        logger.warning("config version not bumped, Redis unavailable: %s", exc)
        return None
