"""API clients ("virtual keys"): who may call the data plane, for which capabilities, how often.

Only the key's sha256 is stored; the key itself is shown once, when the admin creates it. The
data plane never reads this table: healing.catalogue copies it into the config snapshot.

Usage lives in Redis, not here: the data plane's inbound check counts every request of a client
(and of all anonymous callers together) in the hash `clients:usage:<name>` (requests, limited,
last_seen) and in `clients:usage:<name>:<YYYY-MM-DD>` (requests, limited; that UTC day, kept
USAGE_DAY_TTL_S). The key format is defined here, once, for the writer (healing.dataplane.inbound)
and the readers (healing.monitoring.client_usage).
"""

from __future__ import annotations

import hashlib
import secrets
import time

from django.core.exceptions import ValidationError
from django.db import models, transaction
from limits import parse_many

from providers.runtime import bump_config_version, rkey

KEY_PREFIX = "chk_"
# Usage names that are not clients: every keyless caller together, and keyless callers let in
# by a staff session while CRYPTOHUB_PUBLIC_READ is off. No client may take these names.
ANONYMOUS = "anonymous"
STAFF_SESSION = "staff-session"
RESERVED_NAMES = (ANONYMOUS, STAFF_SESSION)
USAGE_KEY = "clients:usage"
# Per-day usage hashes are kept this long (seconds): a week of daily figures, then gone.
USAGE_DAY_TTL_S = 8 * 86400


def usage_key(name: str, day: str | None = None) -> str:
    """The usage hash of a caller (requests, limited, last_seen), or of one UTC day of it."""
    return rkey(USAGE_KEY, name) if day is None else rkey(USAGE_KEY, name, day)


def utc_day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiClient(models.Model):
    name = models.CharField(max_length=100, unique=True)
    key_prefix = models.CharField(max_length=16, editable=False, help_text="first characters, for recognising a key")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    enabled = models.BooleanField(default=True)
    capabilities = models.JSONField(default=list, blank=True, help_text="allowed capabilities; empty = all")
    limits = models.CharField(max_length=200, blank=True, help_text='e.g. "60/minute;10000/day"; empty = no limit')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.name in RESERVED_NAMES:
            raise ValidationError({"name": f"{self.name!r} is reserved for usage figures"})
        if self.limits:
            try:
                parse_many(self.limits)
            except ValueError:
                raise ValidationError({"limits": f"not a limits string: {self.limits!r}"}) from None
        if not isinstance(self.capabilities, list) or not all(isinstance(c, str) for c in self.capabilities):
            raise ValidationError({"capabilities": "a list of capability names"})

    def set_new_key(self) -> str:
        """Give the client a fresh key; the caller shows it once, only its hash is kept."""
        key = new_key()
        self.key_prefix = key[:10]
        self.key_hash = hash_key(key)
        return key

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # The data plane reads clients from the config snapshot: make every process reload.
        transaction.on_commit(bump_config_version)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        transaction.on_commit(bump_config_version)
        return result
