"""U.Today news RSS (https://u.today/rss): Drupal. Descriptions are entity-escaped HTML (not CDATA),
dates carry +0300, guids are Drupal's "<node id> at https://u.today" (never a URL), and
sponsored items may come without a link."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class UToday(RssAdapter):
    slug = "utoday"
    source_name = "U.Today"
