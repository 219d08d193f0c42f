"""Config-version bumps on every pool write (see providers/signals.py for why signals)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from providers.runtime import bump_config_version

from .models import Pool, PoolMembership


@receiver([post_save, post_delete], sender=Pool, dispatch_uid="pool-config-version")
@receiver([post_save, post_delete], sender=PoolMembership, dispatch_uid="membership-config-version")
def pool_changed(**kwargs) -> None:
    transaction.on_commit(bump_config_version)
