"""Config-version bumps on every catalogue write.

Cache invalidation is the one place we use signals: provider rows are written from the admin
(including inlines and bulk actions), the API, load_providers and tests, and a missed bump would
leave a process serving an old snapshot. Domain workflows never hang off signals.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Asset, Provider, ProviderAsset
from .runtime import bump_config_version


@receiver([post_save, post_delete], sender=Provider, dispatch_uid="provider-config-version")
def provider_changed(**kwargs) -> None:
    transaction.on_commit(bump_config_version)


@receiver([post_save, post_delete], sender=Asset, dispatch_uid="asset-config-version")
@receiver([post_save, post_delete], sender=ProviderAsset, dispatch_uid="provider-asset-config-version")
def asset_changed(**kwargs) -> None:
    # An operator's edit of the registry reaches the data plane like any catalogue edit.
    transaction.on_commit(bump_config_version)
