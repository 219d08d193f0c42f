"""One data request, whatever the entry point (the data plane, `manage.py fetch`).

`fetch_data()` takes a validated `DataRequest` (healing.dataplane.params) and picks the path: the
engine's fetch with fallback and cache, one provider alone (`provider`), consensus over several
(`consensus`), or coin sentiment (recent headlines from the news pool, scored). Both
interfaces call it, so an operation behaves the same from every door. `score_texts()` serves
POST /api/data/sentiment. Errors are the engine's (AllProvidersFailed, UnknownCapability)
or ParamError for a provider that cannot be asked.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from healing.dataplane.params import NEWS_MAX_LIMIT, DataRequest, ParamError
from healing.engine import cache, consensus, degraded
from healing.engine import fetch as engine
from healing.engine.config import Snapshot
from providers import assets, sentiment
from providers.measures import iso_seconds

# The news asked for coin sentiment: the most headlines one answer carries, unfiltered, so
# every coin of every sentiment request shares one cached news answer.
SENTIMENT_NEWS_PARAMS: Mapping[str, Any] = {"limit": NEWS_MAX_LIMIT, "q": ""}
# Headlines listed per coin in a sentiment answer (the score uses all of them).
SENTIMENT_HEADLINES_SHOWN = 10
# Scored coin-sentiment answers are cached under this capability (fresh as long as the news they
# were scored from: engine.TTL_FROM), so a repeat is a plain cache hit and scores nothing.
SENTIMENT_CAPABILITY = "sentiment"


@dataclass
class DataAnswer:
    data: Any
    meta: dict[str, Any]

    @property
    def source(self) -> str:
        return self.meta["source"]

    @property
    def served(self) -> str:
        return self.meta["served"]

    def body(self) -> dict[str, Any]:
        return {"data": self.data, "meta": self.meta}


def check_provider(snapshot: Snapshot, slug: str) -> None:
    provider = snapshot.providers.get(slug)
    if provider is None:
        raise ParamError("provider", f"{slug[:64]!r} is not a registered provider")
    if not provider.enabled:
        raise ParamError("provider", f"provider {slug!r} is disabled")


async def fetch_data(
    req: DataRequest, *, snapshot: Snapshot, deps: engine.Deps, backend: sentiment.SentimentBackend | None = None,
) -> DataAnswer:
    """The answer to `req`; while Redis is down, from the process's own state, marked degraded."""
    answer, was_degraded = await degraded.with_fallback(
        deps, lambda d: _fetch_data(req, snapshot=snapshot, deps=d, backend=backend)
    )
    if was_degraded:
        answer.meta["degraded"] = degraded.DEGRADED_REDIS
    return answer


async def _fetch_data(
    req: DataRequest, *, snapshot: Snapshot, deps: engine.Deps, backend: sentiment.SentimentBackend | None,
) -> DataAnswer:
    if req.provider is not None:
        check_provider(snapshot, req.provider)
    if req.route.name == "sentiment":
        return await coin_sentiment(req.params["ids"], snapshot=snapshot, deps=deps, provider=req.provider,
                                    backend=backend)
    if req.consensus is not None:
        answer = await consensus.fetch_consensus(req.capability, req.params, req.consensus, snapshot=snapshot,
                                                 deps=deps)
    else:
        answer = await engine.fetch_capability(req.capability, req.params, snapshot=snapshot, deps=deps,
                                               only_provider=req.provider)
    return DataAnswer(answer.data, answer.meta(req.capability))


# --- sentiment ---------------------------------------------------------------------------------


def get_backend() -> sentiment.SentimentBackend:
    from django.conf import settings

    return sentiment.get_backend(getattr(settings, "CRYPTOHUB_SENTIMENT_MODEL_DIR", None) or None)


async def _score(texts: Sequence[str], backend: sentiment.SentimentBackend) -> list[dict[str, Any]]:
    if not texts:
        return []
    if backend.name == "vader":
        return sentiment.score_texts(texts, backend=backend)  # microseconds per headline: inline
    # A model takes real CPU time: keep it off the event loop.
    return await asyncio.to_thread(sentiment.score_texts, list(texts), backend=backend)


