"""News: the RSS/Atom feeds of CoinDesk, Cointelegraph, Bitcoinist and Decrypt, and CryptoPanic posts.

A feed provider's base URL is the feed itself, so a feed answers on any path under its slug
(/coindesk, /coindesk/, /coindesk/arc/outboundfeeds/rss/). The feeds differ the way real ones do:
CoinDesk is UTF-8 RSS with CDATA, Cointelegraph is RSS declared ISO-8859-1 in its XML prolog
(bytes encoded so, HTML descriptions, utm links, a +0100 offset), Bitcoinist is WordPress RSS
with missing fields, and Decrypt is served as Atom. Items are dated relative to the fake's clock;
headlines are clearly positive or negative so sentiment can be checked on them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from tests.fake_upstream.market import Answer, _q, generic_answer, iso_z

RSS_TYPE = "application/rss+xml"  # no charset: the XML prolog decides, as on most feed servers
ATOM_TYPE = "application/atom+xml"
LONDON_SUMMER = timezone(timedelta(hours=1))

# (minutes before now, title, summary)
STORIES = {
    "coindesk": [
        (18, "Bitcoin Tops $109K as ETF Inflows Extend to Eighth Straight Day",
         "Spot bitcoin ETFs drew another $386 million on Monday, a strong and growing rally."),
        (95, "Ether Lags as Staking Outflows Weigh on Price", "ETH slipped while validators queued to exit."),
        (160, "Crypto Lender Collapses After Massive Hack, Users Fear Heavy Losses",
         "Withdrawals are frozen after attackers drained hot wallets."),
    ],
    "cointelegraph": [
        (25, "Société Générale's Euro Stablecoin Wins Approval, a Great Step for Adoption",
         "The bank's EURCV token gains momentum in Málaga and beyond, priced at £0.86."),
        (70, "Regulators Sue Exchange Over Fraud and Market Manipulation",
         "The complaint alleges wash trading and misleading customers."),
        (130, "Solana DEX Volume Hits Record High", "Decentralized exchanges on Solana handled $98 billion."),
    ],
    "bitcoinist": [
        (40, "Dogecoin Surges 12% as Whales Accumulate", "Large holders added 1.2 billion DOGE this week."),
        (None, "Analysts Warn of Painful Bitcoin Correction Ahead", "Funding rates point to an overheated market."),
        (150, "", "An item without a title is dropped by the reader."),
        (200, "Ethereum Developers Confirm Upgrade Date", "Core developers agreed on the next hard fork."),
    ],
    "decrypt": [
        (30, "AI Tokens Rally as Traders Celebrate Strong Earnings", "Tokens tied to AI projects jumped."),
        (110, "Hackers Steal $40 Million in Bridge Exploit, a Terrible Blow to DeFi",
         "The attack drained a cross-chain bridge."),
    ],
}


def slugify(title: str) -> str:
    # URL slugs are plain ASCII: "Société" -> "societe".
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return "-".join(filter(None, ("".join(c for c in w if c.isalnum()) for w in ascii_title.lower().split())))[:80]


def rfc822(epoch: float, tz: timezone = UTC) -> str:
    return format_datetime(datetime.fromtimestamp(epoch, tz=tz))


def _coindesk(now: float) -> bytes:
    items = "".join(
        f"<item><title><![CDATA[{title}]]></title>"
        f"<link>https://www.coindesk.com/markets/2025/06/10/{slugify(title)}</link>"
        f'<guid isPermaLink="false">CD{index:024d}</guid><dc:creator><![CDATA[Omkar Godbole]]></dc:creator>'
        f"<description><![CDATA[{summary}]]></description><pubDate>{rfc822(now - minutes * 60)}</pubDate>"
        f"<category>Markets</category><category>Bitcoin</category>"
        f'<media:content url="https://cdn.sanity.io/images/{index}.jpg" type="image/jpeg" medium="image">'
        f"<media:credit><![CDATA[CoinDesk]]></media:credit></media:content></item>\n"
        for index, (minutes, title, summary) in enumerate(STORIES["coindesk"]))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" version="2.0">\n'
        "<channel><title><![CDATA[CoinDesk: Bitcoin, Ethereum, Crypto News and Price Data]]></title>"
        f"<link>https://www.coindesk.com</link><lastBuildDate>{rfc822(now - 5)}</lastBuildDate>"
        f"<language>en</language>\n{items}</channel></rss>\n").encode("utf-8")


def _cointelegraph(now: float) -> bytes:
    items = "".join(
        f"<item><title>{escape(title)}</title>"
        f"<link>https://cointelegraph.com/news/{slugify(title)}?utm_source=rss_feed&amp;utm_medium=rss"
        f"&amp;utm_campaign=rss_partner_inbound</link>"
        f'<guid isPermaLink="true">https://cointelegraph.com/news/{slugify(title)}</guid>'
        f"<dc:creator><![CDATA[Cointelegraph by Ana Paula Pereira]]></dc:creator>"
        f"<pubDate>{rfc822(now - minutes * 60, LONDON_SUMMER)}</pubDate>"
        f'<description><![CDATA[<p style="float:right; margin:0 0 10px 15px; width:240px;">'
        f'<img src="https://images.cointelegraph.com/{index}.jpg"></p><p>{summary}</p>]]></description>'
        f'<enclosure url="https://images.cointelegraph.com/{index}.jpg" length="0" type="image/jpeg"/></item>\n'
        for index, (minutes, title, summary) in enumerate(STORIES["cointelegraph"]))
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">\n'
        "<channel><title>Cointelegraph.com News</title><link>https://cointelegraph.com</link>"
        f"<lastBuildDate>{rfc822(now - 60, LONDON_SUMMER)}</lastBuildDate>\n{items}</channel></rss>\n")
    return text.encode("iso-8859-1")


def _bitcoinist(now: float) -> bytes:
    items = []
    for index, (minutes, title, summary) in enumerate(STORIES["bitcoinist"]):
        post_id = 480000 + index
        # The second story has no pubDate, the third no title; the fourth no <link>, only a permalink guid.
        date = f"<pubDate>{rfc822(now - minutes * 60)}</pubDate>" if minutes is not None else ""
        link = "" if index == 3 else (f"<link>https://bitcoinist.com/{slugify(title) or 'untitled'}/"
                                      f"?utm_source=rss&#038;utm_medium=rss</link>")
        items.append(
            f"<item><title>{escape(title)}</title>{link}<dc:creator><![CDATA[Bitcoinist]]></dc:creator>{date}"
            f"<category><![CDATA[Bitcoin News]]></category><guid>https://bitcoinist.com/?p={post_id}</guid>"
            f"<description><![CDATA[{summary} The post {title or 'Untitled'} appeared first on Bitcoinist.com.]]>"
            f"</description><content:encoded><![CDATA[<p>{summary}</p>]]></content:encoded></item>\n")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"<channel><title>Bitcoinist.com</title><link>https://bitcoinist.com</link>"
        f"<lastBuildDate>{rfc822(now - 120)}</lastBuildDate>\n{''.join(items)}</channel></rss>\n").encode("utf-8")


def _decrypt(now: float) -> bytes:
    entries = "".join(
        f"<entry><title>{escape(title)}</title>"
        f'<link rel="alternate" href="https://decrypt.co/{324560 + index}/{slugify(title)}"/>'
        f"<id>https://decrypt.co/?p={324560 + index}</id><published>{iso_z(now - minutes * 60)}</published>"
        f"<updated>{iso_z(now - minutes * 60)}</updated><author><name>André Beganski</name></author>"
        f'<summary type="html">{escape(f"<p>{summary}</p>")}</summary></entry>\n'
        for index, (minutes, title, summary) in enumerate(STORIES["decrypt"]))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        '<title>Decrypt</title><link rel="alternate" href="https://decrypt.co"/><id>https://decrypt.co/</id>'
        f"<updated>{iso_z(now - 300)}</updated>\n{entries}</feed>\n").encode("utf-8")


FEEDS = {"coindesk": (_coindesk, RSS_TYPE), "cointelegraph": (_cointelegraph, RSS_TYPE),
         "bitcoinist": (_bitcoinist, RSS_TYPE), "decrypt": (_decrypt, ATOM_TYPE)}


def feed_answer(build: Callable[[float], bytes], content_type: str) -> Any:
    """A fake feed: any path under its slug answers the feed `build` writes for the fake's clock."""

    def answer(rest: str, query: dict, now: float) -> Answer:
        return 200, build(now), {"content-type": content_type}

    return answer


