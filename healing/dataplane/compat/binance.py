"""Binance's public spot market API (`/compat/binance/api/v3/...`), answered from the exchanges' normalized data.

Binance first (the pools put it at the head), then OKX, Kraken, Coinbase Exchange, KuCoin and
Bitfinex for the same pair. Errors are Binance's `{"code": -1121, "msg": "Invalid symbol."}`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from healing.dataplane.compat.core import CompatError, Plan, retry_after
from healing.engine.errors import AllProvidersFailed

# Binance's error codes for what this API refuses itself.
UNKNOWN_ERROR = -1000
TOO_MANY_REQUESTS = -1003
BAD_PARAMETER = -1102
INVALID_SYMBOL = -1121


class Binance:
    name = "binance"
    prefix = "/compat/binance/api/v3/"

    def plan(self, path: str, query: Mapping[str, str]) -> Plan | Any:
        if path == "ping":
            return {}
        if path == "time":
            return {"serverTime": int(time.time() * 1000)}
        raise CompatError(404, {"code": UNKNOWN_ERROR, "msg": f"Unknown path {path[:60]!r}."})

    def error(self, status: int, message: str) -> Any:
        code = {429: TOO_MANY_REQUESTS, 400: BAD_PARAMETER}.get(status, UNKNOWN_ERROR)
        return {"code": code, "msg": message}

    def failure(self, exc: AllProvidersFailed, plan: Plan) -> CompatError:
        body = self.error(503, f"no exchange could answer {exc.capability}")
        body["attempts"] = [a.as_dict() for a in exc.attempts]
        return CompatError(503, body, retry_after(exc, time.time()))


DIALECT = Binance()
