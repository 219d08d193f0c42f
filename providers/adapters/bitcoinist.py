"""Bitcoinist news RSS (https://bitcoinist.com/feed/): WordPress, descriptions end with an "appeared first on"
footer that is dropped."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class Bitcoinist(RssAdapter):
    slug = "bitcoinist"
    source_name = "Bitcoinist"