# --- CryptoPanic --------------------------------------------------------------------------------

NOT_FOUND_PAGE = b"<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"


def cryptopanic(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) != 3 or parts[1:] != ["v2", "posts"]:
        return generic_answer("cryptopanic", rest)
    if parts[0] == "developer":
        # The free Developer plan was discontinued: its path is a 404 page now.
        return 404, NOT_FOUND_PAGE, {"content-type": "text/html"}
    results = []
    for source, stories in (("CoinDesk", STORIES["coindesk"]), ("Decrypt", STORIES["decrypt"])):
        for index, (minutes, title, _) in enumerate(stories):
            post_id = 23456700 + len(results)
            results.append({
                "kind": "news", "domain": f"{source.lower()}.com", "title": title, "slug": slugify(title),
                "votes": {"negative": index, "positive": 5, "important": 2, "liked": 3, "disliked": 0, "lol": 0,
                          "toxic": 0, "saved": 1, "comments": 0},
                "source": {"title": source, "region": "en", "domain": f"{source.lower()}.com", "type": "feed"},
                "published_at": iso_z(now - minutes * 60), "created_at": iso_z(now - minutes * 60 + 40),
                "id": post_id, "url": f"https://cryptopanic.com/news/{post_id}/{slugify(title)}"})
    # `next` echoes the caller's token, as the real API does: the adapter must never pass it on.
    token = _q(query, "auth_token")
    next_url = f"https://cryptopanic.com/api/{parts[0]}/v2/posts/?auth_token={token}&page=2&public=true"
    return 200, {"count": len(results), "next": next_url, "previous": None, "results": results}, {}


PROVIDERS = {**{slug: feed_answer(*FEEDS[slug]) for slug in FEEDS}, "cryptopanic": cryptopanic}
