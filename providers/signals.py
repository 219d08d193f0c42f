"""Config-version bumps on every catalogue write.

Cache invalidation is the one place we use signals: provider rows are written from the admin
(including inlines and bulk actions), the API, load_providers and tests, and a missed bump would
leave a process serving an old snapshot. Domain workflows never hang off signals.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Provider
from .runtime import bump_config_version


@receiver([post_save, post_delete], sender=Provider, dispatch_uid="provider-config-version")
def provider_changed(**kwargs) -> None:
    transaction.on_commit(bump_config_version)
