"""The healing app's admin (Django autodiscovers `healing.admin`): each module registers its models."""

from . import backup, clients, discovery, monitoring, operations, providers  # noqa: F401  (registration happens on import)
