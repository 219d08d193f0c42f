"""CryptoPotato news RSS (https://cryptopotato.com/feed/): WordPress, the "appeared first on
CryptoPotato" footer (dropped), `?p=` guids."""

from __future__ import annotations

from providers.adapters.rss import RssAdapter


class CryptoPotato(RssAdapter):
    slug = "cryptopotato"
    source_name = "CryptoPotato"
