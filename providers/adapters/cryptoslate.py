"""CryptoSlate news RSS (https://cryptoslate.com/feed/): WordPress, `?p=` guids that are not
permalinks, excerpts cut with " [&#8230;]" (kept as an ellipsis), entities in titles."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class CryptoSlate(RssAdapter):
    slug = "cryptoslate"
    source_name = "CryptoSlate"
