"""Gate.io v4 spot: /spot/tickers (?currency_pair=BTC_USDT for one pair), /spot/order_book and
/spot/candlesticks.

Pairs are BASE_QUOTE; every number is a string, candle rows are arrays of strings with times in
epoch seconds. Errors are non-2xx statuses with {"label": ..., "message": ...}; label
INVALID_CURRENCY_PAIR is a pair Gate.io does not list.
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
    window_end,
)
from providers.schemas import make_quote, number
from providers.tickers import make_ticker
from providers.values import iso_from_millis

# Gate.io's USD liquidity is in USDT pairs, as on Binance.
QUOTE_ASSET = {"usd": "USDT"}
# Gate.io names candle intervals as callers do; one call answers at most 1000 points.
GATEIO_INTERVALS = {name: name for name in ("1m", "5m", "15m", "1h", "4h", "1d")}
GATEIO_MAX_CANDLES = 1000
UNKNOWN_PAIR = "INVALID_CURRENCY_PAIR"


class GateIo(ExchangeDepth):
    slug = "gateio"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    error_codes = {
        "TOO_MANY_REQUESTS": Outcome.RATE_LIMITED,
        **dict.fromkeys(("SERVER_ERROR", "TOO_BUSY"), Outcome.TRANSIENT),
        **dict.fromkeys((UNKNOWN_PAIR, "INVALID_PARAM_VALUE", "MISSING_REQUIRED_PARAM"), Outcome.PERMANENT),
    }

    def _pair(self, coin_id: str, vs: str) -> str:
        return f"{assets.require_name(self.slug, coin_id)}_{QUOTE_ASSET.get(vs, vs.upper())}"

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        pairs = [self._pair(coin_id, params["vs"]) for coin_id in params["ids"]]
        # Without currency_pair the call answers every pair: one call for several coins.
        return RequestSpec(path="/spot/tickers", params={"currency_pair": pairs[0]} if len(pairs) == 1 else {})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        rows = self._tickers(payload)
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._pair(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            # change_percentage is already a percentage; the tickers carry no time.
            quote = make_quote(slug=self.slug, id=coin_id, symbol=assets.symbol_for(coin_id), vs=vs,
                               price=row.get("last"), volume_24h=row.get("quote_volume"),
                               change_24h_pct=row.get("change_percentage"))
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /spot/candlesticks and /spot/order_book ----------------------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        query: dict[str, Any] = {"currency_pair": pair_for(self._pair, params["id"], params["vs"]),
                                 "interval": interval_code(GATEIO_INTERVALS, params, slug=self.slug)}
        limit = check_limit(params, GATEIO_MAX_CANDLES, slug=self.slug)
        if (end := window_end(params)) is not None:
            # limit is refused together with from/to; `to` is inclusive, so one second before the end.
            query.update({"from": params["start"], "to": end - 1})
        else:
            query["limit"] = limit
        return RequestSpec(path="/spot/candlesticks", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(row, list) and len(row) >= 7 for row in payload):
            raise BadData(f"{self.slug}: candle rows are not [time, quote volume, close, high, low, open, "
                          "base volume, closed]")
        # Gate.io orders a row quote volume, close, high, low, open, base volume; the eighth field,
        # where given, is its own word on whether the candle has closed.
        rows = [(r[0], r[5], r[3], r[4], r[2], r[6]) for r in payload]
        forming = {int(number(r[0], "time", slug=self.slug) or 0): str(r[7]).lower() == "false"
                   for r in payload if len(r) >= 8}
        return make_candles(rows, params, slug=self.slug, partial=forming)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path="/spot/order_book", params={
            "currency_pair": pair_for(self._pair, params["id"], params["vs"]),
            "limit": params["depth"]})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a book object")
        stamp_ms = number(payload.get("current"), "current", slug=self.slug)
        return book_of(payload, slug=self.slug, params=params,
                       timestamp=iso_from_millis(stamp_ms, slug=self.slug))

    # --- 24 h ticker: /spot/tickers?currency_pair= (the price code's single-pair call) -----------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path="/spot/tickers",
                           params={"currency_pair": pair_for(self._pair, params["id"], params["vs"])})

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        pair = self._pair(params["id"], params["vs"])
        row = self._tickers(payload).get(pair)
        if row is None:
            raise BadData(f"{self.slug}: {pair} missing from the answer")
        # Only the percentage is given (rounded to 2 decimals): the open is not derived from it, so
        # open and change stay null. base_volume is in the base asset; no VWAP, time or trade count.
        return make_ticker(
            slug=self.slug, params=params, pair=pair, last=row.get("last"), high=row.get("high_24h"),
            low=row.get("low_24h"), volume=row.get("base_volume"), quote_volume=row.get("quote_volume"),
            change_pct=row.get("change_percentage"), bid=row.get("highest_bid"), bid_size=row.get("highest_size"),
            ask=row.get("lowest_ask"), ask_size=row.get("lowest_size"))

    def _tickers(self, payload: Any) -> dict[Any, Mapping[str, Any]]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected a list of tickers")
        return {row.get("currency_pair"): row for row in payload if isinstance(row, Mapping)}

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # A pair Gate.io does not list (another exchange may): not found, not a refusal.
        if status in (400, 404) and isinstance(payload, Mapping) and payload.get("label") == UNKNOWN_PAIR:
            return Outcome.NOT_FOUND
        return super().classify_http_error(status, payload)

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or "label" not in payload:
            return None
        message = str(payload.get("message") or "")
        return ProviderError(f"{payload['label']}: {message[:120]!r}", code=payload["label"], text=message)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/spot/currency_pairs")

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return exchange_listing((str(p.get("base") or ""), str(p.get("quote") or ""))
                                for p in rows_of(payload, self.slug) if p.get("trade_status", "tradable") == "tradable")
