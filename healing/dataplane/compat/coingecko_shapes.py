"""CoinGecko's answer shapes, built from cryptohub's normalized records (pure functions, no I/O).

Each function takes the data of one normalized answer (price quotes, market rows, global stats,
trending coins, candles) or registry assets and returns CoinGecko's JSON for it. A key CoinGecko
always sends is kept and set to null when no normalized record holds its value (ATH, supply caps,
images: nothing is made up); a value that is plain arithmetic on what we have is computed (the
24 h price change from the price and its percentage). Registry data (names, symbols, ranks,
contracts) fills what a fallback provider's record lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from healing.dataplane.compat.coingecko_params import MarketsQuery
from providers.assets import Asset, Registry
from providers.market_depth import INTERVAL_SECONDS
from providers.values import epoch_of

Record = Mapping[str, Any]

# Every key of a coins/markets row, in CoinGecko's order.
MARKET_ROW_KEYS = (
    "id", "symbol", "name", "image", "current_price", "market_cap", "market_cap_rank", "fully_diluted_valuation",
    "total_volume", "high_24h", "low_24h", "price_change_24h", "price_change_percentage_24h",
    "market_cap_change_24h", "market_cap_change_percentage_24h", "circulating_supply", "total_supply",
    "max_supply", "ath", "ath_change_percentage", "ath_date", "atl", "atl_change_percentage", "atl_date", "roi",
    "last_updated",
)
# simple/supported_vs_currencies: CoinGecko's list. Which of them a fallback provider can price
# varies; an answer no provider can give is a 503 naming every attempt, never a made-up rate.
SUPPORTED_VS_CURRENCIES = (
    "btc", "eth", "ltc", "bch", "bnb", "eos", "xrp", "xlm", "link", "dot", "yfi", "sol", "usd", "aed", "ars", "aud",
    "bdt", "bhd", "bmd", "brl", "cad", "chf", "clp", "cny", "czk", "dkk", "eur", "gbp", "gel", "hkd", "huf", "idr",
    "ils", "inr", "jpy", "krw", "kwd", "lkr", "mmk", "mxn", "myr", "ngn", "nok", "nzd", "php", "pkr", "pln", "rub",
    "sar", "sek", "sgd", "thb", "try", "twd", "uah", "vef", "vnd", "zar", "xdr", "xag", "xau", "bits", "sats",
)


def rounded(value: Any, places: int | None) -> Any:
    """`precision`: None keeps the value; 0 gives a whole number, as CoinGecko prints it."""
    if places is None or not isinstance(value, int | float) or isinstance(value, bool):
        return value
    return int(round(value)) if places == 0 else round(value, places)


def epoch_s(iso: str | None) -> int | None:
    return None if iso is None else int(epoch_of(iso))


def iso_ms(iso: str | None) -> str | None:
    """`2025-06-10T12:00:00Z` as CoinGecko writes times: `2025-06-10T12:00:00.000Z`."""
    if iso is None:
        return None
    return iso[:-1] + ".000Z" if iso.endswith("Z") and "." not in iso else iso


def change_amount(price: float | None, change_pct: float | None) -> float | None:
    """The 24 h change in currency from today's price and the change in percent."""
    if price is None or change_pct is None or change_pct <= -100:
        return None
    return price * change_pct / (100 + change_pct)


# --- simple/price ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceOptions:
    market_cap: bool = False
    volume: bool = False
    change: bool = False
    last_updated: bool = False
    precision: int | None = None


def simple_price(ids: Sequence[str], answers: Mapping[str, Sequence[Record]], options: PriceOptions) -> dict:
    """{id: {vs: price, vs_market_cap, vs_24h_vol, vs_24h_change, ..., last_updated_at}}: only the
    asked keys, ids in the asked order, an id no answer priced left out (CoinGecko's `{}`)."""
    by_vs = {vs: {quote["id"]: quote for quote in quotes} for vs, quotes in answers.items()}
    places = options.precision
    out: dict[str, dict[str, Any]] = {}
    for coin_id in ids:
        item: dict[str, Any] = {}
        updated: int | None = None
        for vs, quotes in by_vs.items():
            quote = quotes.get(coin_id)
            if quote is None:
                continue
            item[vs] = rounded(quote["price"], places)
            if options.market_cap:
                item[f"{vs}_market_cap"] = rounded(quote.get("market_cap"), places)
            if options.volume:
                item[f"{vs}_24h_vol"] = rounded(quote.get("volume_24h"), places)
            if options.change:
                item[f"{vs}_24h_change"] = rounded(quote.get("change_24h_pct"), places)
            updated = updated if updated is not None else epoch_s(quote.get("last_updated"))
        if item:
            if options.last_updated:
                item["last_updated_at"] = updated
            out[coin_id] = item
    return out


