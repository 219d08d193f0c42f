from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "Providers"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers system checks and config-version bumps)
