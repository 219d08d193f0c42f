"""manage.py fetch <capability> [--ids ...] [--vs ...] [--limit N] [--chain C] [--protocol P] [--q TEXT]
[--address A] [--hash H] [--id COIN] [--interval 1h] [--start TIME] [--depth N] [--token ADDRESS] [--project P]
[--provider SLUG] [--consensus N] [--text T ...] [--json]: one data request through the same engine
as /api/data/<capability> (same validation, fallback, cache, consensus), printed as a table or JSON."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from healing.catalogue import build_snapshot
from healing.dataplane import requests as data_requests
from healing.dataplane.params import (
    CAPABILITIES,
    DataRequest,
    ParamError,
    UnknownRoute,
    parse_request,
    route_for,
    sentiment_texts,
)
from healing.engine import fetch as engine
from healing.engine.config import Snapshot
from healing.engine.errors import AllProvidersFailed, UnknownCapability
from healing.engine.http import make_client

# Options that become query parameters, exactly as the data plane would receive them.
QUERY_OPTIONS = ("ids", "vs", "limit", "chain", "protocol", "q", "address", "hash", "id", "interval", "start",
                 "depth", "token", "project", "provider", "consensus")
# Columns shown per endpoint whose data is a list of records.
COLUMNS = {
    "price": ("id", "symbol", "vs", "price", "change_24h_pct", "market_cap", "volume_24h", "last_updated"),
    "markets": ("rank", "id", "symbol", "price", "change_24h_pct", "market_cap", "volume_24h"),
    "fear-greed": ("timestamp", "value", "classification"),
    "trending": ("position", "id", "symbol", "name", "market_cap_rank", "price_usd"),
    "news": ("published_at", "source", "title"),
    "candles": ("open_time", "open", "high", "low", "close", "volume", "partial"),
    "stablecoins": ("symbol", "name", "peg", "price", "peg_deviation_pct", "circulating", "chains"),
    "yields": ("chain", "project", "symbol", "tvl_usd", "apy", "apy_base", "apy_reward", "stablecoin"),
}
DEX_COLUMNS = ("dex", "pair_address", "base_symbol", "quote_symbol", "price_usd", "liquidity_usd", "volume_24h_usd",
               "created_at")
TITLE_WIDTH = 90  # news titles are cut here so a row stays on one line


class Command(BaseCommand):
    help = "Fetch normalized data for one capability through the healing engine (same as /api/data/<capability>)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("capability", help=f"one of: {', '.join(sorted(CAPABILITIES))}")
        parser.add_argument("--ids", help="comma-separated coin ids (price, sentiment)")
        parser.add_argument("--vs", help="quote currency (price, markets, global, candles, orderbook, ticker)")
        parser.add_argument("--address", help="an address on --chain (address)")
        parser.add_argument("--hash", help="a transaction hash on --chain (tx)")
        parser.add_argument("--id", help="one coin id (candles, orderbook, ticker)")
        parser.add_argument("--interval", help="candle length: 1m, 5m, 15m, 1h, 4h, 1d (candles)")
        parser.add_argument("--start", help="first candle at or after this ISO time or epoch second (candles)")
        parser.add_argument("--depth", help="book levels per side (orderbook)")
        parser.add_argument("--limit", help="how many items (markets, fear-greed, news, stablecoins, yields)")
        parser.add_argument("--chain", help="chain (gas: ethereum|bitcoin; tvl; dex; yields; address, tx: ethereum, "
                                            "base, arbitrum, optimism, polygon, bsc, bitcoin, tron)")
        parser.add_argument("--protocol", help="DeFi protocol (tvl)")
        parser.add_argument("--q", help="words every news item must contain (news)")
        parser.add_argument("--token", help="token contract address (dex)")
        parser.add_argument("--project", help="DeFi project slug (yields)")
        parser.add_argument("--provider", help="ask this provider only: no fallback, no cache")
        parser.add_argument("--consensus", help="ask N providers and compare (price, global, gas)")
        parser.add_argument("--text", action="append", dest="texts", metavar="TEXT",
                            help="score this text instead of headlines (sentiment; repeatable)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print {data, meta} as JSON")

    def handle(self, *args: Any, capability: str, texts: list[str] | None = None, as_json: bool = False,
               **options: Any) -> None:
        query = {name: str(options[name]) for name in QUERY_OPTIONS if options.get(name) is not None}
        try:
            if texts is not None:
                # Scoring given texts (POST /api/data/sentiment) takes no other option.
                if route_for(capability).name != "sentiment" or query:
                    raise ParamError("text", "--text is for `fetch sentiment --text ...` alone")
                req, texts = DataRequest(route_for(capability)), sentiment_texts({"texts": texts})
            else:
                req = parse_request(capability, query)
        except UnknownRoute:
            known = ", ".join(sorted(CAPABILITIES))
            raise CommandError(f"unknown capability {capability!r}; one of: {known}") from None
        except ParamError as exc:
            raise CommandError(f"--{exc.field}: {exc.detail}") from None

        snapshot = build_snapshot()
        try:
            answer = asyncio.run(_fetch(req, snapshot, texts))
        except ParamError as exc:
            raise CommandError(f"--{exc.field}: {exc.detail}") from None
        except UnknownCapability as exc:
            raise CommandError(str(exc)) from None
        except AllProvidersFailed as exc:
            tried = ", ".join(f"{a.provider}={a.outcome}" for a in exc.attempts) or "nobody could be asked"
            hints = "".join(f"\n  {hint}" for hint in exc.suggestions)
            raise CommandError(f"no provider could answer {exc.capability} ({tried}){hints}") from None

        if as_json:
            self.stdout.write(json.dumps(answer.body(), indent=2))
        else:
            self.stdout.write(render(req, answer))


async def _fetch(req: DataRequest, snapshot: Snapshot, texts: list[str] | None) -> data_requests.DataAnswer:
    """The request on a client and Redis connection of its own (asyncio.run owns the loop)."""
    r = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    async with make_client() as http:
        deps = engine.Deps(redis=r, http=http, settings=engine.EngineSettings.from_settings(settings))
        try:
            if texts is not None:
                return await data_requests.score_texts(texts, now=deps.clock())
            return await data_requests.fetch_data(req, snapshot=snapshot, deps=deps)
        finally:
            await engine.drain_background()
            await engine.flush_counters(deps)
            await r.aclose()


# --- output ----------------------------------------------------------------------------------------


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


def records(items: list[dict], columns: tuple[str, ...]) -> str:
    if not items:
        return "(nothing)"
    rows = [tuple(c.upper() for c in columns)]
    for item in items:
        cells = [fmt(item.get(c)) for c in columns]
        rows.append(tuple(cell[:TITLE_WIDTH] for cell in cells))
    return table(rows)


def pairs(item: dict) -> str:
    return table([("FIELD", "VALUE")] + [(k, fmt(v)) for k, v in item.items()])


def _consensus(data: dict) -> str:
    rows = [("VALUE", "PROVIDER", "REPORTED", "FROM MEDIAN %", "")]
    for label, value in data["values"].items():
        rows.append((label, "median", fmt(value["median"]), "", f"spread {fmt(value['spread_pct'])} %"))
        for slug, reported in value["by_provider"].items():
            flag = "OUTLIER" if slug in value["outliers"] else ""
            rows.append(("", slug, fmt(reported), fmt(value["deviation_pct"][slug]), flag))
    lines = [table(rows), f"{data['answered']} of {data['asked']} asked answered (requested {data['requested']}); "
                          f"outliers beyond {fmt(data['outlier_pct'])} %: {', '.join(data['outliers']) or 'none'}"]
    lines += [f"did not answer: {m['provider']} ({m['reason']})" for m in data["missing"]]
    return "\n".join(lines)


def _sentiment(data: dict) -> str:
    if "scores" in data:
        return records(data["scores"], ("score", "label", "text"))
    rows = [("COIN", "SCORE", "LABEL", "HEADLINES")]
    rows += [(coin, fmt(s["score"]), s["label"], str(s["count"])) for coin, s in data["coins"].items()]
    lines = [table(rows)]
    for coin, s in data["coins"].items():
        lines += [f"  {coin}: {fmt(h['score'])} {h['title'][:TITLE_WIDTH]}" for h in s["headlines"]]
    return "\n".join(lines)


def render(req: DataRequest, answer: data_requests.DataAnswer) -> str:
    name, data, meta = req.route.name, answer.data, answer.meta
    if meta["served"] == engine.SERVED_CONSENSUS:
        body = _consensus(data)
    elif name == "sentiment":
        body = _sentiment(data)
    elif name == "tvl":
        parts = []
        if data.get("protocols"):
            parts.append(records(data["protocols"], ("name", "slug", "tvl", "category", "change_1d_pct", "chains")))
        if data.get("chains"):
            parts.append(records(data["chains"], ("name", "tvl", "token_symbol", "chain_id")))
        body = "\n\n".join(parts) or "(nothing)"
    elif name == "orderbook":
        levels = {"bids": data["bids"], "asks": data["asks"]}
        summary = pairs({k: v for k, v in data.items() if k not in levels})
        rows = [("SIDE", "PRICE", "SIZE")] + [(side, fmt(p), fmt(q)) for side, book in levels.items() for p, q in book]
        body = f"{summary}\n\n{table(rows)}"
    elif name == "dex":
        body = (f"{data['token']} on {data['chain']}: {fmt(data['price_usd'])} USD (pair {data['price_pair']})\n"
                + records(data["pairs"], DEX_COLUMNS))
    elif isinstance(data, dict):
        body = pairs(data)
    else:
        body = records(data, COLUMNS.get(name, tuple(data[0]) if data else ("value",)))
    tried = ", ".join(f"{a['provider']}={a['outcome']}" for a in meta["attempts"]) or "none (cache)"
    footer = (f"{meta['capability']}: source {meta['source']}, served {meta['served']}, age {fmt(meta['age_s'])} s, "
              f"fetched {meta['fetched_at']}; attempts: {tried}")
    return f"{body}\n{footer}"