# --- coins/markets ----------------------------------------------------------------------------------


def _market_row(*, coin_id: str, symbol: str | None, name: str | None, rank: int | None, price: float,
                market_cap: float | None, volume: float | None, change_pct: float | None,
                supply: float | None, last_updated: str | None, query: MarketsQuery) -> dict:
    places = query.precision
    row: dict[str, Any] = dict.fromkeys(MARKET_ROW_KEYS)
    row.update({
        "id": coin_id, "symbol": (symbol or "").lower() or None, "name": name,
        "current_price": rounded(price, places), "market_cap": market_cap, "market_cap_rank": rank,
        "total_volume": volume, "price_change_24h": rounded(change_amount(price, change_pct), places),
        "price_change_percentage_24h": change_pct, "circulating_supply": supply, "last_updated": iso_ms(last_updated),
    })
    if query.sparkline:
        row["sparkline_in_7d"] = {"price": []}  # CoinGecko's empty sparkline: no 7-day series here
    for window in query.windows:
        row[f"price_change_percentage_{window}_in_currency"] = change_pct if window == "24h" else None
    return row


def market_rows(rows: Iterable[Record], registry: Registry, query: MarketsQuery) -> list[dict]:
    """Normalized market rows as CoinGecko's; symbol, name and rank from the registry when a
    provider's row lacks them."""
    out = []
    for row in rows:
        asset = registry.get(row["id"])
        out.append(_market_row(
            coin_id=row["id"], symbol=row.get("symbol") or (asset.symbol if asset else None),
            name=row.get("name") or (asset.name if asset else None),
            rank=row.get("rank") if row.get("rank") is not None else (asset.rank if asset else None),
            price=row["price"], market_cap=row.get("market_cap"), volume=row.get("volume_24h"),
            change_pct=row.get("change_24h_pct"), supply=row.get("circulating_supply"),
            last_updated=row.get("last_updated"), query=query))
    return out


def quote_rows(ids: Sequence[str], quotes: Iterable[Record], registry: Registry, query: MarketsQuery) -> list[dict]:
    """coins/markets?ids=...: the coins' price quotes as rows (the asked ids, any rank); the
    registry names and ranks them, circulating supply is unknown (null)."""
    by_id = {quote["id"]: quote for quote in quotes}
    records = []
    for coin_id in ids:
        quote = by_id.get(coin_id)
        if quote is not None:
            records.append({**quote, "name": None, "rank": None, "circulating_supply": None})
    return market_rows(records, registry, query)


def _nulls_last(value: Any, descending: bool) -> tuple[bool, Any]:
    if value is None:
        return (True, 0)
    return (False, -value if descending else value)


def ordered(rows: list[dict], order: str) -> list[dict]:
    """CoinGecko's `order`; rows without the sorted value come last either way."""
    field, _, direction = order.rpartition("_")
    if field == "id":
        return sorted(rows, key=lambda row: row["id"], reverse=direction == "desc")
    key = {"market_cap": "market_cap", "volume": "total_volume"}[field]
    return sorted(rows, key=lambda row: _nulls_last(row[key], direction == "desc"))


def markets_page(rows: list[dict], query: MarketsQuery) -> list[dict]:
    return ordered(rows, query.order)[query.start: query.end]


# --- coins/list, coins/{id}, search -----------------------------------------------------------------


def coins_list(registry: Registry, *, include_platform: bool, inactive: bool) -> list[dict]:
    """Every coin by id (CoinGecko sorts by id); `inactive` lists the delisted ones instead."""
    out = []
    for asset in sorted(registry, key=lambda a: a.id):
        if asset.delisted != inactive:
            continue
        row: dict[str, Any] = {"id": asset.id, "symbol": asset.symbol.lower(), "name": asset.name}
        if include_platform:
            row["platforms"] = dict(asset.platforms)
        out.append(row)
    return out


