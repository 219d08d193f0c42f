"""Helpers of the issue-4 adapter tests: golden payloads on disk, adapters by slug, common params."""

import json
from importlib import import_module
from pathlib import Path

from providers.registry import ADAPTERS

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"

TWO = {"ids": ["bitcoin", "ethereum"], "vs": "usd"}
ONE = {"ids": ["bitcoin"], "vs": "usd"}


def adapter(slug: str):
    module_path, _, class_name = ADAPTERS[slug].rpartition(".")
    return getattr(import_module(module_path), class_name)()


def load(slug: str, name: str):
    return json.loads((PAYLOADS / slug / f"{name}.json").read_bytes())
