"""Bybit v5 spot: /v5/market/tickers?category=spot (&symbol= for one pair), /v5/market/orderbook and
/v5/market/kline.

Every value is a string inside {"retCode", "retMsg", "result", "time"}; retCode 0 is success and
any other code is an error, even in an HTTP 200 (10006 is the rate limit).
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
    book_rows,
    check_limit,
    interval_code,
    make_candles,
    make_orderbook,
    pair_for,
    window_end,
)
from providers.schemas import make_quote, number
from providers.tickers import make_ticker
from providers.values import iso_from_millis

SUCCESS_CODE = 0
SPOT = {"category": "spot"}
# Bybit's USD liquidity is in USDT pairs, as on Binance.
QUOTE_ASSET = {"usd": "USDT"}
# price24hPcnt is a ratio; as a percentage, float noise past 4 decimals means nothing.
PCT_DECIMALS = 4
# Kline intervals in minutes, D for a day; one call answers at most 1000 candles.
BYBIT_INTERVALS = {"1m": "1", "5m": "5", "15m": "15", "1h": "60", "4h": "240", "1d": "D"}
BYBIT_MAX_CANDLES = 1000
BYBIT_MAX_BOOK = 200  # spot books go 1..200 levels a side


class Bybit(ExchangeDepth):
    slug = "bybit"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    # 403 "access too frequent" is the IP limit over all of api.bybit.com (a 10-minute wait).
    status_outcomes = {403: Outcome.RATE_LIMITED}
    error_codes = {
        # 10006 too many visits, 10018 over the IP frequency limit.
        **dict.fromkeys((10006, 10018), Outcome.RATE_LIMITED),
        # 10000 server timeout, 10016 internal error.
        **dict.fromkeys((10000, 10016), Outcome.TRANSIENT),
        # 10001 a request parameter Bybit refuses.
        10001: Outcome.PERMANENT,
    }

    def _symbol(self, coin_id: str, vs: str) -> str:
        return assets.require_name(self.slug, coin_id) + QUOTE_ASSET.get(vs, vs.upper())

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        symbols = [self._symbol(coin_id, params["vs"]) for coin_id in params["ids"]]
        # Without a symbol the call answers every spot pair: one call for several coins.
        return RequestSpec(path="/v5/market/tickers", params={**SPOT, "symbol": symbols[0]} if len(symbols) == 1
                           else SPOT)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        result = self._result(payload)
        rows = {row.get("symbol"): row for row in self._list(result) if isinstance(row, Mapping)}
        answered_at = self._iso_ms(payload.get("time"), "time")
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._symbol(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            quote = make_quote(slug=self.slug, id=coin_id, symbol=assets.symbol_for(coin_id), vs=vs,
                               price=row.get("lastPrice"), volume_24h=row.get("turnover24h"),
                               change_24h_pct=self._pct(row), last_updated=answered_at)
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /v5/market/kline and /v5/market/orderbook -------------------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        query = {**SPOT, "symbol": pair_for(self._symbol, params["id"], params["vs"]),
                 "interval": interval_code(BYBIT_INTERVALS, params, slug=self.slug),
                 "limit": check_limit(params, BYBIT_MAX_CANDLES, slug=self.slug)}
        if (end := window_end(params)) is not None:
            # start alone would still end now (newest first): bound both ends, in ms, end inclusive.
            query.update(start=params["start"] * 1000, end=end * 1000 - 1)
        return RequestSpec(path="/v5/market/kline", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        rows = self._list(self._result(payload))
        if not all(isinstance(row, list) and len(row) >= 7 for row in rows):
            raise BadData(f"{self.slug}: kline rows are not [start, open, high, low, close, volume, turnover]")
        # Newest first; volume is in the base coin, turnover in the quote.
        return make_candles(rows, params, slug=self.slug, unit_ms=True)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path="/v5/market/orderbook", params={
            **SPOT, "symbol": pair_for(self._symbol, params["id"], params["vs"]),
            "limit": min(params["depth"], BYBIT_MAX_BOOK)})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        book = self._result(payload)
        # b and a are [price, size] levels, s the symbol, ts the book's time in ms.
        return make_orderbook(slug=self.slug, params=params, bids=book_rows(book.get("b"), "bids", slug=self.slug),
                              asks=book_rows(book.get("a"), "asks", slug=self.slug),
                              timestamp=self._iso_ms(book.get("ts"), "ts"))

    # --- 24 h ticker: /v5/market/tickers for one symbol (the price code's call) -----------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path="/v5/market/tickers",
                           params={**SPOT, "symbol": pair_for(self._symbol, params["id"], params["vs"])})

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        symbol = self._symbol(params["id"], params["vs"])
        row = next((r for r in self._list(self._result(payload))
                    if isinstance(r, Mapping) and r.get("symbol") == symbol), None)
        if row is None:
            raise BadData(f"{self.slug}: {symbol} missing from the answer")
        # prevPrice24h is the price 24 h ago; volume24h is in the base coin, turnover24h in the quote.
        # No VWAP, trade count or window start.
        return make_ticker(
            slug=self.slug, params=params, pair=symbol, last=row.get("lastPrice"), open=row.get("prevPrice24h"),
            high=row.get("highPrice24h"), low=row.get("lowPrice24h"), volume=row.get("volume24h"),
            quote_volume=row.get("turnover24h"), change_pct=self._pct(row), bid=row.get("bid1Price"),
            bid_size=row.get("bid1Size"), ask=row.get("ask1Price"), ask_size=row.get("ask1Size"),
            close_time=self._iso_ms(payload.get("time"), "time"))

    def _pct(self, row: Mapping[str, Any]) -> float | None:
        ratio = number(row.get("price24hPcnt"), "price24hPcnt", slug=self.slug)
        return round(ratio * 100, PCT_DECIMALS) if ratio is not None else None

    def _iso_ms(self, value: Any, name: str) -> str | None:
        millis = number(value, name, slug=self.slug)
        return iso_from_millis(millis, slug=self.slug)

    def _result(self, payload: Any) -> Mapping[str, Any]:
        """The envelope's result object (every Bybit answer: tickers, kline, orderbook, instruments)."""
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an envelope object")
        self.raise_for_body_error(payload)
        result = payload.get("result")
        if not isinstance(result, Mapping):
            raise BadData(f"{self.slug}: result is not an object")
        return result

    def _list(self, result: Mapping[str, Any]) -> list[Any]:
        rows = result.get("list")
        if not isinstance(rows, list):
            raise BadData(f"{self.slug}: result.list is not a list")
        return rows

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or "retCode" not in payload or payload["retCode"] == SUCCESS_CODE:
            return None
        code, message = payload["retCode"], str(payload.get("retMsg") or "")
        summary = f"retCode {code} inside HTTP 200: {message[:120]!r}"
        if code == 10001 and "symbol" in message.lower():
            # "Not supported symbols": a pair Bybit does not list (another exchange may), not a refusal.
            return ProviderError(summary, text=message, unlisted=Outcome.NOT_FOUND)
        return ProviderError(summary, code=code, text=message)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/v5/market/instruments-info", params=SPOT)

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        result = payload.get("result") if isinstance(payload, Mapping) else None
        return exchange_listing((str(s.get("baseCoin") or ""), str(s.get("quoteCoin") or ""))
                                for s in rows_of(result, self.slug, "list") if s.get("status", "Trading") == "Trading")
