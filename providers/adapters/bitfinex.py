"""Bitfinex v2 public: /tickers?symbols=tBTCUSD,tETHUSD for prices, /ticker/tBTCUSD for one pair's 24 h
ticker. Rows are bare arrays without field names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import BadData, NotFound, Outcome, ProviderError, RequestSpec
from providers.adapters.listings import exchange_listing
from providers.assets import Listing
from providers.market_depth import (
    ExchangeDepth,
    interval_code,
    make_candles,
    make_orderbook,
    pair_for,
)
from providers.schemas import make_quote, number
from providers.tickers import make_ticker

# Positions in a trading ("t...") ticker row.
ROW_SYMBOL, ROW_CHANGE_RELATIVE, ROW_LAST_PRICE, ROW_VOLUME = 0, 6, 7, 8
TRADING_ROW_LENGTH = 11
# /ticker/{symbol} answers one trading row without its symbol: [BID, BID_SIZE, ASK, ASK_SIZE,
# DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW].
TICKER_FIELDS = ("bid", "bid_size", "ask", "ask_size", "change", "change_relative", "last", "volume", "high", "low")
# Bitfinex's own ticker names for a few assets.
ALIASES = {"USDT": "UST", "DASH": "DSH", "IOTA": "IOT"}
LISTING_RENAMES = {own: usual for usual, own in ALIASES.items()}
# Values derived by arithmetic are rounded: float noise past these decimals means nothing.
PCT_DECIMALS = 4
# Bitfinex's candle timeframes: it has 3h and 6h but no 4h, so 4h falls back to another exchange.
BITFINEX_TIMEFRAMES = {"1m": "1m", "5m": "5m", "15m": "15m", "1h": "1h", "1d": "1D"}
BITFINEX_BOOK_LENGTHS = (1, 25, 100)


def trading_symbol(base: str, quote: str) -> str:
    """tBTCUSD, but tDOGE:USD once either side is longer than three letters."""
    base, quote = ALIASES.get(base, base), ALIASES.get(quote, quote)
    return f"t{base}:{quote}" if len(base) > 3 or len(quote) > 3 else f"t{base}{quote}"


class Bitfinex(ExchangeDepth):
    slug = "bitfinex"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    error_codes = {
        # ERR_RATE_LIMIT, and the same as a numeric code (recalled from Bitfinex's error list, not
        # seen in a recording).
        "ERR_RATE_LIMIT": Outcome.RATE_LIMITED,
        11010: Outcome.RATE_LIMITED,
        # ["error", 10020, "limit: invalid"]: a request parameter Bitfinex refuses.
        10020: Outcome.PERMANENT,
    }
    # Bitfinex reports bad parameters with HTTP 500, so a refusal in the body counts too.
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.PERMANENT})

    def _symbol(self, coin_id: str, vs: str) -> str:
        base = assets.require_name(self.slug, coin_id)
        return trading_symbol(base, vs.upper())

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        wanted = ",".join(self._symbol(coin_id, params["vs"]) for coin_id in params["ids"])
        return RequestSpec(path="/tickers", params={"symbols": wanted})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected an array of ticker rows")
        rows = {row[ROW_SYMBOL]: row for row in payload if isinstance(row, list) and row and isinstance(row[0], str)}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._symbol(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            if len(row) < TRADING_ROW_LENGTH:
                raise BadData(f"{self.slug}: short ticker row for {coin_id}")
            last = number(row[ROW_LAST_PRICE], "LAST_PRICE", slug=self.slug)
            volume = number(row[ROW_VOLUME], "VOLUME", slug=self.slug)
            relative = number(row[ROW_CHANGE_RELATIVE], "DAILY_CHANGE_RELATIVE", slug=self.slug)
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                price=last,
                # VOLUME is in the base asset; times the last price it is in the quote currency.
                volume_24h=round(volume * last, 2) if volume is not None and last is not None else None,
                # DAILY_CHANGE_RELATIVE is a ratio, not a percentage.
                change_24h_pct=round(relative * 100, PCT_DECIMALS) if relative is not None else None,
            )
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /candles/trade:{tf}:{symbol}/hist and /book/{symbol}/P0 --------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._symbol, params["id"], params["vs"])
        key = f"trade:{interval_code(BITFINEX_TIMEFRAMES, params, slug=self.slug)}:{symbol}"
        query: dict[str, Any] = {"limit": params["limit"]}
        if params.get("start") is not None:
            # Oldest first from start; without it the newest first (sort=1 alone would be 2013's).
            query.update(start=params["start"] * 1000, sort=1)
        return RequestSpec(path=f"/candles/{key}/hist", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(row, list) and len(row) >= 6 for row in payload):
            raise BadData(f"{self.slug}: candle rows are not [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]")
        # Bitfinex orders a row open, close, high, low.
        rows = [(r[0], r[1], r[3], r[4], r[2], r[5]) for r in payload]
        return make_candles(rows, params, slug=self.slug, unit_ms=True)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._symbol, params["id"], params["vs"])
        # `len` takes only 1, 25 or 100 (levels a side).
        length = next(size for size in BITFINEX_BOOK_LENGTHS if size >= params["depth"])
        return RequestSpec(path=f"/book/{symbol}/P0", params={"len": length})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if payload == []:
            # An unknown symbol has an empty book rather than an error.
            raise NotFound(f"{self.slug}: no book for {params['id']}/{params['vs']}", field="id", values=[params["id"]])
        if not isinstance(payload, list) or not all(isinstance(row, list) and len(row) >= 3 for row in payload):
            raise BadData(f"{self.slug}: book rows are not [PRICE, COUNT, AMOUNT]")
        # AMOUNT is positive for bids and negative for asks; the size is its magnitude.
        bids = [(row[0], row[2]) for row in payload if isinstance(row[2], int | float) and row[2] > 0]
        asks = [(row[0], -row[2]) for row in payload if isinstance(row[2], int | float) and row[2] < 0]
        if len(bids) + len(asks) < len(payload):
            raise BadData(f"{self.slug}: a book level has no signed AMOUNT")
        return make_orderbook(slug=self.slug, params=params, bids=bids, asks=asks)

    # --- 24 h ticker: /ticker/{symbol} -------------------------------------------------------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        return RequestSpec(path=f"/ticker/{pair_for(self._symbol, params['id'], params['vs'])}")

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        symbol = self._symbol(params["id"], params["vs"])
        if payload == []:
            # An unknown symbol has an empty ticker rather than an error, as its book does.
            raise NotFound(f"{self.slug}: no ticker for {symbol}", field="id", values=[params["id"]])
        if not isinstance(payload, list) or len(payload) < len(TICKER_FIELDS):
            raise BadData(f"{self.slug}: the ticker of {symbol} is not [BID, BID_SIZE, ASK, ..., HIGH, LOW]")
        row = dict(zip(TICKER_FIELDS, payload, strict=False))
        relative = number(row.pop("change_relative"), "DAILY_CHANGE_RELATIVE", slug=self.slug)
        # BID_SIZE and ASK_SIZE are the sums of the 25 best levels, not the size at the best price:
        # left out rather than passed off as one.
        del row["bid_size"], row["ask_size"]
        # DAILY_CHANGE is last minus the price 24 h ago (so the open follows from it) and its
        # _RELATIVE a ratio, not a percentage. VOLUME is in the base asset; no quote volume or time.
        return make_ticker(slug=self.slug, params=params, pair=symbol, **row,
                           change_pct=round(relative * 100, PCT_DECIMALS) if relative is not None else None)

    def body_error(self, payload: Any) -> ProviderError | None:
        summary = f"error inside HTTP 200: {str(payload)[:120]}"
        # {"error": "ERR_..."} names its error; ["error", code, text] numbers it, and an unlisted
        # number is a server-side failure.
        if isinstance(payload, Mapping) and payload.get("error"):
            marker = payload["error"]
            return ProviderError(summary, code=marker if isinstance(marker, str) else None)
        if isinstance(payload, list) and payload[:1] == ["error"]:
            code = payload[1] if len(payload) > 1 else None
            return ProviderError(summary, code=code if isinstance(code, int) else None, unlisted=Outcome.TRANSIENT)
        return None

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/conf/pub:list:pair:exchange")

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, list) and payload[:1] == ["error"]:
            self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not payload or not isinstance(payload[0], list):
            raise BadData(f"{self.slug}: the pair list is not [[...]]")
        # "BTCUSD" (two three-letter codes) or "TESTBTC:TESTUSD" (longer codes, colon-separated).
        pairs = (p.split(":", 1) if ":" in p else (p[:3], p[3:]) for p in payload[0] if isinstance(p, str))
        return exchange_listing(pairs, renames=LISTING_RENAMES)
