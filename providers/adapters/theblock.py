"""The Block news RSS (https://www.theblock.co/rss.xml): CDATA titles, opaque numeric guids, US
Eastern offsets (-0400/-0500) on every date, utm_* links (dropped) and Media RSS images whose
captions sometimes come before the item's description (feedparser's trap, handled in rss.py)."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class TheBlock(RssAdapter):
    slug = "theblock"
    source_name = "The Block"
