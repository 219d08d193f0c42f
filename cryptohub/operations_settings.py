"""Operations settings (README: "Cache control", "The activity log"); cryptohub.settings imports them."""

import environ

from cryptohub.envbool import envbool

env = environ.Env()

# The activity log (healing/activity.py): on or off, and about how many entries the shared
# stream keeps (the oldest go first).
CRYPTOHUB_ACTIVITY_LOG = envbool("CRYPTOHUB_ACTIVITY_LOG", True)
CRYPTOHUB_ACTIVITY_MAX = env.int("CRYPTOHUB_ACTIVITY_MAX", default=10_000)
# How many of the most requested answers a cache warm-up asks for again (healing/cache_warmup.py).
CRYPTOHUB_CACHE_WARM_TOP = env.int("CRYPTOHUB_CACHE_WARM_TOP", default=50)
