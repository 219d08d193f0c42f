"""Coinbase Exchange (api.exchange.coinbase.com): /products/{id}/candles, /products/{id}/book?level=2
and /products/{id}/stats.

The exchange behind the Coinbase App: same coins, but its own host, product ids such as BTC-USD
(real USD books, no stablecoin stand-in) and bare-number candle rows, newest first. Errors come
as {"message": ...} with a non-2xx status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.coinbase import Coinbase
from providers.adapters.listings import exchange_listing, rows_of
from providers.assets import Listing
from providers.market_depth import (
    ExchangeDepth,
    book_of,
    check_limit,
    interval_code,
    make_candles,
    pair_for,
    window_end,
)
from providers.tickers import make_ticker
from providers.values import iso_from_epoch, iso_from_string

# Candle granularities in seconds: 1m, 5m, 15m, 1h, 6h and 1d; there is no 4h.
GRANULARITY = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}
# One candles call answers at most 300 rows.
MAX_CANDLES = 300


class CoinbaseExchange(ExchangeDepth):
    slug = "coinbase_exchange"
    capabilities = frozenset({"candles", "orderbook", "ticker"})
    error_markers = {"rate limit": Outcome.RATE_LIMITED}

    def _product(self, coin_id: str, vs: str) -> str:
        # The base symbol comes from the Coinbase adapter's own helper (the one its prices use),
        # so both Coinbase APIs name a coin alike; it reads nothing but `slug` from self.
        return f"{Coinbase._symbol(self, coin_id)}-{vs.upper()}"



    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        product = pair_for(self._product, params["id"], params["vs"])
        query: dict[str, Any] = {"granularity": interval_code(GRANULARITY, params, slug=self.slug)}
        check_limit(params, MAX_CANDLES, slug=self.slug)
        if (end := window_end(params)) is not None:
            # start and end go together, as ISO-8601 times.
            query.update(start=iso_from_epoch(params["start"], slug=self.slug), end=iso_from_epoch(end, slug=self.slug))
        return RequestSpec(path=f"/products/{product}/candles", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(row, list) and len(row) >= 6 for row in payload):
            raise BadData(f"{self.slug}: candle rows are not [time, low, high, open, close, volume]")
        # Coinbase orders a row low, high, open, close.
        rows = [(r[0], r[3], r[2], r[1], r[4], r[5]) for r in payload]
        return make_candles(rows, params, slug=self.slug)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        product = pair_for(self._product, params["id"], params["vs"])
        # Level 2 is the book aggregated by price: [price, size, order count] per level.
        return RequestSpec(path=f"/products/{product}/book", params={"level": 2})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a book object")
        return book_of(payload, slug=self.slug, params=params,
                       timestamp=iso_from_string(payload.get("time"), slug=self.slug))

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        # /stats is the rolling 24 h window (open, high, low, last, base volume); /ticker would add
        # the best bid/ask and a time but has no open, high or low. One call per fetch: stats.
        return RequestSpec(path=f"/products/{pair_for(self._product, params['id'], params['vs'])}/stats")

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a stats object")
        return make_ticker(slug=self.slug, params=params, pair=self._product(params["id"], params["vs"]),
                           last=payload.get("last"), open=payload.get("open"), high=payload.get("high"),
                           low=payload.get("low"), volume=payload.get("volume"))

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # 404 {"message": "NotFound"} is a product the exchange does not list (another may); any
        # other 404 is a wrong path, a refusal like the rest.
        if status == 404 and isinstance(payload, Mapping) and payload.get("message") == "NotFound":
            return Outcome.NOT_FOUND
        return super().classify_http_error(status, payload)

    def body_error(self, payload: Any) -> ProviderError | None:
        if isinstance(payload, Mapping) and "message" in payload and "bids" not in payload:
            message = str(payload["message"])
            return ProviderError(f"error: {message[:120]!r}", text=message)
        return None

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/products")

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return exchange_listing((str(p.get("base_currency") or ""), str(p.get("quote_currency") or ""))
                                for p in rows_of(payload, self.slug)
                                if p.get("status", "online") == "online" and not p.get("trading_disabled"))
