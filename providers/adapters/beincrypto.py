"""BeInCrypto news RSS (https://beincrypto.com/feed/): WordPress; descriptions open with the
featured <img> and use &nbsp;, and a Media RSS caption precedes the description (rss.py keeps it
out of the summary)."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class BeInCrypto(RssAdapter):
    slug = "beincrypto"
    source_name = "BeInCrypto"
