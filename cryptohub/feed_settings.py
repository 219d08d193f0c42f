"""The live feed's settings (ws://HOST/ws/live/), read from the environment; cryptohub.settings imports them."""

import environ

env = environ.Env()

# Live feed: stats period; price tick period (unset: the price TTL); heartbeat; silence before a client is
# closed; messages a slow client may have waiting; how long presence gathers connects before telling.
CRYPTOHUB_FEED_STATS_S = env.float("CRYPTOHUB_FEED_STATS_S", default=5.0)
CRYPTOHUB_FEED_PRICE_TICK_S = env.float("CRYPTOHUB_FEED_PRICE_TICK_S", default=None)
CRYPTOHUB_FEED_HEARTBEAT_S = env.float("CRYPTOHUB_FEED_HEARTBEAT_S", default=20.0)
CRYPTOHUB_FEED_IDLE_S = env.float("CRYPTOHUB_FEED_IDLE_S", default=60.0)
CRYPTOHUB_FEED_QUEUE_SIZE = env.int("CRYPTOHUB_FEED_QUEUE_SIZE", default=256)
CRYPTOHUB_FEED_PRESENCE_DEBOUNCE_S = env.float("CRYPTOHUB_FEED_PRESENCE_DEBOUNCE_S", default=1.0)

__all__ = [name for name in dir() if name.startswith("CRYPTOHUB_FEED_")]
