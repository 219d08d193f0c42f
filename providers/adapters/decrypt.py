"""Decrypt news RSS (https://decrypt.co/feed)."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class Decrypt(RssAdapter):
    slug = "decrypt"
    source_name = "Decrypt"
