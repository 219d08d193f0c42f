"""RSS/Atom news adapters: golden feeds per site, odd encodings, missing fields, implausible dates."""

from importlib import import_module
from pathlib import Path

import feedparser
import feedparser.http
import pytest

from providers.adapters.base import BadData, Outcome, RequestSpec
from providers.adapters.rss import RssAdapter, clean_url
from providers.registry import ADAPTERS

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads"
RSS_CONTENT_TYPE = "application/rss+xml; charset=utf-8"


def adapter(slug: str) -> RssAdapter:
    module_path, _, class_name = ADAPTERS[slug].rpartition(".")
    return getattr(import_module(module_path), class_name)()


class Generic(RssAdapter):
    slug = "generic_feed"
    source_name = "Generic"


def read(slug: str, params: dict | None = None, *, name: str, content_type: str = RSS_CONTENT_TYPE) -> list[dict]:
    feed = adapter(slug) if slug in ADAPTERS else Generic()
    body = (PAYLOADS / slug / name).read_bytes()
    return feed.parse("news", params or {}, feed.decode(body, content_type))


@pytest.mark.parametrize("slug", ["coindesk", "cointelegraph", "bitcoinist", "decrypt"])
def test_each_site_asks_for_its_base_url_which_is_the_feed(slug):
    assert adapter(slug).build_request("news", {"limit": 5}) == RequestSpec("")
    assert adapter(slug).capabilities == frozenset({"news"})


def test_a_feed_under_a_home_page_base_url_sets_its_path():
    class UnderHome(Generic):
        feed_path = "/rss.xml"

    assert UnderHome().build_request("news", {}) == RequestSpec("/rss.xml")


def test_coindesk_golden():
    assert read("coindesk", name="rss.xml") == [
        {
            "title": "Bitcoin Tops $109K as ETF Inflows Extend to Eighth Straight Day",
            "url": "https://www.coindesk.com/markets/2025/06/10/bitcoin-tops-109k-as-etf-inflows-extend-to-eighth-straight-day",
            "source": "CoinDesk",
            "published_at": "2025-06-10T11:42:17Z",
            "summary": (
                "Spot bitcoin ETFs drew another $386 million on Monday, according to data from Farside Investors."
            ),
        },
        {
            "title": "Ether Lags as Staking Outflows Weigh on Price",
            "url": "https://www.coindesk.com/markets/2025/06/10/ether-lags-as-staking-outflows-weigh-on-price",
            "source": "CoinDesk",
            "published_at": "2025-06-10T10:05:00Z",
            "summary": "ETH slipped 0.5% while validators queued to exit.",
        },
    ]


def test_cointelegraph_golden_drops_html_and_tracking_and_converts_bst_to_utc():
    assert read("cointelegraph", name="rss.xml") == [
        {
            "title": "Bitcoin miners post record revenue as hashprice rebounds",
            "url": "https://cointelegraph.com/news/bitcoin-miners-record-revenue-hashprice-rebounds",
            "source": "Cointelegraph",
            "published_at": "2025-06-10T11:15:00Z",
            "summary": "Public miners earned more in May than in any month since the halving, data shows.",
        },
        {
            "title": "Crypto exchange hacked for $48M in hot wallet exploit",
            "url": "https://cointelegraph.com/news/crypto-exchange-hacked-48m-hot-wallet-exploit",
            "source": "Cointelegraph",
            "published_at": "2025-06-10T08:30:00Z",
            "summary": "Withdrawals are paused while the exchange investigates.",
        },
    ]


def test_bitcoinist_golden_decodes_entities_and_drops_the_wordpress_footer():
    assert read("bitcoinist", name="feed.xml") == [
        {
            "title": "Dogecoin Price Eyes $0.20 As Whales Accumulate – Analyst",
            "url": "https://bitcoinist.com/dogecoin-price-eyes-0-20-whales/",
            "source": "Bitcoinist",
            "published_at": "2025-06-10T11:30:12Z",
            "summary": "Dogecoin whales added 1.2 billion DOGE over the past week, on-chain data shows.",
        }
    ]


def test_decrypt_golden_reads_gmt_dates():
    assert read("decrypt", name="feed.xml") == [
        {
            "title": "Solana DEX Volume Flips Ethereum for Third Month Running",
            "url": "https://decrypt.co/324567/solana-dex-volume-flips-ethereum-third-month",
            "source": "Decrypt",
            "published_at": "2025-06-10T11:20:00Z",
            "summary": "Solana decentralized exchanges handled $98 billion in May.",
        }
    ]


def test_iso_8859_1_declared_in_the_xml():
    [item] = read("rss", name="latin1.xml", content_type="application/rss+xml")
    assert item["title"] == "Société Générale: l'euro numérique à l'étude"
    assert item["summary"] == "Le prix du café à Zürich, payé en bitcoin: £3 ou 4 CHF."
    assert item["published_at"] == "2025-06-10T08:30:00Z"


