"""Kraken spot: /0/public/Ticker?pair=XBTUSD,ETHUSD. Errors come in error[] with HTTP 200."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.listings import exchange_listing
from providers.assets import Listing
from providers.market_depth import (
    ExchangeDepth,
    book_of,
    check_limit,
    interval_code,
    make_candles,
    pair_for,
)
from providers.schemas import make_quote, number
from providers.tickers import make_ticker

# Kraken's legacy assets get an X (crypto) or Z (fiat) prefix in result keys: XBTUSD -> XXBTZUSD.
_LEGACY_CRYPTO = frozenset({"XBT", "ETH", "LTC", "XRP", "XLM", "ETC", "XMR", "ZEC", "MLN", "REP"})
_LEGACY_FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY"})
# Quote currencies by Kraken's own names where they differ from the usual code.
_QUOTE_NAMES = {"BTC": "XBT"}


def result_key(base: str, quote: str) -> str:
    """The key Kraken's answers use for the altname base+quote (XBT, USD -> XXBTZUSD)."""
    if base in _LEGACY_CRYPTO and (quote in _LEGACY_FIAT or quote in _LEGACY_CRYPTO):
        return f"X{base}{'Z' if quote in _LEGACY_FIAT else 'X'}{quote}"
    return base + quote


def quote_name(vs: str) -> str:
    """Kraken's name for a quote currency: a coin's registry name (ETH), XBT for BTC, else the code."""
    code = vs.upper()
    return _QUOTE_NAMES.get(code, code)


# OHLC intervals are in minutes; one call answers the newest 720 candles (after `since`).
KRAKEN_INTERVAL_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "4h": 240, "1d": 1440}
KRAKEN_MAX_CANDLES = 720


