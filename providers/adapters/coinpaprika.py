"""CoinPaprika (free, keyless): /tickers/{id} or /tickers for price, /tickers for markets and
trending, /global for global.

The free API has no trending endpoint, so "trending" here is the day's top gainers among the
top TRENDING_TOP_RANK coins by rank (the "gainers" list most sites show as trending), taken from
the same /tickers answer as markets. Ids are mapped back to the caller's (CoinGecko-style) ids;
a coin outside the symbol map keeps CoinPaprika's own id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, AdapterError, BadData, PermanentError, RequestSpec
from providers.adapters.listings import rank_of, rows_of
from providers.assets import Listing
from providers.schemas import (
    TrendingCoin,
    check_row_times,
    iso_from_epoch,
    iso_from_string,
    make_global_stats,
    make_market_row,
    make_quote,
    number,
)

DEFAULT_MARKETS_LIMIT = 100
MAX_MARKETS_LIMIT = 250
DEFAULT_TRENDING_LIMIT = 15
MAX_TRENDING_LIMIT = 30
# Gainers are taken from the top coins only: deep in the list, thin markets swing by 1,000 % a day.
TRENDING_TOP_RANK = 100
# /global is in USD only.
GLOBAL_VS = "usd"



def _limit(params: Mapping[str, Any], default: int, maximum: int) -> int:
    return max(1, min(int(params.get("limit") or default), maximum))


def _rank_key(ticker: Mapping[str, Any]) -> tuple[bool, int]:
    # Rank 0 means "not ranked": those go last.
    rank = ticker.get("rank")
    return (not isinstance(rank, int) or rank <= 0, rank if isinstance(rank, int) else 0)


class CoinPaprika(Adapter):
    slug = "coinpaprika"
    capabilities = frozenset({"price", "markets", "global", "trending"})

    def _paprika_id(self, coin_id: str) -> str:
        return assets.require_name(self.slug, coin_id)

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability == "price":
            paprika_ids = [self._paprika_id(coin_id) for coin_id in params["ids"]]
            quotes = {"quotes": params["vs"].upper()}
            # The full list is a multi-MB answer, so a single coin uses its own small endpoint.
            if len(paprika_ids) == 1:
                return RequestSpec(path=f"/tickers/{paprika_ids[0]}", params=quotes)
            return RequestSpec(path="/tickers", params=quotes)
        if capability == "markets":
            return RequestSpec(path="/tickers", params={"quotes": params.get("vs", "usd").upper()})
        if capability == "trending":
            return RequestSpec(path="/tickers", params={"quotes": "USD"})
        if capability == "global":
            if params.get("vs", GLOBAL_VS) != GLOBAL_VS:
                raise PermanentError(f"{self.slug}: global figures only in USD, not {params['vs']!r}")
            return RequestSpec(path="/global")
        return super().build_request(capability, params)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in self.capabilities:
            return super().parse(capability, params, payload)
        if isinstance(payload, Mapping) and "error" in payload:
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {payload['error']!r}")
        if capability == "global":
            return self._global(payload)
        tickers = [payload] if capability == "price" and isinstance(payload, Mapping) else payload
        if not isinstance(tickers, list):
            raise BadData(f"{self.slug}: expected a list of tickers")
        tickers = [t for t in tickers if isinstance(t, Mapping)]
        if capability == "price":
            return self._price(params, tickers)
        if capability == "markets":
            return self._markets(params, tickers)
        return self._trending(params, tickers)

    def _quote_block(self, ticker: Mapping[str, Any], vs: str) -> Mapping[str, Any]:
        block = ticker.get("quotes")
        data = block.get(vs.upper()) if isinstance(block, Mapping) else None
        if not isinstance(data, Mapping):
            raise BadData(f"{self.slug}: no {vs} quote for {ticker.get('id')}")
        return data

    def _price(self, params: Mapping[str, Any], tickers: list[Mapping]) -> list[dict]:
        by_id = {t.get("id"): t for t in tickers}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            ticker = by_id.get(self._paprika_id(coin_id)) or {"id": coin_id}
            data = self._quote_block(ticker, vs)
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=ticker.get("symbol") or assets.symbol_for(coin_id),
                vs=vs,
                price=data.get("price"),
                market_cap=data.get("market_cap"),
                volume_24h=data.get("volume_24h"),
                change_24h_pct=data.get("percent_change_24h"),
                last_updated=iso_from_string(ticker.get("last_updated"), slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    def _markets(self, params: Mapping[str, Any], tickers: list[Mapping]) -> list[dict]:
        if not tickers:
            raise BadData(f"{self.slug}: empty ticker list")
        vs = params.get("vs", "usd")
        rows = []
        for ticker in sorted(tickers, key=_rank_key)[: _limit(params, DEFAULT_MARKETS_LIMIT, MAX_MARKETS_LIMIT)]:
            data = self._quote_block(ticker, vs)
            paprika_id = str(ticker.get("id") or "")
            row = make_market_row(
                slug=self.slug,
                id=assets.current().id_from(self.slug, paprika_id) or paprika_id,
                vs=vs,
                price=data.get("price"),
                rank=ticker.get("rank") or None,
                symbol=ticker.get("symbol"),
                name=ticker.get("name"),
                market_cap=data.get("market_cap"),
                volume_24h=data.get("volume_24h"),
                change_24h_pct=data.get("percent_change_24h"),
                circulating_supply=ticker.get("circulating_supply"),
                last_updated=iso_from_string(ticker.get("last_updated"), slug=self.slug),
            )
            rows.append(row.to_dict())
        check_row_times(rows, slug=self.slug)
        return rows

    def _trending(self, params: Mapping[str, Any], tickers: list[Mapping]) -> list[dict]:
        top = [t for t in tickers if isinstance(t.get("rank"), int) and 0 < t["rank"] <= TRENDING_TOP_RANK]
        # Validated as market rows first, so a lying or broken ticker fails the same way in both.
        rows = self._markets({"vs": "usd", "limit": TRENDING_TOP_RANK}, top) if top else []
        movers = sorted((r for r in rows if r["change_24h_pct"] is not None), key=lambda r: -r["change_24h_pct"])
        if not movers:
            raise BadData(f"{self.slug}: no ranked coin with a 24 h change to rank by")
        limit = _limit(params, DEFAULT_TRENDING_LIMIT, MAX_TRENDING_LIMIT)
        return [
            TrendingCoin(id=row["id"], symbol=row["symbol"], name=row["name"], position=position,
                         market_cap_rank=row["rank"], price_usd=row["price"]).to_dict()
            for position, row in enumerate(movers[:limit], 1)
        ]

    def _global(self, payload: Any) -> dict:
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        stats = make_global_stats(
            slug=self.slug,
            vs=GLOBAL_VS,
            total_market_cap=payload.get("market_cap_usd"),
            total_volume_24h=payload.get("volume_24h_usd"),
            btc_dominance_pct=payload.get("bitcoin_dominance_percentage"),
            market_cap_change_24h_pct=payload.get("market_cap_change_24h"),
            active_coins=payload.get("cryptocurrencies_number"),
            # /global stamps in unix seconds, unlike the ISO strings of /tickers.
            updated_at=iso_from_epoch(number(payload.get("last_updated"), "last_updated", slug=self.slug),
                                      slug=self.slug),
        )
        return stats.to_dict()

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/coins")

    def parse_listing(self, payload: Any) -> list[Listing]:
        # Inactive coins are what CoinPaprika shows for delisted ones: left out, so they delist here.
        return [Listing(key=str(row["id"]), symbol=str(row.get("symbol") or "").upper(),
                        name=str(row.get("name") or ""),
                        rank=rank_of(row.get("rank")))
                for row in rows_of(payload, self.slug)
                if row.get("id") and row.get("symbol") and row.get("is_active", True)]
