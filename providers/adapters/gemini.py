"""Gemini: /v1/pricefeed for prices (every pair in one call), /v2/ticker/{symbol}, /v1/book/{symbol}
and /v2/candles/{symbol}/{time_frame}.

Symbols are lower-case base+quote (btcusd) on real USD books. Errors are non-2xx statuses with
{"result": "error", "reason": ..., "message": ...}; reason InvalidSymbol is a pair Gemini does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import BadData, Outcome, ProviderError, RequestSpec, UnsupportedCapability
from providers.adapters.listings import exchange_listing
from providers.assets import Listing
from providers.market_depth import ExchangeDepth, interval_code, make_candles, make_orderbook, pair_for
from providers.schemas import make_quote, number
from providers.tickers import make_ticker

# Gemini's candle time frames (it also has 30m and 6hr): there is no 4h, so 4h falls back.
GEMINI_TIME_FRAMES = {"1m": "1m", "5m": "5m", "15m": "15m", "1h": "1hr", "1d": "1day"}
# Ratios turned into percentages are rounded: float noise past 4 decimals means nothing.
PCT_DECIMALS = 4
# Quote currencies of /v1/symbols, longest first where one ends another (GUSD, USDT before USD).
LISTING_QUOTES = ("usdt", "gusd", "usdc", "usd", "dai", "btc", "eth", "eur", "gbp", "sgd")


class Gemini(ExchangeDepth):
    slug = "gemini"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    error_codes = {
        **dict.fromkeys(("RateLimited", "RateLimit"), Outcome.RATE_LIMITED),
        **dict.fromkeys(("InvalidSymbol", "MissingParameter", "InvalidParameter"), Outcome.PERMANENT),
        **dict.fromkeys(("System", "Maintenance"), Outcome.TRANSIENT),
    }

    def _symbol(self, coin_id: str, vs: str) -> str:
        return f"{assets.require_name(self.slug, coin_id)}{vs}".lower()

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        for coin_id in params["ids"]:
            self._symbol(coin_id, params["vs"])  # a coin Gemini does not list fails before any call
        return RequestSpec(path="/v1/pricefeed")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected the price feed list")
        rows = {str(row.get("pair", "")).lower(): row for row in payload if isinstance(row, Mapping)}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._symbol(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            ratio = number(row.get("percentChange24h"), "percentChange24h", slug=self.slug)
            # The feed carries no volume and no time; percentChange24h is a ratio, not a percentage.
            quote = make_quote(slug=self.slug, id=coin_id, symbol=assets.symbol_for(coin_id), vs=vs,
                               price=row.get("price"),
                               change_24h_pct=round(ratio * 100, PCT_DECIMALS) if ratio is not None else None)
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /v2/candles/{symbol}/{time_frame} and /v1/book/{symbol} --------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._symbol, params["id"], params["vs"])
        time_frame = interval_code(GEMINI_TIME_FRAMES, params, slug=self.slug)
        if params.get("start") is not None:
            # The candles always end now and take no window: another exchange serves a past one.
            raise UnsupportedCapability(f"{self.slug}: candles always end now (no start)")
        return RequestSpec(path=f"/v2/candles/{symbol}/{time_frame}")

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(row, list) and len(row) >= 6 for row in payload):
            raise BadData(f"{self.slug}: candle rows are not [time ms, open, high, low, close, volume]")
        # Newest first; make_candles orders them and keeps the last `limit`.
        return make_candles(payload, params, slug=self.slug, unit_ms=True)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._symbol, params["id"], params["vs"])
        return RequestSpec(path=f"/v1/book/{symbol}", params={"limit_bids": params["depth"],
                                                               "limit_asks": params["depth"]})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a book object")
        return make_orderbook(slug=self.slug, params=params, bids=self._levels(payload.get("bids"), "bids"),
                              asks=self._levels(payload.get("asks"), "asks"))

    def _levels(self, value: Any, side: str) -> list[tuple[Any, Any]]:
        # Levels are objects {"price", "amount", "timestamp"}, not [price, size] rows.
        if not isinstance(value, list) or not all(isinstance(level, Mapping) for level in value):
            raise BadData(f"{self.slug}: {side} is not a list of {{price, amount}} levels")
        return [(level.get("price"), level.get("amount")) for level in value]

    # --- 24 h ticker: /v2/ticker/{symbol} ------------------------------------------------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        # v2 has the 24 h open, high and low; v1's pubticker would add volumes and a time but no range.
        # One call per fetch: v2.
        return RequestSpec(path=f"/v2/ticker/{pair_for(self._symbol, params['id'], params['vs'])}")

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        symbol = self._symbol(params["id"], params["vs"])
        if not isinstance(payload, Mapping) or str(payload.get("symbol", "")).lower() != symbol:
            raise BadData(f"{self.slug}: expected the ticker object of {symbol}")
        # open is the price 24 h ago and close the last trade; no volume, sizes or time.
        return make_ticker(slug=self.slug, params=params, pair=str(payload["symbol"]), last=payload.get("close"),
                           open=payload.get("open"), high=payload.get("high"), low=payload.get("low"),
                           bid=payload.get("bid"), ask=payload.get("ask"))

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # InvalidSymbol names a pair Gemini does not list (another exchange may): not found, not a refusal.
        if status in (400, 404) and isinstance(payload, Mapping) and payload.get("reason") == "InvalidSymbol":
            return Outcome.NOT_FOUND
        return super().classify_http_error(status, payload)

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or payload.get("result") != "error":
            return None
        message = str(payload.get("message") or "")
        return ProviderError(f"{payload.get('reason')}: {message[:120]!r}", code=payload.get("reason"), text=message)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/v1/symbols")

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not payload:
            raise BadData(f"{self.slug}: the symbol list is not a non-empty list")
        # Bare symbols ("btcusd", "ethgusd"): split at the quote they end with; perpetuals
        # ("btcgusdperp") end with none and are left out.
        pairs = []
        for symbol in (s.lower() for s in payload if isinstance(s, str)):
            quote = next((q for q in LISTING_QUOTES if symbol.endswith(q) and len(symbol) > len(q)), None)
            if quote is not None:
                pairs.append((symbol[: -len(quote)].upper(), quote.upper()))
        return exchange_listing(pairs)
