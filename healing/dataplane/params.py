"""Parameters of a data request: one validator per capability, shared by the data plane and `manage.py fetch`.

A request is a capability name plus a flat mapping of strings (a query string, or the command's
options). `parse_request()` turns it into a `DataRequest`: the engine capability, its normalized
params (the cache key is built from them, so equal requests normalize equally), and the
cross-capability options `provider` and `consensus`. Anything wrong raises `ParamError` naming
the field and, for a size, the limit; an unknown capability raises `UnknownRoute`. No I/O: the
operator's limits are read once from the settings ("Request limits"), the rest are constants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from healing.dataplane import params_defi, params_depth
from healing.dataplane.param_coins import _ID_RE, MAX_ID_CHARS, coin_id  # noqa: F401  (part of this module's API)
from healing.dataplane.param_coins import vs_code as _vs
from healing.dataplane.param_errors import ParamError
from healing.dataplane.param_errors import whole_number as _int
from healing.dataplane.params_onchain import address_params, tx_params
from providers import assets
from providers.schemas import FEAR_GREED_MAX_LIMIT

# Most ids one request may name (CRYPTOHUB_MAX_IDS; CoinGecko caps a call at 250 too).
MAX_IDS: int = settings.CRYPTOHUB_MAX_IDS
# Most coins one sentiment request may name: each one scans every headline.
MAX_SENTIMENT_IDS = min(10, MAX_IDS)
# Largest top-N market listing (CoinGecko's page size); the default is one page of 100.
MARKETS_MAX_LIMIT = 250
MARKETS_DEFAULT_LIMIT = 100
NEWS_MAX_LIMIT = 100
# Trending lists are short (CoinGecko's has 15 coins, up to 30 with its NFTs and categories).
TRENDING_DEFAULT_LIMIT = 15
TRENDING_MAX_LIMIT = 30
NEWS_DEFAULT_LIMIT = 20
# A news search is a few words, not a document.
MAX_QUERY_CHARS = 100
# Consensus asks this many providers at most: each one costs a real upstream call.
MIN_CONSENSUS = 2
MAX_CONSENSUS = 7
# POST /api/data/sentiment: texts per request and characters per text (a headline or a post).
MAX_SENTIMENT_TEXTS: int = settings.CRYPTOHUB_MAX_SENTIMENT_TEXTS
MAX_SENTIMENT_TEXT_CHARS: int = settings.CRYPTOHUB_MAX_SENTIMENT_TEXT_CHARS
GAS_CHAINS = ("ethereum", "bitcoin")
# Options every data endpoint takes besides its own parameters.
COMMON_OPTIONS = ("provider", "consensus")

_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9 ._-]{0,63}$")
_PROVIDER_RE = re.compile(r"^[a-z0-9_-]{1,64}$")


class UnknownRoute(Exception):
    """No data endpoint of that name (a 404 listing the known ones)."""


# --- single parameters -----------------------------------------------------------------------


def _ids(query: Mapping[str, str], *, most: int = MAX_IDS) -> list[str]:
    raw = query.get("ids")
    if raw is None or not raw.strip():
        raise ParamError("ids", "ids is required: comma-separated coin ids, e.g. ids=bitcoin,ethereum")
    # Deduplicated and counted before any other check, so thousands of ids cost one split and one 400.
    tokens: dict[str, str] = {}  # ids and symbols are case-insensitive: BTC and btc count once
    for item in raw.split(","):
        tokens.setdefault(item.strip().lower(), item.strip())
    if len(tokens) > most:
        raise ParamError("ids", f"at most {most} ids per request, got {len(tokens)}")
    # Ordered and deduplicated again after resolving: ids=BTC,bitcoin asks one coin.
    return list(dict.fromkeys(coin_id(token, "ids") for token in tokens.values()))




def _name(query: Mapping[str, str], name: str, example: str) -> str | None:
    """An optional protocol or chain name, lower case (providers match names case-insensitively)."""
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    value = " ".join(raw.strip().lower().split())
    if not _SLUG_RE.match(value):
        raise ParamError(name, f"{raw[:40]!r} is not a {name} name (letters, digits, ' ', '.', '_', '-'), "
                               f"e.g. {name}={example}")
    return value


# --- one validator per capability --------------------------------------------------------------


def price_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"ids": _ids(query), "vs": _vs(query)}


def markets_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"vs": _vs(query),
            "limit": _int(query, "limit", default=MARKETS_DEFAULT_LIMIT, low=1, high=MARKETS_MAX_LIMIT)}


def global_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"vs": _vs(query)}


def fear_greed_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"limit": _int(query, "limit", default=1, low=1, high=FEAR_GREED_MAX_LIMIT)}


def trending_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"limit": _int(query, "limit", default=TRENDING_DEFAULT_LIMIT, low=1, high=TRENDING_MAX_LIMIT)}


def tvl_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"protocol": _name(query, "protocol", "aave"), "chain": _name(query, "chain", "ethereum")}


def gas_params(query: Mapping[str, str]) -> dict[str, Any]:
    chain = (query.get("chain") or "ethereum").strip().lower()
    if chain not in GAS_CHAINS:
        raise ParamError("chain", f"chain must be one of {', '.join(GAS_CHAINS)}, got {chain[:20]!r}")
    return {"chain": chain}


def news_params(query: Mapping[str, str]) -> dict[str, Any]:
    q = " ".join((query.get("q") or "").split())
    if len(q) > MAX_QUERY_CHARS:
        raise ParamError("q", f"q is at most {MAX_QUERY_CHARS} characters, got {len(q)}")
    return {"limit": _int(query, "limit", default=NEWS_DEFAULT_LIMIT, low=1, high=NEWS_MAX_LIMIT), "q": q.lower()}


def sentiment_params(query: Mapping[str, str]) -> dict[str, Any]:
    ids = _ids(query, most=MAX_SENTIMENT_IDS)
    # Headlines are matched by a coin's name and ticker, which only the registry knows.
    registry = assets.current()
    unknown = [coin for coin in ids if registry.get(coin) is None]
    if unknown:
        raise ParamError("ids", f"unknown coin id(s) {', '.join(unknown)}; sentiment knows the coins of "
                                "GET /api/data/assets", status=404, values=unknown,
                         close_matches={c: registry.close_matches(c) for c in unknown})
    return {"ids": ids}


def sentiment_texts(body: Any) -> list[str]:
    """The texts of a POST /api/data/sentiment body: {"texts": ["...", ...]}."""
    if not isinstance(body, Mapping):
        raise ParamError("body", 'the body must be a JSON object: {"texts": ["...", ...]}')
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts:
        raise ParamError("texts", "texts must be a non-empty list of strings")
    if len(texts) > MAX_SENTIMENT_TEXTS:
        raise ParamError("texts", f"at most {MAX_SENTIMENT_TEXTS} texts per request, got {len(texts)}")
    for n, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ParamError("texts", f"texts[{n}] must be a non-empty string")
        if len(text) > MAX_SENTIMENT_TEXT_CHARS:
            raise ParamError("texts", f"texts[{n}] is longer than {MAX_SENTIMENT_TEXT_CHARS} characters "
                                        f"({len(text)})")
    if unknown := sorted(set(body) - {"texts"}):
        raise ParamError(unknown[0], f"unknown field {unknown[0][:40]!r}; the body takes only texts")
    return [text.strip() for text in texts]


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CapabilityRoute:
    """One /api/data/<name> endpoint: which engine capability it asks and how it reads params."""

    name: str  # the URL segment
    capability: str  # the engine capability (pool) it is served by
    params: Callable[[Mapping[str, str]], dict[str, Any]]
    example: str
    summary: str
    accepts: tuple[str, ...] = ()  # query parameters besides COMMON_OPTIONS
    consensus: bool = False  # ?consensus=N is meaningful: numbers several providers can agree on


CAPABILITIES: dict[str, CapabilityRoute] = {
    route.name: route
    for route in (
        CapabilityRoute("price", "price", price_params, "/api/data/price?ids=bitcoin,ethereum&vs=usd",
                        "Spot prices of coins", ("ids", "vs"), consensus=True),
        CapabilityRoute("markets", "markets", markets_params, "/api/data/markets?vs=usd&limit=10",
                        "Top coins by market cap, with volume and 24 h change", ("vs", "limit")),
        CapabilityRoute("global", "global", global_params, "/api/data/global",
                        "Whole-market totals and BTC/ETH dominance", ("vs",), consensus=True),
        CapabilityRoute("fear-greed", "fear_greed", fear_greed_params, "/api/data/fear-greed?limit=7",
                        "Crypto fear & greed index, newest first", ("limit",)),
        CapabilityRoute("trending", "trending", trending_params, "/api/data/trending", "Trending coins",
                        ("limit",)),
        CapabilityRoute("tvl", "tvl", tvl_params, "/api/data/tvl?protocol=aave",
                        "DeFi total value locked, per protocol or per chain", ("protocol", "chain")),
        CapabilityRoute("gas", "gas", gas_params, "/api/data/gas?chain=ethereum",
                        "Network fees: gwei (Ethereum) or sat/vB (Bitcoin)", ("chain",), consensus=True),
        CapabilityRoute("news", "news", news_params, "/api/data/news?limit=10&q=bitcoin",
                        "Crypto news headlines, newest first", ("limit", "q")),
        CapabilityRoute("sentiment", "news", sentiment_params, "/api/data/sentiment?ids=bitcoin",
                        "Sentiment of recent headlines mentioning the coins", ("ids",)),
        CapabilityRoute("address", "address", address_params,
                        "/api/data/address?chain=ethereum&address=0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045",
                        "Native balance and recent transactions of an address", ("chain", "address")),
        CapabilityRoute("tx", "tx", tx_params, "/api/data/tx?chain=bitcoin&hash=<64 hex>",
                        "Transaction status: pending, confirmed or failed, with block, confirmations and fee",
                        ("chain", "hash")),
    )
}
# Families of endpoints whose validators live in modules of their own.
CAPABILITIES.update({args[0]: CapabilityRoute(*args)
                     for args in (*params_defi.ROUTES, *params_depth.ROUTES)})
# Other spellings that reach the same endpoint (the engine's own capability names).
ALIASES = {"fear_greed": "fear-greed"}


def route_for(name: str) -> CapabilityRoute:
    route = CAPABILITIES.get(ALIASES.get(name, name))
    if route is None:
        raise UnknownRoute(name)
    return route


@dataclass(frozen=True)
class DataRequest:
    route: CapabilityRoute
    params: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None  # ask this provider only: no fallback, no cache
    consensus: int | None = None  # ask this many providers and compare

    @property
    def capability(self) -> str:
        return self.route.capability


def parse_request(name: str, query: Mapping[str, str]) -> DataRequest:
    """Validate and normalize one data request; ParamError names the first bad field."""
    route = route_for(name)
    allowed = set(route.accepts) | set(COMMON_OPTIONS)
    # A misspelt parameter would silently answer something else (ids vs idz): refuse it.
    for key in query:
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise ParamError(key[:40], f"unknown parameter {key[:40]!r} for {route.name}; it takes {expected}")
    params = route.params(query)
    provider = query.get("provider")
    if provider is not None:
        provider = provider.strip().lower()
        if not _PROVIDER_RE.match(provider):
            raise ParamError("provider", f"{provider[:64]!r} is not a provider slug")
    consensus = None
    if query.get("consensus") not in (None, ""):
        if not route.consensus:
            names = ", ".join(r.name for r in CAPABILITIES.values() if r.consensus)
            raise ParamError("consensus", f"consensus is offered for {names}, not {route.name}")
        consensus = _int(query, "consensus", default=0, low=MIN_CONSENSUS, high=MAX_CONSENSUS)
        if provider is not None:
            raise ParamError("consensus", "consensus asks several providers; it cannot be combined with provider")
    return DataRequest(route, params, provider, consensus)


# The data plane's paths; everything else is Django's (cryptohub/asgi.py routes by these).
DATA_PLANE_PREFIXES = ("/api/data/", "/api/data", "/api/crypto-hub/proxy", "/compat/")
# The old system's paths, answered as thin aliases: the request is the real endpoint's from the
# first byte (client keys, limits, cache and schema all see /api/data/...).
OLD_PATHS = {
    "/api/market": "/api/data/markets",
    "/api/trending": "/api/data/trending",
    "/api/defi": "/api/data/tvl",
    "/api/sentiment": "/api/data/fear-greed",
    "/api/hf/run-sentiment": "/api/data/sentiment",
}


def is_data_plane_path(path: str) -> bool:
    return path.startswith(DATA_PLANE_PREFIXES) or (path[:-1] if path.endswith("/") else path) in OLD_PATHS


def unaliased(scope: Mapping[str, Any]) -> Mapping[str, Any]:
    """The scope of the real endpoint for an old path's request (the same scope otherwise)."""
    path = scope["path"]
    target = OLD_PATHS.get(path[:-1] if path.endswith("/") else path)
    return scope if target is None else {**scope, "path": target, "raw_path": target.encode()}