class Kraken(ExchangeDepth):
    slug = "kraken"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    # Kraken error strings ("<severity><category>:<message>") and what they mean for the engine.
    error_markers = {
        **dict.fromkeys(("EAPI:Rate limit", "EGeneral:Too many requests", "EService:Throttled"), Outcome.RATE_LIMITED),
        **dict.fromkeys(("EQuery:", "EGeneral:Invalid arguments", "EGeneral:Permission denied"), Outcome.PERMANENT),
        # A pair Kraken does not list (the next exchange may still know it).
        "EQuery:Unknown asset pair": Outcome.NOT_FOUND,
        **dict.fromkeys(("EService:Unavailable", "EService:Busy", "EGeneral:Internal error"), Outcome.TRANSIENT),
    }

    def _pair(self, coin_id: str, vs: str) -> tuple[str, str]:
        """(altname sent in the request, key used in the answer), e.g. ("XBTUSD", "XXBTZUSD")."""
        base = assets.require_name(self.slug, coin_id)
        quote = quote_name(vs)
        return base + quote, result_key(base, quote)

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        pairs = [self._pair(coin_id, params["vs"])[0] for coin_id in params["ids"]]
        return RequestSpec(path="/0/public/Ticker", params={"pair": ",".join(pairs)})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        result = self._result(payload)
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            altname, key = self._pair(coin_id, vs)
            row = result.get(key) or result.get(altname)
            if not isinstance(row, Mapping):
                raise BadData(f"{self.slug}: {coin_id} ({key}) missing from the answer")
            try:
                last = row["c"][0]
                base_volume = number(row["v"][1], "v", slug=self.slug)
                vwap = number(row["p"][1], "p", slug=self.slug)
            except (KeyError, IndexError, TypeError) as exc:
                raise BadData(f"{self.slug}: malformed ticker for {key}") from exc
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                price=last,
                # v is in the base asset; times the 24 h VWAP it is the volume in the quote currency.
                volume_24h=base_volume * vwap if base_volume is not None and vwap is not None else None,
                # o is today's open (since 00:00 UTC), not 24 h ago, so there is no honest 24 h change.
                change_24h_pct=None,
            )
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /0/public/OHLC and /0/public/Depth -----------------------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        altname, _ = pair_for(self._pair, params["id"], params["vs"])
        check_limit(params, KRAKEN_MAX_CANDLES, slug=self.slug)
        query = {"pair": altname, "interval": interval_code(KRAKEN_INTERVAL_MINUTES, params, slug=self.slug)}
        if params.get("start") is not None:
            # `since` is exclusive; one second earlier keeps the candle that opens at start.
            query["since"] = params["start"] - 1
        return RequestSpec(path="/0/public/OHLC", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        rows, result = self._depth_result(params, payload)
        if not isinstance(rows, list) or not all(isinstance(row, list) and len(row) >= 7 for row in rows):
            raise BadData(f"{self.slug}: OHLC rows are not [time, open, high, low, close, vwap, volume, count]")
        # `last` is the newest committed candle; the one after it is Kraken's forming frame.
        last = number(result.get("last"), "last", slug=self.slug)
        opens = [int(number(row[0], "time", slug=self.slug) or 0) for row in rows]
        forming = {opened: last is None or opened > last for opened in opens}
        return make_candles([(row[0], *row[1:5], row[6]) for row in rows], params, slug=self.slug, partial=forming)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        altname, _ = pair_for(self._pair, params["id"], params["vs"])
        return RequestSpec(path="/0/public/Depth", params={"pair": altname, "count": params["depth"]})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        book, _ = self._depth_result(params, payload)
        if not isinstance(book, Mapping):
            raise BadData(f"{self.slug}: no book for the pair")
        # Levels are [price, volume, update time].
        return book_of(book, slug=self.slug, params=params)

    # --- 24 h ticker: /0/public/Ticker for one pair (the price code's call) -----------------------

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        altname, _ = pair_for(self._pair, params["id"], params["vs"])
        return RequestSpec(path="/0/public/Ticker", params={"pair": altname})

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        row, result = self._depth_result(params, payload)
        altname, key = self._pair(params["id"], params["vs"])
        if not isinstance(row, Mapping):
            raise BadData(f"{self.slug}: {key} missing from the answer")
        try:
            # a/b are [price, whole-lot volume, lot volume]; v, p, t, l, h are [today, last 24 h].
            bid, ask = row["b"], row["a"]
            fields = {"last": row["c"][0], "high": row["h"][1], "low": row["l"][1], "volume": row["v"][1],
                      "vwap": row["p"][1], "trades": row["t"][1], "bid": bid[0], "bid_size": bid[2],
                      "ask": ask[0], "ask_size": ask[2]}
        except (KeyError, IndexError, TypeError) as exc:
            raise BadData(f"{self.slug}: malformed ticker for {key}") from exc
        volume, vwap = number(fields["volume"], "v", slug=self.slug), number(fields["vwap"], "p", slug=self.slug)
        # o is today's open (since 00:00 UTC), not the price 24 h ago: open and change stay null.
        # The volume times its VWAP is, by the VWAP's definition, the volume in the quote currency.
        # Kraken's ticker carries no time.
        return make_ticker(slug=self.slug, params=params, pair=key if key in result else altname,
                           quote_volume=volume * vwap if volume is not None and vwap is not None else None, **fields)

    def _result(self, payload: Any) -> Mapping[str, Any]:
        """The answer's result block (every Kraken answer: ticker, OHLC, depth, asset pairs)."""
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        result = payload.get("result")
        if not isinstance(result, Mapping):
            raise BadData(f"{self.slug}: no result block")
        return result

    def _depth_result(self, params: Mapping[str, Any], payload: Any) -> tuple[Any, Mapping[str, Any]]:
        """The pair's entry of result (keyed by Kraken's internal name, or the altname) and result."""
        result = self._result(payload)
        altname, key = pair_for(self._pair, params["id"], params["vs"])
        return result.get(key, result.get(altname)), result

    def body_error(self, payload: Any) -> ProviderError | None:
        # Throttling shows up with 200 or 429 depending on the edge; the body decides.
        errors = (payload.get("error") if isinstance(payload, Mapping) else None) or []
        if not isinstance(errors, (list, Mapping)):
            errors = [errors]
        if not errors:
            return None
        return ProviderError(f"error inside HTTP 200: {errors!r}", text=" ".join(str(e) for e in errors))

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/0/public/AssetPairs")

    def parse_listing(self, payload: Any) -> list[Listing]:
        result = self._result(payload)
        if not result:
            raise BadData(f"{self.slug}: no result block")
        # wsname "XBT/USD" carries the names the Ticker request takes (altname XBTUSD = base + quote).
        pairs = (str(row.get("wsname") or "").partition("/")[::2] for row in result.values()
                 if isinstance(row, Mapping) and row.get("status", "online") == "online")
        return exchange_listing(pairs, renames={v: k for k, v in _QUOTE_NAMES.items()} | {"XDG": "DOGE"})
