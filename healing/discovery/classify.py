"""Guess a candidate's category from what was probed: a small rule set that explains itself.

Three kinds of evidence, each rule naming what it saw:

* the answer is an RSS/Atom feed -> news (weight 10: a feed is what the news capability reads);
* keys of the JSON answer (top level and one level down), e.g. price/market_cap -> market_data,
  bid/ask -> exchange, fastestFee/gasPrice -> explorer, tvl/apy -> defi (weight 2 each);
* words of the URL: path segments and query (split on punctuation and camelCase), and a few
  tell-tale parts of host names such as "scan", "mempool", "dex" (weight 1 each).

The category with the highest score wins; a tie goes to the more specific category (the order
of PRIORITY). When nothing matches, the candidate is *unclassified*: it keeps the category the
list gave, or gets DEFAULT_CATEGORY as a placeholder, and the notes say so. A category the list
gives always wins over the rules (the operator knows the API); the rules' view is still noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from providers.models import Category

from .candidates import Candidate
from .probe import Finding

DEFAULT_CATEGORY = Category.MARKET_DATA.value
FEED_WEIGHT, KEY_WEIGHT, WORD_WEIGHT = 10, 2, 1
C = Category
# Ties go to the first: a payload with both "price" and "tvl" is more likely DeFi than a ticker.
PRIORITY = (C.NEWS, C.SENTIMENT, C.NFT, C.DEFI, C.RPC, C.EXPLORER, C.EXCHANGE, C.ANALYTICS, C.MARKET_DATA)

# JSON keys, lower-cased with punctuation removed ("market_cap" -> "marketcap").
PAYLOAD_KEYS: dict[str, frozenset[str]] = {
    C.MARKET_DATA: frozenset({
        "price", "currentprice", "priceusd", "marketcap", "marketcapusd", "marketcaprank", "totalmarketcap",
        "volume24h", "totalvolume", "circulatingsupply", "maxsupply", "percentchange24h", "pricechange24h",
        "pricechangepercentage24h", "ath", "rank", "usd", "rate", "rates", "quote"}),
    C.EXCHANGE: frozenset({
        "bid", "ask", "bids", "asks", "bestbid", "bestask", "bidprice", "askprice", "buy", "sell", "lastprice",
        "lasttradeprice", "quotevolume", "basevolume", "orderbook", "openinterest", "fundingrate"}),
    C.EXPLORER: frozenset({
        "gas", "gasprice", "safegasprice", "proposegasprice", "fastgasprice", "basefee", "basefeepergas",
        "fastestfee", "halfhourfee", "hourfee", "economyfee", "minimumfee", "blockheight", "height",
        "difficulty", "txcount", "blockhash", "mempool", "confirmations", "blockid", "block"}),
    C.RPC: frozenset({"jsonrpc"}),
    C.DEFI: frozenset({
        "tvl", "apy", "apr", "liquidity", "liquidityusd", "reserve", "reserves", "pools", "vault", "vaults",
        "chaintvls", "pairaddress", "dexid", "protocols", "yield", "stablecoins"}),
    C.NFT: frozenset({"floorprice", "floor", "collection", "collections", "tokenid", "nft", "nfts"}),
    C.NEWS: frozenset({"articles", "headline", "headlines", "news", "posts", "publishedat", "publishedon"}),
    C.SENTIMENT: frozenset({
        "sentiment", "valueclassification", "fearandgreed", "feargreed", "bullish", "bearish", "galaxyscore"}),
    C.ANALYTICS: frozenset({"metrics", "metric", "timeseries", "activeaddresses", "hashrate", "nodes", "indicators"}),
}
# Words of the URL's path and query.
URL_WORDS: dict[str, frozenset[str]] = {
    C.NEWS: frozenset({"rss", "feed", "news", "atom", "articles", "posts"}),
    C.SENTIMENT: frozenset({"fng", "fear", "greed", "sentiment", "social"}),
    C.DEFI: frozenset({"tvl", "defi", "dex", "swap", "pool", "pools", "yield", "yields", "vault", "vaults", "apy",
                       "lending", "bridges", "liquidity", "stablecoins", "protocols"}),
    C.NFT: frozenset({"nft", "nfts", "collection", "collections"}),
    C.EXPLORER: frozenset({"gas", "gasoracle", "fee", "fees", "block", "blocks", "tx", "txs", "mempool", "explorer",
                           "address", "ledger", "indexer", "height", "tip", "blockchain"}),
    C.RPC: frozenset({"rpc", "jsonrpc"}),
    C.EXCHANGE: frozenset({"ticker", "tickers", "orderbook", "depth", "trades", "klines", "candles", "symbols",
                           "pairs", "instruments", "spot", "exchange", "book"}),
    C.MARKET_DATA: frozenset({"price", "prices", "coins", "assets", "quote", "quotes", "global", "marketcap",
                              "currencies", "cryptocurrencies", "rates", "exchangerate"}),
    C.ANALYTICS: frozenset({"metrics", "analytics", "stats", "statistics", "charts", "onchain", "timeseries"}),
}
# Parts of host names that say what a service is ("etherscan", "mempool.space", "dexpaprika").
HOST_HINTS: dict[str, str] = {
    "scan": C.EXPLORER, "explorer": C.EXPLORER, "mempool": C.EXPLORER, "indexer": C.EXPLORER,
    "rpc": C.RPC, "dex": C.DEFI, "swap": C.DEFI, "llama": C.DEFI, "nft": C.NFT, "news": C.NEWS,
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class Classification:
    category: str  # what the provider row gets
    suggested: str  # what the rules say ("" = unclassified)
    reasons: tuple[str, ...]  # evidence for `suggested`
    source: str  # "rules" | "given" | "default"

    def describe(self) -> str:
        why = "; ".join(self.reasons)
        if self.source == "rules":
            return f"{self.category} (by the rules: {why})"
        if self.source == "given":
            if not self.suggested:
                return f"{self.category} (given by the candidate list; the rules found nothing to go on)"
            agree = "agree" if self.suggested == self.category else f"suggest {self.suggested}: {why}"
            return f"{self.category} (given by the candidate list; the rules {agree})"
        return (f"unclassified: no rule matched, {self.category} is only a placeholder "
                "- set the category before enabling")


def words(text: str) -> list[str]:
    """"/v1/getLastBlock?chain=eth" -> ["v1", "get", "last", "block", "chain", "eth"]."""
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub(" ", text).lower()) if w]


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def evidence(candidate: Candidate, finding: Finding | None) -> dict[str, list[tuple[int, str]]]:
    """Every rule that fired: category -> [(weight, what it saw)]."""
    found: dict[str, list[tuple[int, str]]] = {}

    def add(category: str, weight: int, reason: str) -> None:
        found.setdefault(str(category), []).append((weight, reason))

    if finding is not None and finding.kind in ("rss", "atom"):
        add(C.NEWS, FEED_WEIGHT, f"an {finding.kind.upper()} feed")
    keys = {_norm(k): k for k in (finding.json_keys if finding is not None else [])}
    for category, known in PAYLOAD_KEYS.items():
        if seen := [original for norm, original in keys.items() if norm in known]:
            add(category, KEY_WEIGHT * len(seen), "payload keys " + ", ".join(seen[:5]))
    parts = urlsplit(candidate.url)
    url_words = set(words(parts.path + " " + parts.query))
    for category, known in URL_WORDS.items():
        if seen := sorted(url_words & known):
            add(category, WORD_WEIGHT * len(seen), "URL words " + ", ".join(seen))
    host = (parts.hostname or "").rsplit(".", 1)[0]  # without the top-level domain
    for hint, category in HOST_HINTS.items():
        if hint in host:
            add(category, WORD_WEIGHT, f"host name contains {hint!r}")
    return found


def classify(candidate: Candidate, finding: Finding | None) -> Classification:
    found = evidence(candidate, finding)
    scores = {category: sum(weight for weight, _ in rules) for category, rules in found.items()}
    suggested = ""
    if scores:
        best = max(scores.values())
        suggested = next(str(c) for c in PRIORITY if scores.get(str(c)) == best)
    reasons = tuple(reason for _, reason in found.get(suggested, []))
    if candidate.category:
        return Classification(candidate.category, suggested, reasons, "given")
    if suggested:
        return Classification(suggested, suggested, reasons, "rules")
    return Classification(DEFAULT_CATEGORY, "", (), "default")
