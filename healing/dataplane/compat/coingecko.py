"""CoinGecko's public API v3 (`/compat/coingecko/api/v3/...`), answered from the normalized capabilities.

Request parameters and answer shapes are CoinGecko's (../shared/reference/payload-notes.md); a
field no provider can fill is null, as CoinGecko sends for unknown values, never invented.
Errors are CoinGecko's: `{"error": "..."}` for a bad request or an unknown coin,
`{"status": {"error_code": ..., "error_message": ...}}` for limits and outages.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from healing.dataplane.compat.core import CompatError, Plan, all_not_found, retry_after
from healing.engine.errors import AllProvidersFailed

PING = {"gecko_says": "(V3) To the Moon!"}


class CoinGecko:
    name = "coingecko"
    prefix = "/compat/coingecko/api/v3/"

    def plan(self, path: str, query: Mapping[str, str]) -> Plan | Any:
        if path == "ping":
            return PING
        raise CompatError(404, {"error": "Incorrect path. Please check https://docs.coingecko.com/"})

    def error(self, status: int, message: str) -> Any:
        if status in (400, 404):
            return {"error": message}
        return {"status": {"error_code": status, "error_message": message}}

    def failure(self, exc: AllProvidersFailed, plan: Plan) -> CompatError:
        if all_not_found(exc):
            return CompatError(404, {"error": "coin not found"})
        body = self.error(503, f"no provider could answer {exc.capability}")
        body["attempts"] = [a.as_dict() for a in exc.attempts]
        return CompatError(503, body, retry_after(exc, time.time()))


DIALECT = CoinGecko()
