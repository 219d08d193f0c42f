"""Blockworks news feed (https://blockworks.co/feed): Atom, not RSS. Entries carry only <updated>
(with milliseconds), an HTML <title type="html">, and a <summary> on some entries only; the others
are summarized from their <content>."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class Blockworks(RssAdapter):
    slug = "blockworks"
    source_name = "Blockworks"