def coin_detail(asset: Asset, quotes: Sequence[Record] | None, vs: str = "usd") -> dict:
    """coins/{id}: what the registry and one price quote fill. Sections nobody here holds
    (description, links, images, tickers, community and developer data) are left out; a coin
    without contracts has CoinGecko's `{"": ""}` platforms. `quotes` None: market_data=false."""
    detail: dict[str, Any] = {
        "id": asset.id, "symbol": asset.symbol.lower(), "name": asset.name,
        "platforms": dict(asset.platforms) or {"": ""}, "market_cap_rank": asset.rank,
    }
    if quotes is None:
        return detail
    quote = next((q for q in quotes if q["id"] == asset.id), None)

    def in_vs(key: str) -> dict[str, Any]:
        return {} if quote is None or quote.get(key) is None else {vs: quote[key]}

    price = quote["price"] if quote else None
    change = quote.get("change_24h_pct") if quote else None
    moved = change_amount(price, change)
    detail["market_data"] = {
        "current_price": in_vs("price"), "market_cap": in_vs("market_cap"), "market_cap_rank": asset.rank,
        "total_volume": in_vs("volume_24h"), "high_24h": {}, "low_24h": {},
        "price_change_24h": moved, "price_change_percentage_24h": change,
        "price_change_24h_in_currency": {} if moved is None else {vs: moved},
        "price_change_percentage_24h_in_currency": in_vs("change_24h_pct"),
        "circulating_supply": None, "total_supply": None, "max_supply": None,
        "last_updated": iso_ms(quote.get("last_updated")) if quote else None,
    }
    detail["last_updated"] = detail["market_data"]["last_updated"]
    return detail


def search(assets: Iterable[Asset]) -> dict:
    """search?query=: CoinGecko's five lists; only coins are ours to fill."""
    coins = [{"id": a.id, "name": a.name, "api_symbol": a.id, "symbol": a.symbol, "market_cap_rank": a.rank,
              "thumb": None, "large": None} for a in assets if not a.delisted]
    return {"coins": coins, "exchanges": [], "icos": [], "categories": [], "nfts": []}


# --- global, trending -------------------------------------------------------------------------------


def global_data(stats: Record) -> dict:
    """global: one currency's totals (the normalized answer is per currency); ICO and market
    counts are nobody's but CoinGecko's (null)."""
    vs = stats["vs"]
    shares = {coin: stats[key] for coin, key in (("btc", "btc_dominance_pct"), ("eth", "eth_dominance_pct"))
              if stats.get(key) is not None}
    volume = stats.get("total_volume_24h")
    return {"data": {
        "active_cryptocurrencies": stats.get("active_coins"), "upcoming_icos": None, "ongoing_icos": None,
        "ended_icos": None, "markets": None,
        "total_market_cap": {vs: stats["total_market_cap"]}, "total_volume": {} if volume is None else {vs: volume},
        "market_cap_percentage": shares,
        f"market_cap_change_percentage_24h_{vs}": stats.get("market_cap_change_24h_pct"),
        "updated_at": epoch_s(stats.get("updated_at")),
    }}


def trending(coins: Iterable[Record]) -> dict:
    """search/trending: each coin wrapped in {"item": ...}, `score` from 0; prices in USD as
    CoinGecko's `data.price`, the display strings and BTC prices unknown (null)."""
    items = []
    for coin in sorted(coins, key=lambda c: c["position"]):
        items.append({"item": {
            "id": coin["id"], "coin_id": None, "name": coin.get("name"), "symbol": coin.get("symbol"),
            "market_cap_rank": coin.get("market_cap_rank"), "thumb": None, "small": None, "large": None,
            "slug": None, "price_btc": None, "score": coin["position"] - 1,
            "data": {"price": coin.get("price_usd"), "price_btc": None, "price_change_percentage_24h": {},
                     "market_cap": None, "market_cap_btc": None, "total_volume": None, "total_volume_btc": None,
                     "sparkline": None, "content": None},
        }})
    return {"coins": items, "nfts": [], "categories": []}


# --- ohlc, market_chart (from candles) --------------------------------------------------------------


def _close_ms(candle: Record, step_s: int) -> int:
    return int((epoch_of(candle["open_time"]) + step_s) * 1000)


def ohlc(candles: Sequence[Record], interval: str, places: int | None = None) -> list[list[Any]]:
    """[[time ms, open, high, low, close], ...] oldest first; the time is the candle's close, as
    CoinGecko stamps its OHLC rows (the forming candle's is its interval's end)."""
    step = INTERVAL_SECONDS[interval]
    return [[_close_ms(c, step), *(rounded(c[k], places) for k in ("open", "high", "low", "close"))]
            for c in candles]


def market_chart(candles: Sequence[Record], interval: str, now_s: float, places: int | None = None) -> dict:
    """{"prices": [[time ms, price], ...], "market_caps": [], "total_volumes": []}.

    A price point is a candle's close at its close time; the forming candle's close is the latest
    price, stamped `now` (kept inside its interval), as CoinGecko's last point is the current one.
    Candles hold no market caps and no rolling 24 h volumes, so those series are empty rather than
    approximated.
    """
    step = INTERVAL_SECONDS[interval]
    prices = []
    for candle in candles:
        at = _close_ms(candle, step)
        if candle.get("partial"):
            at = int(max(at - step * 1000, min(at, now_s * 1000)))
        prices.append([at, rounded(candle["close"], places)])
    return {"prices": prices, "market_caps": [], "total_volumes": []}
