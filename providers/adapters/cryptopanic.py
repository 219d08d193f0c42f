"""CryptoPanic posts: {count, next, previous, results: [...]}, auth_token query added by the engine.

The plan is part of the path and has moved over time: the free "developer" plan's path now 404s,
plan paths such as /growth/v2/posts/ remain (POSTS_PATH, under https://cryptopanic.com/api).
`next` embeds the caller's token: it is never read, logged or passed on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.rss import check_news_dates, clean_summary, clean_url, finish_news, plain_text
from providers.schemas import NewsItem, iso_from_string

POSTS_PATH = "/growth/v2/posts/"


class CryptoPanic(Adapter):
    slug = "cryptopanic"
    capabilities = frozenset({"news"})
    error_markers = {
        **dict.fromkeys(("rate limit", "too many", "throttl"), Outcome.RATE_LIMITED),
        **dict.fromkeys(("token", "unauthorized", "forbidden"), Outcome.PERMANENT),
    }

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "news":
            return super().build_request(capability, params)
        return RequestSpec(path=POSTS_PATH, params={"public": "true", "kind": "news"})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "news":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        results = payload["results"]
        if not isinstance(results, list):
            raise BadData(f"{self.slug}: results is not a list")
        items = []
        for post in results:
            if not isinstance(post, Mapping) or not plain_text(post.get("title")):
                continue
            source = post.get("source") if isinstance(post.get("source"), Mapping) else {}
            items.append(
                NewsItem(
                    title=plain_text(post["title"]),
                    # Paid plans add the publisher's URL; otherwise the CryptoPanic page links to it.
                    url=clean_url(post.get("original_url")) or clean_url(post.get("url")),
                    source=str(source.get("title") or source.get("domain") or post.get("domain") or "CryptoPanic"),
                    published_at=iso_from_string(post.get("published_at") or post.get("created_at"), slug=self.slug),
                    summary=clean_summary(post.get("description")),
                )
            )
        if results and not items:
            raise BadData(f"{self.slug}: no usable posts")
        check_news_dates(items, None, slug=self.slug)
        return finish_news(items, params)

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or (payload.get("status") != "api_error" and "results" in payload):
            return None
        info = str(payload.get("info") or payload.get("detail") or "no results")
        return ProviderError(f"error inside HTTP 200: {info[:120]!r}", text=info)
