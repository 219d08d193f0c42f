"""CoinGecko: /simple/price (price), /coins/markets (markets; with category=stablecoins: stablecoins),
/global (global), /search/trending.

Prices are keyed by coin id, then by vs currency; CoinGecko ids are the ids callers use, so no
mapping is needed. Errors come in a status block, sometimes inside HTTP 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import (
    Adapter,
    BadData,
    NotFound,
    Outcome,
    PermanentError,
    ProviderError,
    RequestSpec,
    UnsupportedCapability,
)
from providers.adapters.listings import rows_of
from providers.assets import Listing
from providers.defi_records import STABLECOINS_DEFAULT_LIMIT, STABLECOINS_MAX_LIMIT, Stablecoin, make_stablecoin
from providers.market_depth import interval_code, make_candles
from providers.schemas import (
    TrendingCoin,
    check_row_times,
    iso_from_epoch,
    iso_from_string,
    make_global_stats,
    make_market_row,
    make_quote,
    number,
    optional_int,
)

# /coins/markets answers at most 250 rows per page.
MARKETS_MAX_PER_PAGE = 250
DEFAULT_MARKETS_LIMIT = 100
# /search/trending lists up to 15 coins (30 on paid plans).
DEFAULT_TRENDING_LIMIT = 15
MAX_TRENDING_LIMIT = 30
# /ohlc `days` that give 4 h candles (6 a day): 42, 84 or 180 of them.
OHLC_4H_DAYS = (7, 14, 30)


def _body_error_code(payload: Any) -> int | None:
    # CoinGecko wraps errors as {"status": {...}} or {"error": {"status": {...}}} depending on endpoint.
    if not isinstance(payload, Mapping):
        return None
    status = payload.get("status")
    if not isinstance(status, Mapping) and isinstance(payload.get("error"), Mapping):
        status = payload["error"].get("status")
    if isinstance(status, Mapping) and isinstance(status.get("error_code"), int):
        return status["error_code"]
    return None


def _limit(params: Mapping[str, Any], default: int, maximum: int) -> int:
    return max(1, min(int(params.get("limit") or default), maximum))


class CoinGecko(Adapter):
    slug = "coingecko"
    capabilities = frozenset({"price", "markets", "global", "trending", "candles", "stablecoins"})
    # A 401/403 whose body says 429 (or Cloudflare's 1020) is still a rate limit.
    error_codes = {
        429: Outcome.RATE_LIMITED,
        1020: Outcome.RATE_LIMITED,
        408: Outcome.TRANSIENT,
        **dict.fromkeys(range(500, 600), Outcome.TRANSIENT),
    }
    # 10002 missing key, 10005 plan, 10010/10011 wrong key type: retrying will not help.
    unlisted_error = Outcome.PERMANENT
    # /coins/{id}/ohlc of an id CoinGecko does not know: a 404 saying so, which no breaker counts.
    error_markers = {"coin not found": Outcome.NOT_FOUND}
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability == "candles":
            return self.candles_request(params)
        if capability == "price":
            return RequestSpec(
                path="/simple/price",
                params={
                    "ids": ",".join(params["ids"]),
                    "vs_currencies": params["vs"],
                    "include_market_cap": "true",
                    "include_24hr_vol": "true",
                    "include_24hr_change": "true",
                    "include_last_updated_at": "true",
                },
            )
        if capability == "markets":
            return RequestSpec(
                path="/coins/markets",
                params={
                    "vs_currency": params.get("vs", "usd"),
                    "order": "market_cap_desc",
                    "per_page": _limit(params, DEFAULT_MARKETS_LIMIT, MARKETS_MAX_PER_PAGE),
                    "page": 1,
                    "sparkline": "false",
                },
            )
        if capability == "global":
            return RequestSpec(path="/global")
        if capability == "trending":
            return RequestSpec(path="/search/trending")
        if capability == "stablecoins":
            return stablecoins_request(params)
        return super().build_request(capability, params)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability == "candles":
            return self.parse_candles(params, payload)
        if capability not in self.capabilities:
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        handler = {"price": self._price, "markets": self._markets, "global": self._global, "trending": self._trending,
                   "stablecoins": self._stablecoins}
        return handler[capability](params, payload)

    def _price(self, params: Mapping[str, Any], payload: Any) -> list[dict]:
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object keyed by coin id")
        vs = params["vs"]
        quotes = []
        # Unknown ids are simply absent (the answer is {} when none is known): "not found", the
        # caller's mistake, not bad data. Some known: the known ones are the answer.
        if any(not isinstance(value, Mapping) for value in payload.values()):
            raise BadData(f"{self.slug}: expected an object of objects keyed by coin id")
        missing = [coin_id for coin_id in params["ids"] if not isinstance(payload.get(coin_id), Mapping)]
        if len(missing) == len(params["ids"]):
            raise NotFound(f"{self.slug}: unknown coin id(s) {', '.join(missing)}", field="ids", values=missing)
        for coin_id in params["ids"]:
            item = payload.get(coin_id)
            if coin_id in missing:
                continue
            if vs not in item:
                raise BadData(f"{self.slug}: no {vs} price for {coin_id}")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                price=item[vs],
                market_cap=item.get(f"{vs}_market_cap"),
                volume_24h=item.get(f"{vs}_24h_vol"),
                change_24h_pct=item.get(f"{vs}_24h_change"),
                last_updated=iso_from_epoch(item.get("last_updated_at"), slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    def _markets(self, params: Mapping[str, Any], payload: Any) -> list[dict]:
        if not isinstance(payload, list) or not payload:
            raise BadData(f"{self.slug}: expected a non-empty array of coins")
        rows = []
        for row in payload[: _limit(params, DEFAULT_MARKETS_LIMIT, MARKETS_MAX_PER_PAGE)]:
            if not isinstance(row, Mapping) or not isinstance(row.get("id"), str):
                raise BadData(f"{self.slug}: market row without an id")
            market = make_market_row(
                slug=self.slug,
                id=row["id"],
                vs=params.get("vs", "usd"),
                price=row.get("current_price"),
                rank=row.get("market_cap_rank"),
                symbol=str(row.get("symbol") or "").upper() or None,
                name=row.get("name"),
                market_cap=row.get("market_cap"),
                volume_24h=row.get("total_volume"),
                change_24h_pct=row.get("price_change_percentage_24h"),
                circulating_supply=row.get("circulating_supply"),
                last_updated=iso_from_string(row.get("last_updated"), slug=self.slug),
            )
            rows.append(market.to_dict())
        check_row_times(rows, slug=self.slug)
        return rows

    def _global(self, params: Mapping[str, Any], payload: Any) -> dict:
        data = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(data, Mapping) or not isinstance(data.get("total_market_cap"), Mapping):
            raise BadData(f"{self.slug}: expected {{data: {{total_market_cap: {{...}}}}}}")
        vs = params.get("vs", "usd")
        if vs not in data["total_market_cap"]:
            raise PermanentError(f"{self.slug}: no global market cap in {vs!r}")
        volumes = data.get("total_volume") if isinstance(data.get("total_volume"), Mapping) else {}
        shares = data.get("market_cap_percentage") if isinstance(data.get("market_cap_percentage"), Mapping) else {}
        stats = make_global_stats(
            slug=self.slug,
            vs=vs,
            total_market_cap=data["total_market_cap"][vs],
            total_volume_24h=volumes.get(vs),
            btc_dominance_pct=shares.get("btc"),
            eth_dominance_pct=shares.get("eth"),
            market_cap_change_24h_pct=data.get("market_cap_change_percentage_24h_usd"),
            active_coins=data.get("active_cryptocurrencies"),
            updated_at=iso_from_epoch(number(data.get("updated_at"), "updated_at", slug=self.slug), slug=self.slug),
        )
        return stats.to_dict()

    def _trending(self, params: Mapping[str, Any], payload: Any) -> list[dict]:
        coins = payload.get("coins") if isinstance(payload, Mapping) else None
        if not isinstance(coins, list) or not coins:
            raise BadData(f"{self.slug}: no trending coins in the answer")
        trending = []
        for position, wrapper in enumerate(coins[: _limit(params, DEFAULT_TRENDING_LIMIT, MAX_TRENDING_LIMIT)], 1):
            item = wrapper.get("item") if isinstance(wrapper, Mapping) else None
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
                raise BadData(f"{self.slug}: trending entry without an item id")
            data = item.get("data") if isinstance(item.get("data"), Mapping) else {}
            # data.price is a USD number; market_cap and total_volume there are display strings ("$1,234").
            price = number(data.get("price"), f"{item['id']} price", slug=self.slug)
            if price is not None and price <= 0:
                raise BadData(f"{self.slug}: implausible price {price!r} for {item['id']}")
            coin = TrendingCoin(
                id=item["id"],
                symbol=str(item.get("symbol") or "").upper() or None,
                name=item.get("name"),
                position=position,
                market_cap_rank=optional_int(item.get("market_cap_rank"), "market_cap_rank", slug=self.slug),
                price_usd=price,
            )
            trending.append(coin.to_dict())
        return trending

    # --- candles: /coins/{id}/ohlc ----------------------------------------------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        # The free /ohlc picks its own granularity from `days` (30 min up to 2 days, 4 h up to 30,
        # 4 days beyond) and always ends now: only 4 h candles, without `start`, are on offer.
        interval_code({"4h": 14400}, params, slug=self.slug)
        if params.get("start") is not None:
            raise UnsupportedCapability(f"{self.slug}: /ohlc cannot start at a given time (a paid range endpoint can)")
        days = next((days for days in OHLC_4H_DAYS if days * 6 >= params["limit"]), None)
        if days is None:
            most = OHLC_4H_DAYS[-1] * 6
            raise UnsupportedCapability(f"{self.slug}: at most {most} 4h candles, asked {params['limit']}")
        return RequestSpec(path=f"/coins/{params['id']}/ohlc", params={"vs_currency": params["vs"], "days": days})

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(row, list) and len(row) >= 5 for row in payload):
            raise BadData(f"{self.slug}: ohlc rows are not [time, open, high, low, close]")
        step = 14400
        # A row's time is its candle's close; the forming candle's is "now", inside its interval.
        closes = [int(number(row[0], "time", slug=self.slug) or 0) // 1000 for row in payload]
        rows = [(-(-close // step) * step - step, *row[1:5], None) for close, row in zip(closes, payload, strict=True)]
        return make_candles(rows, params, slug=self.slug, newest_s=max(closes, default=None))
    def _stablecoins(self, params: Mapping[str, Any], payload: Any) -> list[dict]:
        return [coin.to_dict() for coin in stablecoins_of(self.slug, params, payload)]

    def body_error(self, payload: Any) -> ProviderError | None:
        code = _body_error_code(payload)
        if code is not None:
            return ProviderError(f"error_code {code} inside HTTP 200", code=code)
        if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
            # {"error": "coin not found"} (with a 404 from /coins/{id}/...), {"error": "invalid vs_currency"}.
            return ProviderError(f"error {payload['error'][:80]!r}", text=payload["error"])
        return None

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/coins/list", params={"include_platform": "true"})

    def parse_listing(self, payload: Any) -> list[Listing]:
        self.raise_for_body_error(payload) if isinstance(payload, Mapping) else None
        return [Listing(key=str(row["id"]), symbol=str(row.get("symbol") or "").upper(),
                        name=str(row.get("name") or ""),
                        platforms={str(p): str(a) for p, a in (row.get("platforms") or {}).items() if p and a})
                for row in rows_of(payload, self.slug) if row.get("id") and row.get("symbol")]

# --- stablecoins: the "stablecoins" category of /coins/markets ------------------------------------

# CoinGecko does not say what a stablecoin is pegged to; these are the category's non-USD members
# (by symbol). Anything else priced near 1 USD is taken for a USD peg; the rest is left unknown.
NON_USD_PEGS = {
    **dict.fromkeys(("EURC", "EUROC", "EURS", "EURT", "EURE", "EURA", "AGEUR", "EURCV", "EURR", "EURI"), "eur"),
    **dict.fromkeys(("XAUT", "PAXG", "KAU"), "gold"), "XSGD": "sgd", "GYEN": "jpy", "JPYC": "jpy", "TRYB": "try",
    "BRZ": "brl", "CADC": "cad", "ZCHF": "chf", "GBPT": "gbp", "MXNT": "mxn", "BIDR": "idr", "IDRT": "idr",
}
USD_PEG_BAND = (0.5, 1.5)  # a USD coin this far off its peg is no longer recognisable as one


def _peg(symbol: str, price: Any) -> str | None:
    if symbol in NON_USD_PEGS:
        return NON_USD_PEGS[symbol]
    value = price if isinstance(price, int | float) and not isinstance(price, bool) else None
    return "usd" if value is not None and USD_PEG_BAND[0] <= value <= USD_PEG_BAND[1] else None


def stablecoins_request(params: Mapping[str, Any]) -> RequestSpec:
    return RequestSpec(path="/coins/markets", params={
        "vs_currency": "usd", "category": "stablecoins", "order": "market_cap_desc",
        "per_page": _limit(params, STABLECOINS_DEFAULT_LIMIT, STABLECOINS_MAX_LIMIT), "page": 1, "sparkline": "false"})


def stablecoins_of(slug: str, params: Mapping[str, Any], payload: Any) -> list[Stablecoin]:
    """The category's rows as stablecoins (no chains: /coins/markets does not list them)."""
    if not isinstance(payload, list) or not payload:
        raise BadData(f"{slug}: expected a non-empty array of stablecoins")
    coins = []
    for row in payload[: _limit(params, STABLECOINS_DEFAULT_LIMIT, STABLECOINS_MAX_LIMIT)]:
        if not isinstance(row, Mapping) or not isinstance(row.get("id"), str):
            raise BadData(f"{slug}: stablecoin row without an id")
        symbol = str(row.get("symbol") or "").upper()
        coins.append(make_stablecoin(slug=slug, name=row.get("name"), symbol=symbol,
                                     peg=_peg(symbol, row.get("current_price")),
                                     circulating=row.get("circulating_supply"), price=row.get("current_price"),
                                     gecko_id=row["id"]))
    return coins
