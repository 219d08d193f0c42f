"""NewsBTC news RSS (https://www.newsbtc.com/feed/): WordPress, Bitcoinist's sister site: utm_*
links written with &#038;, and the "The post … appeared first on NewsBTC." footer (dropped)."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class NewsBtc(RssAdapter):
    slug = "newsbtc"
    source_name = "NewsBTC"
