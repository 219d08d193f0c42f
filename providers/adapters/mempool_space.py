"""mempool.space: /v1/fees/recommended, Bitcoin fee rates in sat/vB as integers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, PermanentError, RequestSpec
from providers.schemas import make_gas


class MempoolSpace(Adapter):
    slug = "mempool_space"
    capabilities = frozenset({"gas"})
    chains = frozenset({"bitcoin"})

    def _check_chain(self, params: Mapping[str, Any]) -> None:
        if params.get("chain", "bitcoin") not in self.chains:
            raise PermanentError(f"{self.slug}: serves Bitcoin fees only, not {params.get('chain')!r}")

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "gas":
            return super().build_request(capability, params)
        self._check_chain(params)
        return RequestSpec(path="/v1/fees/recommended")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "gas":
            return super().parse(capability, params, payload)
        self._check_chain(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        estimate = make_gas(
            slug=self.slug,
            chain="bitcoin",
            unit="sat/vB",
            # Next block / within half an hour / within an hour, as mempool.space labels them.
            slow=payload.get("hourFee"),
            standard=payload.get("halfHourFee"),
            fast=payload.get("fastestFee"),
        )
        return estimate.to_dict()
