"""Helpers of the catalogue tests: the shipped catalogue file, edited copies of it, and every
catalogue row."""

import json
from pathlib import Path

from django.conf import settings

from pools.models import Pool, PoolMembership
from providers.models import Provider

SHIPPED = Path(settings.BASE_DIR) / "fixtures" / "providers.json"


def shipped() -> dict:
    return json.loads(SHIPPED.read_text())


def write(tmp_path: Path, data: dict, name: str = "catalogue.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2))
    return path


def entry(data: dict, slug: str) -> dict:
    return next(p for p in data["providers"] if p["slug"] == slug)


def db_snapshot() -> tuple:
    """Every catalogue row with every column, to prove a failed load wrote nothing."""
    return (
        list(Provider.objects.order_by("slug").values()),
        list(Pool.objects.order_by("slug").values()),
        list(PoolMembership.objects.order_by("pool__slug", "provider__slug").values()),
    )