@functools.cache
def _mention_pattern(coin_id: str) -> re.Pattern[str]:
    """Words that mean the coin in a headline: its name (any case) or its ticker (upper case)."""
    coin = assets.current().get(coin_id)
    name = re.sub(r"-\d+$", "", coin_id).replace("-", " ")
    parts = [rf"(?i:\b{re.escape(name)}\b)"]
    if coin is not None:
        if coin.name.lower() != name:
            parts.append(rf"(?i:\b{re.escape(coin.name)}\b)")
        parts.append(rf"\b{re.escape(coin.symbol)}\b")
    return re.compile("|".join(parts))


def mentions(item: Mapping[str, Any], coin_id: str) -> bool:
    text = f"{item.get('title') or ''} {item.get('summary') or ''}"
    return bool(_mention_pattern(coin_id).search(text))


def sentiment_key(ids: Sequence[str], backend_name: str) -> str:
    """The cache key of a scored coin-sentiment answer (the backend is part of what was asked)."""
    return cache.data_key(SENTIMENT_CAPABILITY, {"ids": list(ids), "backend": backend_name})


async def coin_sentiment(
    ids: Sequence[str], *, snapshot: Snapshot, deps: engine.Deps, provider: str | None = None,
    backend: sentiment.SentimentBackend | None = None,
) -> DataAnswer:
    """Score the recent headlines that mention each coin (news through the engine: cached, with fallback)."""
    backend = backend or get_backend()
    key = sentiment_key(ids, backend.name) if provider is None else None
    if key is not None:
        held = await engine.local_hit(SENTIMENT_CAPABILITY, key, snapshot.version, deps)
        if held is not None:
            hit = engine.entry_answer(held.entry, engine.SERVED_CACHE, deps.clock())
            return DataAnswer(hit.data, hit.meta(SENTIMENT_CAPABILITY))
    news = await engine.fetch_capability("news", SENTIMENT_NEWS_PARAMS, snapshot=snapshot, deps=deps,
                                         only_provider=provider)
    headlines = [item for item in news.data if isinstance(item, Mapping) and item.get("title")]
    matched = {coin_id: [h for h in headlines if mentions(h, coin_id)] for coin_id in ids}
    titles = list(dict.fromkeys(h["title"] for items in matched.values() for h in items))
    scored = {s["text"]: s for s in await _score(titles, backend)}
    coins = {}
    for coin_id, items in matched.items():
        scores = [scored[h["title"]] for h in items]
        coins[coin_id] = {
            **sentiment.summarize(scores),
            "headlines": [
                {"title": h["title"], "url": h.get("url"), "source": h.get("source"),
                 "published_at": h.get("published_at"), "score": scored[h["title"]]["score"],
                 "label": scored[h["title"]]["label"]}
                for h in items[:SENTIMENT_HEADLINES_SHOWN]
            ],
        }
    data = {"coins": coins, "backend": backend.name, "headlines_scanned": len(headlines)}
    if key is not None and news.served != engine.SERVED_STALE:
        # Stamped with the news entry's own fetch time: the scores age, and expire, with their
        # headlines. A stale news copy is not cached (its scores would never be fresh).
        entry = cache.Entry(data, news.source, news.fetched_ts, tuple(a.as_dict() for a in news.attempts))
        await engine.store_entry(deps, key, entry)
    return DataAnswer(data, news.meta(SENTIMENT_CAPABILITY))


async def score_texts(texts: Sequence[str], *, now: float, backend: sentiment.SentimentBackend | None = None
                      ) -> DataAnswer:
    """POST /api/data/sentiment: the caller's own texts, scored in order."""
    backend = backend or get_backend()
    scores = await _score(texts, backend)
    data = {"scores": scores, "summary": sentiment.summarize(scores), "backend": backend.name}
    meta = {"capability": "sentiment", "source": backend.name, "served": engine.SERVED_LIVE, "age_s": 0.0,
            "fetched_at": iso_seconds(now), "attempts": []}
    return DataAnswer(data, meta)
