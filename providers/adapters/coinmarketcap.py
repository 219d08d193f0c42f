"""CoinMarketCap fear & greed (v3): /fear-and-greed/latest, or /historical for more than one day.

Needs a key (header X-CMC_PRO_API_KEY, added by the engine). Errors carry status.error_code,
sometimes as a string, and are errors whatever the HTTP status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.schemas import (
    check_not_future,
    epoch_of,
    fear_greed_limit,
    iso_from_epoch,
    iso_from_string,
    make_fear_greed,
    number,
)


def _error_code(payload: Any) -> int:
    status = payload.get("status") if isinstance(payload, Mapping) else None
    if not isinstance(status, Mapping):
        return 0
    try:
        return int(status.get("error_code") or 0)
    except (TypeError, ValueError):
        return -1


class CoinMarketCap(Adapter):
    slug = "coinmarketcap"
    capabilities = frozenset({"fear_greed"})
    error_codes = {
        # 1001 invalid key, 1002 missing key, 1005 key required, 1006 plan lacks the endpoint, 1007 disabled.
        **dict.fromkeys((1001, 1002, 1003, 1004, 1005, 1006, 1007), Outcome.PERMANENT),
        # 1008 minute, 1009 daily, 1010 monthly, 1011 IP rate limit reached.
        **dict.fromkeys((1008, 1009, 1010, 1011), Outcome.RATE_LIMITED),
    }

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "fear_greed":
            return super().build_request(capability, params)
        limit = fear_greed_limit(params)
        if limit == 1:
            return RequestSpec(path="/v3/fear-and-greed/latest")
        return RequestSpec(path="/v3/fear-and-greed/historical", params={"limit": limit})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "fear_greed":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        data = payload.get("data")
        status = payload.get("status") if isinstance(payload.get("status"), Mapping) else {}
        answered_at = iso_from_string(status.get("timestamp"), slug=self.slug)
        # latest answers one object with update_time; historical a list with unix-second strings.
        items = [data] if isinstance(data, Mapping) else data
        if not isinstance(items, list) or not items:
            raise BadData(f"{self.slug}: no readings in the answer")
        readings = []
        for item in items[: fear_greed_limit(params)]:
            if not isinstance(item, Mapping):
                raise BadData(f"{self.slug}: reading is not an object")
            if "update_time" in item:
                stamp = iso_from_string(item.get("update_time"), slug=self.slug)
            else:
                stamp = iso_from_epoch(number(item.get("timestamp"), "timestamp", slug=self.slug), slug=self.slug)
            check_not_future(stamp, epoch_of(answered_at), slug=self.slug)
            readings.append(
                make_fear_greed(
                    slug=self.slug, value=item.get("value"), classification=item.get("value_classification"),
                    timestamp=stamp,
                )
            )
        return [reading.to_dict() for reading in readings]

    def body_error(self, payload: Any) -> ProviderError | None:
        code = _error_code(payload)
        if not code:
            return None
        message = str(payload["status"].get("error_message"))[:120]
        return ProviderError(f"error_code {code}: {message!r}", code=code)
