"""Alternative.me Fear & Greed: /fng/?limit=N, newest first; value and timestamp are strings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, AdapterError, BadData, RequestSpec
from providers.schemas import check_not_future, epoch_of, fear_greed_limit, iso_from_epoch, make_fear_greed, number


class AlternativeMe(Adapter):
    slug = "alternative_me"
    capabilities = frozenset({"fear_greed"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "fear_greed":
            return super().build_request(capability, params)
        # limit=0 would mean the full history; fear_greed_limit() never sends it.
        return RequestSpec(path="/fng/", params={"limit": fear_greed_limit(params), "format": "json"})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "fear_greed":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        metadata = payload.get("metadata")
        if isinstance(metadata, Mapping) and metadata.get("error"):
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {str(metadata['error'])[:120]!r}")
        items = payload.get("data")
        if not isinstance(items, list) or not items:
            raise BadData(f"{self.slug}: no readings in the answer")
        readings = []
        for item in items[: fear_greed_limit(params)]:
            if not isinstance(item, Mapping):
                raise BadData(f"{self.slug}: reading is not an object")
            stamp = iso_from_epoch(number(item.get("timestamp"), "timestamp", slug=self.slug), slug=self.slug)
            readings.append(
                make_fear_greed(
                    slug=self.slug, value=item.get("value"), classification=item.get("value_classification"),
                    timestamp=stamp,
                )
            )
        # Readings are daily, newest first: the newest may not run far ahead of the one before it.
        if len(readings) > 1:
            check_not_future(readings[0].timestamp, epoch_of(readings[1].timestamp), slug=self.slug)
        return [reading.to_dict() for reading in readings]
