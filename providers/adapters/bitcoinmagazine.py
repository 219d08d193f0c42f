"""Bitcoin Magazine news RSS (https://bitcoinmagazine.com/feed): GMT dates, opaque hex guids, full
articles in content:encoded, and a Media RSS image with its own title and caption before the
story's text (kept out of the summary by rss.py); opinion pieces come without a description."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class BitcoinMagazine(RssAdapter):
    slug = "bitcoinmagazine"
    source_name = "Bitcoin Magazine"
