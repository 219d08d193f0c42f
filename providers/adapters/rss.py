"""RSS/Atom news feeds through feedparser, shared by one small module per site.

`decode()` hands the raw bytes to feedparser (never a URL or path, so it cannot fetch anything),
which copes with declared encodings, BOMs, CDATA and both RSS and Atom. `parse()` turns entries
into NewsItems: titles and summaries as plain text, tracking parameters dropped from links, times
as UTC ISO-8601 (None when the feed gives none). A feed with no usable item is bad data.
"""

from __future__ import annotations

import calendar
import io
import re
import statistics
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.parsers.expat import errors as expat_errors
from xml.sax import SAXParseException

import feedparser

from providers.adapters.base import Adapter, BadData, RequestSpec
from providers.schemas import MIN_PLAUSIBLE_EPOCH_S, NewsItem, check_not_future, epoch_of, iso_from_epoch

DEFAULT_NEWS_LIMIT = 20
MAX_NEWS_LIMIT = 100
SUMMARY_MAX_CHARS = 400
# Without a feed build date, an item this far past the feed's median item time is implausible (s).
MEDIAN_FUTURE_SKEW_S = 7 * 24 * 3600
TRACKING_PARAM_PREFIXES = ("utm_",)
# expat's end-of-input errors: the document stopped before its root element closed. A feed cut
# short (a server that died mid-answer, a WordPress feed ended by a PHP error) still parses into
# its first items, which would pass for the whole feed.
CUT_SHORT = frozenset({expat_errors.XML_ERROR_NO_ELEMENTS, expat_errors.XML_ERROR_UNCLOSED_TOKEN,
                       expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION, expat_errors.XML_ERROR_PARTIAL_CHAR})
