"""OKX v5: /market/ticker?instId=BTC-USDT for one pair, /market/tickers?instType=SPOT to batch.

Every value is a string; code "0" is success and any other code is an error, even in a 200.
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

SUCCESS_CODE = "0"
QUOTE_ASSET = {"usd": "USDT"}
# The 24 h change is derived from open24h; float noise past 4 decimals means nothing.
PCT_DECIMALS = 4
# OKX's bar names; plain "1D" opens at 00:00 Hong Kong time, "1Dutc" at 00:00 UTC like everyone else.
OKX_BARS = {"1m": "1m", "5m": "5m", "15m": "15m", "1h": "1H", "4h": "4H", "1d": "1Dutc"}
OKX_MAX_CANDLES = 300


class Okx(ExchangeDepth):
    slug = "okx"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    error_codes = {
        "50011": Outcome.RATE_LIMITED,
        # 50001 service unavailable, 50004 endpoint timeout, 50013 system busy.
        **dict.fromkeys(("50001", "50004", "50013"), Outcome.TRANSIENT),
    }
    # 51xxx are request errors; 51001 "Instrument ID does not exist" is a pair OKX does not list.
    error_code_prefixes = {"51": Outcome.PERMANENT, "51001": Outcome.NOT_FOUND}
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})

    def _inst_id(self, coin_id: str, vs: str) -> str:
        base = assets.require_name(self.slug, coin_id)
        return f"{base}-{QUOTE_ASSET.get(vs, vs.upper())}"

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        inst_ids = [self._inst_id(coin_id, params["vs"]) for coin_id in params["ids"]]
        if len(inst_ids) == 1:
            return RequestSpec(path="/api/v5/market/ticker", params={"instId": inst_ids[0]})
        return RequestSpec(path="/api/v5/market/tickers", params={"instType": "SPOT"})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        rows = {row.get("instId"): row for row in self._data(payload) if isinstance(row, Mapping)}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._inst_id(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            last = number(row.get("last"), "last", slug=self.slug)
            open_24h = number(row.get("open24h"), "open24h", slug=self.slug)
            stamp_ms = number(row.get("ts"), "ts", slug=self.slug)
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                price=last,
                # For spot pairs volCcy24h is in the quote currency (vol24h is in the base asset).
                volume_24h=row.get("volCcy24h"),
                change_24h_pct=round((last - open_24h) / open_24h * 100, PCT_DECIMALS) if last and open_24h else None,
                last_updated=iso_from_millis(stamp_ms, slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /api/v5/market/candles and /api/v5/market/books ----------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        query = {"instId": pair_for(self._inst_id, params["id"], params["vs"]),
                 "bar": interval_code(OKX_BARS, params, slug=self.slug),
                 "limit": check_limit(params, OKX_MAX_CANDLES, slug=self.slug)}
        if (end := window_end(params)) is not None:
            # `after` pages backwards: the `limit` candles older than it are the ones from start on.
            query["after"] = end * 1000
        return RequestSpec(path="/api/v5/market/candles", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        data = self._data(payload)
        if not all(isinstance(row, list) and len(row) >= 9 for row in data):
            raise BadData(f"{self.slug}: candle rows are not [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]")
        # confirm "0" is OKX's own word that the candle is still forming.
        forming = {int(number(row[0], "ts", slug=self.slug) or 0) // 1000: row[8] == "0" for row in data}
        return make_candles(data, params, slug=self.slug, unit_ms=True, partial=forming)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        inst_id = pair_for(self._inst_id, params["id"], params["vs"])
        return RequestSpec(path="/api/v5/market/books", params={"instId": inst_id, "sz": params["depth"]})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        data = self._data(payload)
        book = data[0] if data and isinstance(data[0], Mapping) else None
        if book is None:
            raise BadData(f"{self.slug}: no book in data")
        stamp_ms = number(book.get("ts"), "ts", slug=self.slug)
        # Levels are [price, size, "0" (deprecated), order count].
        return book_of(book, slug=self.slug, params=params,
                       timestamp=iso_from_millis(stamp_ms, slug=self.slug))

    # --- 24 h ticker: /api/v5/market/ticker (the price code's single-pair call) --------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path="/api/v5/market/ticker", params={"instId": pair_for(self._inst_id, params["id"],
                                                                                     params["vs"])})

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        inst_id = self._inst_id(params["id"], params["vs"])
        row = next((r for r in self._data(payload) if isinstance(r, Mapping) and r.get("instId") == inst_id), None)
        if row is None:
            raise BadData(f"{self.slug}: {inst_id} missing from the answer")
        stamp_ms = number(row.get("ts"), "ts", slug=self.slug)
        # open24h is the price 24 h ago (sodUtc0/8 are day opens); for spot vol24h is in the base
        # asset and volCcy24h in the quote currency. OKX gives no VWAP, trade count or window start.
        return make_ticker(
            slug=self.slug, params=params, pair=inst_id, last=row.get("last"), open=row.get("open24h"),
            high=row.get("high24h"), low=row.get("low24h"), volume=row.get("vol24h"),
            quote_volume=row.get("volCcy24h"), bid=row.get("bidPx"), bid_size=row.get("bidSz"),
            ask=row.get("askPx"), ask_size=row.get("askSz"),
            close_time=iso_from_millis(stamp_ms, slug=self.slug))

    def _data(self, payload: Any) -> list[Any]:
        """The envelope's data list (every OKX answer: price, candles, books)."""
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an envelope object")
        self.raise_for_body_error(payload)
        data = payload.get("data")
        if not isinstance(data, list):
            raise BadData(f"{self.slug}: data is not a list")
        return data

    def body_error(self, payload: Any) -> ProviderError | None:
        code = str(payload.get("code")) if isinstance(payload, Mapping) else SUCCESS_CODE
        if code == SUCCESS_CODE:
            return None
        return ProviderError(f"code {code} inside HTTP 200: {str(payload.get('msg'))[:120]!r}", code=code)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/api/v5/public/instruments", params={"instType": "SPOT"})

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return exchange_listing((str(s.get("baseCcy") or ""), str(s.get("quoteCcy") or ""))
                                for s in rows_of(payload, self.slug, "data") if s.get("state", "live") == "live")
