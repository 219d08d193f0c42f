"""News: the feeds of The Block, Blockworks, Bitcoin Magazine, CryptoSlate, NewsBTC, U.Today,
BeInCrypto and CryptoPotato, each in its own real shape (see the adapters' docstrings and the
golden feeds in tests/payloads/): The Block RSS with US Eastern offsets and Media RSS captions
ahead of the description; Blockworks Atom with only <updated>; Bitcoin Magazine GMT dates and
content:encoded only on some items; WordPress sites with their footers, `[&#8230;]` excerpts and
&#038; links; U.Today's Drupal RSS with entity-escaped HTML, +0300 dates and "<nid> at" guids.

Like feeds.py, a feed answers on any path under its slug and dates its items by the fake's clock.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from tests.fake_upstream.feeds import ATOM_TYPE, RSS_TYPE, feed_answer, rfc822, slugify
from tests.fake_upstream.market import iso_z

US_EASTERN_SUMMER = timezone(timedelta(hours=-4))
KYIV_SUMMER = timezone(timedelta(hours=3))
MRSS = 'xmlns:media="http://search.yahoo.com/mrss/"'
WP_NS = ('xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
         'xmlns:atom="http://www.w3.org/2005/Atom"')

# (minutes before now, title, summary)
STORIES = {
    "theblock": [(12, "Spot Bitcoin ETFs Log Eighth Day of Inflows", "BlackRock's IBIT led $386 million of inflows."),
                 (75, "Ethereum Foundation Sells 1,000 ETH", "The sale funds research grants.")],
    "blockworks": [(20, "Stablecoin Bill Clears Senate Hurdle", "The GENIUS Act advanced 68-30."),
                   (140, "Solana Validators Back Faster Blocks", "The Alpenglow vote passed with 98% support.")],
    "bitcoinmagazine": [(33, "Metaplanet Buys Another 1,088 BTC", "Its treasury now holds 8,888 bitcoin."),
                        (180, "Why Self-Custody Still Matters", "Not your keys, not your coins.")],
    "cryptoslate": [(27, "Bitcoin Realized Cap Hits a Record $950B", "Long-term holders keep 74% of supply")],
    "newsbtc": [(16, "XRP Price Starts Fresh Increase", "XRP climbed above the $2.25 zone."),
                (122, "Ethereum Whales Add 800,000 ETH", "Large holders bought the dip.")],
    "utoday": [(38, "Shiba Inu Burn Rate Skyrockets 4,200%", "Holders burned 1.1 billion SHIB in a day."),
               (95, "Cardano Founder Reacts to ETF Delay", "Hoskinson says the roadmap is unchanged.")],
    "beincrypto": [(24, "3 Altcoins to Watch This Week", "Token unlocks line up for SUI, ONDO and PEPE."),
                   (230, "Crypto Fund Outflows Hit $1 Billion", "Funds saw a second week of withdrawals.")],
    "cryptopotato": [(21, "Bitcoin Price Analysis: Can Bulls Push for a New ATH?", "BTC reclaimed $108K."),
                     (104, "Ripple's RLUSD Tops $400 Million", "The stablecoin keeps growing.")],
}


def _rss(channel: str, items: str, now: float, *, namespaces: str = "", built: str | None = None) -> bytes:
    built = built if built is not None else rfc822(now - 90)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {namespaces}>\n<channel>{channel}'
            f"<lastBuildDate>{built}</lastBuildDate>\n{items}</channel></rss>\n").encode("utf-8")


def _theblock(now: float) -> bytes:
    items = "".join(
        f"<item><title><![CDATA[{title}]]></title><link>https://www.theblock.co/post/{357000 + n}/{slugify(title)}"
        f"?utm_source=rss&amp;utm_medium=rss</link><guid isPermaLink=\"false\">{357000 + n}</guid>"
        f"<pubDate>{rfc822(now - minutes * 60, US_EASTERN_SUMMER)}</pubDate>"
        # The image's caption comes first, as on the real feed: it must not become the summary.
        f'<media:content url="https://www.tbstat.com/{n}.jpg" medium="image"><media:description type="html">'
        f"<![CDATA[Image: The Block]]></media:description></media:content>"
        f"<description><![CDATA[<p>{summary}</p>]]></description></item>\n"
        for n, (minutes, title, summary) in enumerate(STORIES["theblock"]))
    return _rss("<title><![CDATA[The Block]]></title><link>https://www.theblock.co</link>", items, now,
                namespaces=f"{WP_NS} {MRSS}", built=rfc822(now - 60, US_EASTERN_SUMMER))


def _blockworks(now: float) -> bytes:
    entries = "".join(
        f'<entry><title type="html"><![CDATA[{title}]]></title><id>https://blockworks.co/news/{slugify(title)}</id>'
        f'<link href="https://blockworks.co/news/{slugify(title)}"/>'
        f"<updated>{iso_z(now - minutes * 60).replace('Z', '.000Z')}</updated>"
        f'<content type="html"><![CDATA[<p>{summary}</p>]]></content><author><name>Ben Strack</name></author></entry>\n'
        for minutes, title, summary in STORIES["blockworks"])
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            "<id>https://blockworks.co/feed</id><title>Blockworks</title>"
            f"<updated>{iso_z(now - 120).replace('Z', '.000Z')}</updated>"
            f'<link rel="alternate" href="https://blockworks.co"/>\n{entries}</feed>\n').encode("utf-8")


def _bitcoinmagazine(now: float) -> bytes:
    items = []
    for n, (minutes, title, summary) in enumerate(STORIES["bitcoinmagazine"]):
        # Opinion pieces carry no description, only the article.
        description = f"<description><![CDATA[{summary}]]></description>" if n == 0 else ""
        items.append(
            f"<item><title><![CDATA[{title}]]></title>{description}"
            f"<link>https://bitcoinmagazine.com/markets/{slugify(title)}</link>"
            f'<guid isPermaLink="false">6847f0c2a1d3e8000{n}b2c3d4</guid>'
            f"<dc:creator><![CDATA[Vivek Sen]]></dc:creator><pubDate>{rfc822(now - minutes * 60)}</pubDate>"
            f'<media:content medium="image" url="https://bitcoinmagazine.com/.image/{n}.jpg">'
            f'<media:title type="plain"><![CDATA[Photo]]></media:title></media:content>'
            f"<content:encoded><![CDATA[<p>{summary}</p>]]></content:encoded></item>\n")
    return _rss("<title><![CDATA[Bitcoin Magazine]]></title><link>https://bitcoinmagazine.com</link>",
                "".join(items), now, namespaces=f"{WP_NS} {MRSS}").replace(b"+0000", b"GMT")


def _wordpress(slug: str, site: str, name: str, now: float, *, footer: bool, more: bool) -> bytes:
    items = []
    for n, (minutes, title, summary) in enumerate(STORIES[slug]):
        cut = " [&#8230;]" if more else ""
        tail = (f'<p>The post <a href="https://{site}/{slugify(title)}/">{escape(title)}</a> appeared first on '
                f'<a href="https://{site}">{name}</a>.</p>') if footer else ""
        items.append(
            f"<item><title>{escape(title)}</title><link>https://{site}/{slugify(title)}/?utm_source=rss&#038;"
            f"utm_medium=rss&#038;utm_campaign={slugify(title)}</link><dc:creator><![CDATA[{name} Staff]]>"
            f"</dc:creator><pubDate>{rfc822(now - minutes * 60)}</pubDate>"
            f'<guid isPermaLink="false">https://{site}/?p={600000 + n}</guid>'
            f"<description><![CDATA[<p>{summary}{cut}</p>\n{tail}]]></description></item>\n")
    return _rss(f"<title>{name}</title><link>https://{site}</link>", "".join(items), now, namespaces=WP_NS)


def _utoday(now: float) -> bytes:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://u.today/{slugify(title)}</link>"
        f"<description>{escape(f'<p>{summary}&nbsp;</p>')}</description>"
        f"<pubDate>{rfc822(now - minutes * 60, KYIV_SUMMER)}</pubDate><dc:creator>Gamza Khanzadaev</dc:creator>"
        f'<guid isPermaLink="false">{304500 + n} at https://u.today</guid></item>\n'
        for n, (minutes, title, summary) in enumerate(STORIES["utoday"]))
    # Drupal's views feed has no lastBuildDate.
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xml:base="https://u.today/" {WP_NS}>'
            f"<channel><title>U.Today</title><link>https://u.today/</link>\n{items}</channel></rss>\n").encode()


def _beincrypto(now: float) -> bytes:
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://beincrypto.com/{slugify(title)}/</link>"
        f"<pubDate>{rfc822(now - minutes * 60)}</pubDate>"
        f'<guid isPermaLink="false">https://beincrypto.com/?p={745600 + n}</guid>'
        f'<media:content url="https://beincrypto.com/{n}.png" medium="image"><media:description type="plain">'
        f"<![CDATA[{escape(title)}]]></media:description></media:content>"
        f'<description><![CDATA[<img src="https://beincrypto.com/{n}.png" />{summary.replace(" ", "&nbsp;", 1)}]]>'
        f"</description></item>\n"
        for n, (minutes, title, summary) in enumerate(STORIES["beincrypto"]))
    return _rss("<title>BeInCrypto</title><link>https://beincrypto.com/</link>", items, now,
                namespaces=f"{WP_NS} {MRSS}")


FEEDS: dict[str, tuple[Any, str]] = {
    "theblock": (_theblock, RSS_TYPE), "blockworks": (_blockworks, ATOM_TYPE),
    "bitcoinmagazine": (_bitcoinmagazine, RSS_TYPE),
    "cryptoslate": (lambda now: _wordpress("cryptoslate", "cryptoslate.com", "CryptoSlate", now, footer=False,
                                           more=True), RSS_TYPE),
    "newsbtc": (lambda now: _wordpress("newsbtc", "www.newsbtc.com", "NewsBTC", now, footer=True, more=False),
                RSS_TYPE),
    "utoday": (_utoday, RSS_TYPE), "beincrypto": (_beincrypto, RSS_TYPE),
    "cryptopotato": (lambda now: _wordpress("cryptopotato", "cryptopotato.com", "CryptoPotato", now, footer=True,
                                            more=False), RSS_TYPE),
}
SOURCES = {"theblock": "The Block", "blockworks": "Blockworks", "bitcoinmagazine": "Bitcoin Magazine",
           "cryptoslate": "CryptoSlate", "newsbtc": "NewsBTC", "utoday": "U.Today", "beincrypto": "BeInCrypto",
           "cryptopotato": "CryptoPotato"}


PROVIDERS = {slug: feed_answer(*FEEDS[slug]) for slug in FEEDS}