def test_iso_8859_1_given_only_by_the_http_header():
    [item] = read("rss", name="latin1_header_only.xml", content_type="text/xml; charset=ISO-8859-1")
    assert item["title"] == "Société Générale: l'euro numérique à l'étude"


def test_utf8_byte_order_mark():
    assert (PAYLOADS / "rss" / "bom.xml").read_bytes()[:3] == b"\xef\xbb\xbf"
    [item] = read("rss", name="bom.xml")
    assert item["title"] == "Øresund bridge tolls now payable in crypto – “a first”"
    assert item["published_at"] == "2025-06-10T08:00:00Z"


def test_atom_feed_with_html_title_offset_dates_and_only_updated():
    assert read("rss", name="atom.xml", content_type="application/atom+xml") == [
        {
            "title": "Stablecoin bill clears Senate hurdle",
            "url": "https://blockworks.co/news/stablecoin-bill-senate?ref=home",
            "source": "Generic",
            "published_at": "2025-06-10T11:40:00Z",
            "summary": "The GENIUS Act advanced 68-30.",
        },
        {
            "title": "Only an update date here",
            "url": "https://blockworks.co/news/only-updated",
            "source": "Generic",
            "published_at": "2025-06-10T09:00:00Z",
            "summary": None,
        },
    ]


def test_missing_fields_cdata_html_titles_placeholder_dates_and_duplicates():
    items = read("rss", name="missing_fields.xml")
    assert [(i["title"], i["url"], i["published_at"]) for i in items] == [
        ("Breaking: ETF & options approved", "https://sparse.example.com/a", "2025-06-10T11:00:00Z"),
        ("No link, but a permalink guid", "https://sparse.example.com/c", "2025-06-10T10:00:00Z"),
        ("No link at all", None, "2025-06-10T09:00:00Z"),
        # Undated items sort last; a 1970 placeholder counts as undated.
        ("No date on this one", "https://sparse.example.com/b", None),
        ("Placeholder date from a CMS", "https://sparse.example.com/f", None),
    ]
    # The untitled item is dropped and the utm_ copy of the first story deduped away.
    assert all(item["summary"] is None for item in items)


def test_limit_and_query_apply_after_sorting_newest_first():
    assert [i["title"] for i in read("cointelegraph", {"limit": 1}, name="rss.xml")] == [
        "Bitcoin miners post record revenue as hashprice rebounds"
    ]
    assert [i["title"] for i in read("cointelegraph", {"q": "HACKED exchange"}, name="rss.xml")] == [
        "Crypto exchange hacked for $48M in hot wallet exploit"
    ]
    assert read("cointelegraph", {"q": "no such words"}, name="rss.xml") == []


def test_item_dated_far_after_the_feed_build_date_is_bad_data():
    with pytest.raises(BadData, match="future"):
        read("rss", name="future.xml")


def test_an_html_page_instead_of_a_feed_is_bad_data():
    body = (PAYLOADS / "rss" / "not_a_feed.html").read_bytes()
    with pytest.raises(BadData, match="not a feed"):
        Generic().decode(body, "text/html; charset=UTF-8")


@pytest.mark.parametrize("body", [b"", b"\x00\x01garbage", b"<rss version='2.0'><channel><title>x"])
def test_empty_or_broken_bodies_are_bad_data(body):
    feed = Generic()
    with pytest.raises(BadData):
        feed.parse("news", {}, feed.decode(body, RSS_CONTENT_TYPE))


def test_a_feed_whose_items_all_lack_titles_is_bad_data():
    body = b"<rss version='2.0'><channel><title>t</title><item><link>https://x.example/1</link></item></channel></rss>"
    feed = Generic()
    with pytest.raises(BadData, match="no usable items"):
        feed.parse("news", {}, feed.decode(body, RSS_CONTENT_TYPE))


def test_parse_refuses_anything_but_a_decoded_feed():
    with pytest.raises(BadData):
        Generic().parse("news", {}, {"not": "a feed"})


def test_decode_never_treats_the_body_as_a_url_or_path(monkeypatch):
    # feedparser fetches when handed a URL string; decode always wraps bytes in a stream.
    fetched = []
    monkeypatch.setattr(feedparser.http, "get", lambda *args, **kwargs: fetched.append(args))
    with pytest.raises(BadData):
        Generic().decode(b"http://127.0.0.1:9/feed", RSS_CONTENT_TYPE)
    assert fetched == []


def test_cointelegraph_bot_wall_403_cools_down_while_other_sites_refuse():
    assert adapter("cointelegraph").classify_http_error(403, None) == Outcome.RATE_LIMITED
    assert adapter("coindesk").classify_http_error(403, None) == Outcome.PERMANENT
    assert adapter("decrypt").classify_http_error(503, None) == Outcome.TRANSIENT
    assert adapter("bitcoinist").classify_http_error(429, None) == Outcome.RATE_LIMITED


def test_clean_url_keeps_real_parameters_and_refuses_non_http():
    assert clean_url("https://a.example/x?id=3&utm_medium=rss&utm_source=feed") == "https://a.example/x?id=3"
    assert clean_url("javascript:alert(1)") is None
    assert clean_url(None) is None
