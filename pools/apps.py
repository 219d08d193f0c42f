from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "pools"
    verbose_name = "Pools"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (config-version bumps)
