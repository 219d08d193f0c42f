"""CoinDesk news RSS (https://www.coindesk.com/arc/outboundfeeds/rss/): Arc XP, CDATA titles, opaque guids."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class CoinDesk(RssAdapter):
    slug = "coindesk"
    source_name = "CoinDesk"
