"""CoinLore: /tickers/ (top 100 by rank, USD only) serves price and markets; /global/ serves global.

Prices, percentages and supplies come as strings; ids are CoinLore's own numbers, so coins are
matched by symbol. Paths keep CoinLore's trailing slashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, BadData, NotFound, PermanentError, RequestSpec
from providers.adapters.listings import rank_of, rows_of
from providers.assets import Listing
from providers.schemas import iso_from_epoch, make_global_stats, make_market_row, make_quote, number

SUPPORTED_VS = frozenset({"usd"})
# /tickers/ answers at most 100 coins per page.
PAGE_LIMIT = 100
DEFAULT_MARKETS_LIMIT = 100


def _limit(params: Mapping[str, Any]) -> int:
    return max(1, min(int(params.get("limit") or DEFAULT_MARKETS_LIMIT), PAGE_LIMIT))


class CoinLore(Adapter):
    slug = "coinlore"
    capabilities = frozenset({"price", "markets", "global"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in self.capabilities:
            return super().build_request(capability, params)
        vs = params.get("vs", "usd")
        if vs not in SUPPORTED_VS:
            raise PermanentError(f"{self.slug}: quotes only in USD, not {vs!r}")
        if capability == "global":
            return RequestSpec(path="/global/")
        if capability == "price":
            for coin_id in params["ids"]:
                assets.require_name(self.slug, coin_id)
            # One page of the top coins answers most requests in one call; a listed coin below
            # it is "not found" here (parse), and the engine asks the next provider.
            return RequestSpec(path="/tickers/", params={"start": 0, "limit": PAGE_LIMIT})
        return RequestSpec(path="/tickers/", params={"start": 0, "limit": _limit(params)})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability == "global":
            return self._parse_global(payload)
        if capability not in self.capabilities:
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
            raise BadData(f"{self.slug}: expected {{data: [...], info: {{...}}}}")
        info = payload.get("info") if isinstance(payload.get("info"), Mapping) else {}
        answered_at = iso_from_epoch(number(info.get("time"), "info.time", slug=self.slug), slug=self.slug)
        rows = [row for row in payload["data"] if isinstance(row, Mapping)]
        if capability == "price":
            return self._parse_price(params, rows, answered_at)
        return self._parse_markets(params, rows, answered_at)

    def _parse_price(self, params: Mapping[str, Any], rows: list[Mapping], answered_at: str | None) -> list[dict]:
        by_symbol: dict[str, Mapping] = {}
        for row in rows:
            # The list is in rank order: on a symbol clash the bigger coin wins.
            by_symbol.setdefault(str(row.get("symbol", "")).upper(), row)
        quotes = []
        for coin_id in params["ids"]:
            symbol = assets.require_name(self.slug, coin_id)
            row = by_symbol.get(symbol.upper())
            if row is None:
                raise NotFound(f"{self.slug}: {coin_id} is not in its top {PAGE_LIMIT}", field="ids", values=[coin_id])
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=symbol,
                vs="usd",
                price=row.get("price_usd"),
                market_cap=row.get("market_cap_usd"),
                volume_24h=row.get("volume24"),
                change_24h_pct=row.get("percent_change_24h"),
                last_updated=answered_at,
            )
            quotes.append(quote.to_dict())
        return quotes

    def _parse_markets(self, params: Mapping[str, Any], rows: list[Mapping], answered_at: str | None) -> list[dict]:
        if not rows:
            raise BadData(f"{self.slug}: empty market listing")
        markets = []
        for row in rows[: _limit(params)]:
            symbol = str(row.get("symbol") or "").upper() or None
            known = assets.current().id_from(self.slug, symbol) if symbol else None
            coin_id = known or row.get("nameid") or str(row.get("id"))
            market = make_market_row(
                slug=self.slug,
                id=coin_id,
                vs="usd",
                price=row.get("price_usd"),
                rank=row.get("rank"),
                symbol=symbol,
                name=row.get("name"),
                market_cap=row.get("market_cap_usd"),
                volume_24h=row.get("volume24"),
                change_24h_pct=row.get("percent_change_24h"),
                circulating_supply=row.get("csupply"),
                last_updated=answered_at,
            )
            markets.append(market.to_dict())
        return markets

    def _parse_global(self, payload: Any) -> dict:
        # /global/ is a one-element array.
        if not isinstance(payload, list) or not payload or not isinstance(payload[0], Mapping):
            raise BadData(f"{self.slug}: expected a one-element array")
        row = payload[0]
        stats = make_global_stats(
            slug=self.slug,
            vs="usd",
            total_market_cap=row.get("total_mcap"),
            total_volume_24h=row.get("total_volume"),
            btc_dominance_pct=row.get("btc_d"),
            eth_dominance_pct=row.get("eth_d"),
            market_cap_change_24h_pct=row.get("mcap_change"),
            active_coins=row.get("coins_count"),
        )
        return stats.to_dict()

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        # Prices come from the top page only (see build_request), so that is what CoinLore lists.
        return RequestSpec(path="/tickers/", params={"start": 0, "limit": PAGE_LIMIT})

    def parse_listing(self, payload: Any) -> list[Listing]:
        # Keyed by symbol: the price answer is matched by symbol, the bigger coin first.
        rows: dict[str, Listing] = {}
        for row in rows_of(payload, self.slug, "data"):
            symbol = str(row.get("symbol") or "").upper()
            if symbol and symbol not in rows:
                rows[symbol] = Listing(key=symbol, symbol=symbol, name=str(row.get("name") or ""),
                                       rank=rank_of(row.get("rank")))
        return list(rows.values())
