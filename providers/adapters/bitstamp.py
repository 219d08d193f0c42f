"""Bitstamp v2: /ticker/{pair}/ for one pair, /ticker/ for every pair, /order_book/{pair}/ and
/ohlc/{pair}/.

Pairs are lower-case url symbols (btcusd) on real USD books, so no stablecoin stands in for the
dollar; every number is a string and times are epoch seconds as strings. Errors come as non-2xx
statuses (an unknown pair's path is a 404), some with a {"status": "error", "reason": ...} body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.listings import exchange_listing, rows_of
from providers.assets import Listing
from providers.market_depth import (
    ExchangeDepth,
    book_of,
    check_limit,
    interval_code,
    make_candles,
    pair_for,
)
from providers.schemas import iso_from_epoch, make_quote, number
from providers.tickers import make_ticker

# OHLC steps in seconds; one call answers at most 1000 candles.
BITSTAMP_STEPS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
BITSTAMP_MAX_CANDLES = 1000


class Bitstamp(ExchangeDepth):
    slug = "bitstamp"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    error_markers = {"rate limit": Outcome.RATE_LIMITED, "too many requests": Outcome.RATE_LIMITED}

    def _pair(self, coin_id: str, vs: str) -> str:
        return f"{assets.require_name(self.slug, coin_id)}{vs}".lower()

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        pairs = [self._pair(coin_id, params["vs"]) for coin_id in params["ids"]]
        # One pair has its own path; several take the every-pair list (one call either way).
        return RequestSpec(path=f"/ticker/{pairs[0]}/" if len(pairs) == 1 else "/ticker/")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        vs = params["vs"]
        if isinstance(payload, Mapping):
            rows = {self._pair(params["ids"][0], vs): payload}
        elif isinstance(payload, list):
            # The every-pair list names each row "BTC/USD".
            rows = {str(r.get("pair", "")).replace("/", "").lower(): r for r in payload if isinstance(r, Mapping)}
        else:
            raise BadData(f"{self.slug}: expected a ticker object or a list of them")
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._pair(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            quote = make_quote(
                slug=self.slug, id=coin_id, symbol=assets.symbol_for(coin_id), vs=vs, price=row.get("last"),
                volume_24h=self._quote_volume(row), change_24h_pct=row.get("percent_change_24"),
                last_updated=self._time(row.get("timestamp")))
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /ohlc/{pair}/ and /order_book/{pair}/ -----------------------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        pair = pair_for(self._pair, params["id"], params["vs"])
        query: dict[str, Any] = {"step": interval_code(BITSTAMP_STEPS, params, slug=self.slug),
                                 "limit": check_limit(params, BITSTAMP_MAX_CANDLES, slug=self.slug)}
        if params.get("start") is not None:
            # start alone counts `limit` candles forward from it (with end, Bitstamp counts back from end).
            query["start"] = params["start"]
        return RequestSpec(path=f"/ohlc/{pair}/", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        self.raise_for_body_error(payload)
        data = payload.get("data") if isinstance(payload, Mapping) else None
        rows = data.get("ohlc") if isinstance(data, Mapping) else None
        if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
            raise BadData(f"{self.slug}: no data.ohlc list of candle objects")
        fields = ("timestamp", "open", "high", "low", "close", "volume")
        return make_candles([tuple(row.get(name) for name in fields) for row in rows], params, slug=self.slug)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        # The book has no depth parameter: group=1 aggregates it by price and book_of cuts it.
        return RequestSpec(path=f"/order_book/{pair_for(self._pair, params['id'], params['vs'])}/",
                           params={"group": 1})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a book object")
        return book_of(payload, slug=self.slug, params=params, timestamp=self._time(payload.get("timestamp")))

    # --- 24 h ticker: /ticker/{pair}/ (the price code's single-pair call) ------------------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path=f"/ticker/{pair_for(self._pair, params['id'], params['vs'])}/")

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a ticker object")
        # `open` is the day's first price (00:00 UTC); open_24 is the price 24 h ago, the window's
        # open. high, low, volume (base asset) and vwap cover the last 24 h; no sizes or trade count.
        return make_ticker(
            slug=self.slug, params=params, pair=self._pair(params["id"], params["vs"]), last=payload.get("last"),
            open=payload.get("open_24"), high=payload.get("high"), low=payload.get("low"),
            volume=payload.get("volume"), quote_volume=self._quote_volume(payload), vwap=payload.get("vwap"),
            change_pct=payload.get("percent_change_24"), bid=payload.get("bid"), ask=payload.get("ask"),
            close_time=self._time(payload.get("timestamp")))

    def _quote_volume(self, row: Mapping[str, Any]) -> float | None:
        # volume is in the base asset; times the 24 h VWAP it is, by the VWAP's definition, the quote volume.
        volume, vwap = number(row.get("volume"), "volume", slug=self.slug), number(row.get("vwap"), "vwap",
                                                                                    slug=self.slug)
        return round(volume * vwap, 2) if volume is not None and vwap is not None else None

    def _time(self, value: Any) -> str | None:
        return iso_from_epoch(number(value, "timestamp", slug=self.slug), slug=self.slug)

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or payload.get("status") != "error":
            return None
        reason = str(payload.get("reason") or payload.get("message") or "")
        return ProviderError(f"error: {reason[:120]!r}", code=payload.get("code"), text=reason)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/trading-pairs-info/")

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        # name is "BTC/USD"; url_symbol (btcusd) is what the paths take, lower-cased from it.
        return exchange_listing(str(p.get("name") or "").partition("/")[::2] for p in rows_of(payload, self.slug)
                                if p.get("trading", "Enabled") == "Enabled")
