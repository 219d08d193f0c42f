"""KuCoin spot: /market/orderbook/level1 for one pair, /market/allTickers to batch several.

Success is the string code "200000" inside the envelope; anything else is an error, even in a 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import BadData, NotFound, Outcome, ProviderError, RequestSpec
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

SUCCESS_CODE = "200000"
# KuCoin's USD liquidity is in USDT pairs, as on Binance.
QUOTE_ASSET = {"usd": "USDT"}
# Percentages derived from ratios are rounded: float noise past 4 decimals means nothing.
PCT_DECIMALS = 4
# KuCoin's candle type names; one call answers at most 1500 candles.
KUCOIN_CANDLE_TYPES = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1hour", "4h": "4hour", "1d": "1day"}
KUCOIN_MAX_CANDLES = 1500


class KuCoin(ExchangeDepth):
    slug = "kucoin"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    error_codes = {"429000": Outcome.RATE_LIMITED}
    # 400xxx are parameter/symbol errors: asking again will not help.
    error_code_prefixes = {"400": Outcome.PERMANENT}

    def _pair(self, coin_id: str, vs: str) -> str:
        base = assets.require_name(self.slug, coin_id)
        return f"{base}-{QUOTE_ASSET.get(vs, vs.upper())}"

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        pairs = [self._pair(coin_id, params["vs"]) for coin_id in params["ids"]]
        if len(pairs) == 1:
            return RequestSpec(path="/api/v1/market/orderbook/level1", params={"symbol": pairs[0]})
        return RequestSpec(path="/api/v1/market/allTickers")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an envelope object")
        self.raise_for_body_error(payload)
        data = payload.get("data")
        if not isinstance(data, Mapping):
            # An unknown pair answers 200000 with data null.
            raise BadData(f"{self.slug}: no data in the answer")
        vs = params["vs"]
        if "ticker" in data:
            rows = {row.get("symbol"): row for row in data.get("ticker") or [] if isinstance(row, Mapping)}
        else:
            rows = {self._pair(params["ids"][0], vs): data}
        stamp_ms = number(data.get("time"), "time", slug=self.slug)
        answered_at = iso_from_millis(stamp_ms, slug=self.slug)
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._pair(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            change_rate = number(row.get("changeRate"), "changeRate", slug=self.slug)
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                # level1 calls the last trade "price", allTickers calls it "last".
                price=row.get("last", row.get("price")),
                volume_24h=row.get("volValue"),
                change_24h_pct=round(change_rate * 100, PCT_DECIMALS) if change_rate is not None else None,
                last_updated=answered_at,
            )
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /api/v1/market/candles and /api/v1/market/orderbook/level2_{20,100} --------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        query = {"symbol": pair_for(self._pair, params["id"], params["vs"]),
                 "type": interval_code(KUCOIN_CANDLE_TYPES, params, slug=self.slug)}
        check_limit(params, KUCOIN_MAX_CANDLES, slug=self.slug)
        if (end := window_end(params)) is not None:
            query.update(startAt=params["start"], endAt=end)
        return RequestSpec(path="/api/v1/market/candles", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        data = self._depth_data(params, payload)
        if not isinstance(data, list) or not all(isinstance(row, list) and len(row) >= 6 for row in data):
            raise BadData(f"{self.slug}: candle rows are not [time, open, close, high, low, volume, turnover]")
        # KuCoin orders a row open, close, high, low; volume is in the base asset, turnover in the quote.
        return make_candles([(r[0], r[1], r[3], r[4], r[2], r[5]) for r in data], params, slug=self.slug)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        # Public books come in two sizes: the 20 or the 100 best levels a side.
        size = 20 if params["depth"] <= 20 else 100
        return RequestSpec(path=f"/api/v1/market/orderbook/level2_{size}",
                           params={"symbol": pair_for(self._pair, params["id"], params["vs"])})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        book = self._depth_data(params, payload)
        if not isinstance(book, Mapping):
            raise BadData(f"{self.slug}: no book in data")
        stamp_ms = number(book.get("time"), "time", slug=self.slug)
        return book_of(book, slug=self.slug, params=params,
                       timestamp=iso_from_millis(stamp_ms, slug=self.slug))

    # --- 24 h ticker: /api/v1/market/stats -----------------------------------------------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path="/api/v1/market/stats", params={"symbol": pair_for(self._pair, params["id"],
                                                                                   params["vs"])})

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        stats = self._depth_data(params, payload)
        if not isinstance(stats, Mapping):
            raise BadData(f"{self.slug}: stats is not an object")
        if all(stats.get(name) is None for name in ("last", "buy", "sell", "high", "low")):
            # A symbol KuCoin does not trade can also answer success with a stats object of nulls.
            raise NotFound(f"{self.slug}: no pair for {params['id']}/{params['vs']}", field="id", values=[params["id"]])
        change_rate = number(stats.get("changeRate"), "changeRate", slug=self.slug)
        volume = number(stats.get("vol"), "vol", slug=self.slug)
        turnover = number(stats.get("volValue"), "volValue", slug=self.slug)
        stamp_ms = number(stats.get("time"), "time", slug=self.slug)
        # changePrice is last minus the price 24 h ago, so the open follows from it. VWAP is the
        # turnover over the volume; averagePrice is not used: KuCoin answers "0" there for quiet pairs.
        # Stats carries no bid/ask sizes, trade count or window start.
        return make_ticker(
            slug=self.slug, params=params, pair=self._pair(params["id"], params["vs"]), last=stats.get("last"),
            high=stats.get("high"), low=stats.get("low"), volume=volume, quote_volume=turnover,
            change=stats.get("changePrice"),
            change_pct=round(change_rate * 100, PCT_DECIMALS) if change_rate is not None else None,
            vwap=turnover / volume if turnover is not None and volume else None,
            bid=stats.get("buy"), ask=stats.get("sell"),
            close_time=iso_from_millis(stamp_ms, slug=self.slug))

    def _depth_data(self, params: Mapping[str, Any], payload: Any) -> Any:
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an envelope object")
        self.raise_for_body_error(payload)
        if payload.get("data") is None:
            # An unknown pair answers 200000 with data null: KuCoin does not list it (another may).
            raise NotFound(f"{self.slug}: no pair for {params['id']}/{params['vs']}", field="id", values=[params["id"]])
        return payload["data"]

    def body_error(self, payload: Any) -> ProviderError | None:
        code = str(payload.get("code")) if isinstance(payload, Mapping) else SUCCESS_CODE
        if code == SUCCESS_CODE:
            return None
        return ProviderError(f"code {code} inside HTTP 200: {str(payload.get('msg'))[:120]!r}", code=code)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/api/v2/symbols")

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return exchange_listing((str(s.get("baseCurrency") or ""), str(s.get("quoteCurrency") or ""))
                                for s in rows_of(payload, self.slug, "data") if s.get("enableTrading", True))