# WordPress appends "The post <title> appeared first on <site>." to every description.
WORDPRESS_FOOTER = re.compile(r"\s*The post .{0,300}? appeared first on .{1,80}?\.?\s*$", re.DOTALL)
# WordPress ends a cut excerpt with " [&#8230;]": kept as a plain ellipsis.
WORDPRESS_MORE = re.compile(r"\s*\[(?:…|\.\.\.)\]\s*$")
# The prefix a feed binds to Media RSS, and the caption-like elements of Media RSS. feedparser files
# a media:description (or media:title) nested in media:content as the item's own summary (or title)
# when it comes before the item's, so an image caption would replace the story's summary.
MRSS_PREFIX = re.compile(rb"""xmlns:([A-Za-z_][\w.-]*)\s*=\s*["']http://search\.yahoo\.com/mrss/?["']""")
MRSS_CAPTIONS = (b"title", b"description")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(value: Any) -> str:
    """Text without tags or entities, whitespace collapsed ("" for None)."""
    if not value:
        return ""
    extractor = _TextExtractor()
    extractor.feed(str(value))
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def clean_summary(value: Any) -> str | None:
    text = WORDPRESS_MORE.sub("…", WORDPRESS_FOOTER.sub("", plain_text(value))).strip()
    if not text:
        return None
    if len(text) > SUMMARY_MAX_CHARS:
        text = text[: SUMMARY_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def clean_url(value: Any) -> str | None:
    """An http(s) URL without utm_* tracking parameters, so the same story dedupes across feeds."""
    if not isinstance(value, str) or not value.strip().lower().startswith(("http://", "https://")):
        return None
    parts = urlsplit(value.strip())
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if not k.startswith(TRACKING_PARAM_PREFIXES)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def news_limit(params: Mapping[str, Any]) -> int:
    return max(1, min(int(params.get("limit") or DEFAULT_NEWS_LIMIT), MAX_NEWS_LIMIT))


def finish_news(items: Iterable[NewsItem], params: Mapping[str, Any]) -> list[dict]:
    """Dedupe by URL, keep items matching `q` (every word, case-insensitive), newest first, limit."""
    words = str(params.get("q") or "").lower().split()
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.url is not None:
            if item.url in seen:
                continue
            seen.add(item.url)
        haystack = f"{item.title} {item.summary or ''}".lower()
        if all(word in haystack for word in words):
            kept.append(item)
    # Undated items go last rather than being dropped: a headline without a date is still news.
    kept.sort(key=lambda item: epoch_of(item.published_at) or 0.0, reverse=True)
    return [item.to_dict() for item in kept[: news_limit(params)]]


def check_news_dates(items: list[NewsItem], built_epoch: float | None, *, slug: str) -> None:
    """Bad data if an item is dated far after the feed's build time, or else after its median item."""
    if built_epoch is not None:
        for item in items:
            check_not_future(item.published_at, built_epoch, slug=slug)
        return
    stamps = [epoch_of(item.published_at) for item in items if item.published_at]
    if len(stamps) >= 3 and max(stamps) > statistics.median(stamps) + MEDIAN_FUTURE_SKEW_S:
        raise BadData(f"{slug}: an item is dated far after the rest of the feed")


def without_media_captions(body: bytes) -> bytes:
    """The feed without Media RSS captions (see MRSS_CAPTIONS); other bytes untouched."""
    for prefix in set(MRSS_PREFIX.findall(body)):
        names = b"|".join(re.escape(prefix + b":" + name) for name in MRSS_CAPTIONS)
        body = re.sub(rb"<(" + names + rb")\b[^>]*?(?:/>|>.*?</\1\s*>)", b"", body, flags=re.DOTALL)
    return body


def _epoch(parsed_time: Any) -> float | None:
    # feedparser hands back time.struct_time already converted to UTC.
    if not parsed_time:
        return None
    seconds = float(calendar.timegm(parsed_time))
    # CMS placeholders (1970, 0001) mean "no date"; a date in a far future still fails below.
    return seconds if seconds >= MIN_PLAUSIBLE_EPOCH_S else None


class RssAdapter(Adapter):
    """Subclasses set slug and source_name.

    The catalogue's base URL of a feed provider is the feed itself, so by default the request
    path is empty; a site whose base URL is its home page sets feed_path.
    """

    capabilities = frozenset({"news"})
    source_name: ClassVar[str] = ""
    feed_path: ClassVar[str] = ""

    def decode(self, body: bytes, content_type: str = "") -> Any:
        headers = {"content-type": content_type} if content_type else {}
        parsed = feedparser.parse(io.BytesIO(without_media_captions(body)), response_headers=headers)
        reason = parsed.get("bozo_exception")
        if not parsed.get("entries") and (parsed.get("bozo") or not parsed.get("feed")):
            raise BadData(f"{self.slug}: answer is not a feed ({reason.__class__.__name__ if reason else 'empty'})")
        if isinstance(reason, SAXParseException) and reason.getMessage() in CUT_SHORT:
            raise BadData(f"{self.slug}: the feed is cut short ({reason.getMessage()})")
        return parsed

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "news":
            return super().build_request(capability, params)
        return RequestSpec(path=self.feed_path)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "news":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping) or not isinstance(payload.get("entries"), list):
            raise BadData(f"{self.slug}: not a decoded feed")
        items = [item for item in (self._item(entry) for entry in payload["entries"]) if item is not None]
        if not items:
            raise BadData(f"{self.slug}: feed has no usable items")
        feed = payload.get("feed") or {}
        check_news_dates(items, _epoch(feed.get("updated_parsed")), slug=self.slug)
        return finish_news(items, params)

    def _item(self, entry: Mapping[str, Any]) -> NewsItem | None:
        title = plain_text(entry.get("title"))
        if not title:
            return None
        url = clean_url(entry.get("link"))
        if url is None and entry.get("guidislink", True):
            # An RSS guid is a permalink unless isPermaLink="false".
            url = clean_url(entry.get("id"))
        published = _epoch(entry.get("published_parsed") or entry.get("updated_parsed"))
        summary = entry.get("summary")
        if not summary and entry.get("content"):
            summary = entry["content"][0].get("value")
        return NewsItem(
            title=title,
            url=url,
            source=self.source_name,
            published_at=iso_from_epoch(published, slug=self.slug),
            summary=clean_summary(summary),
        )
