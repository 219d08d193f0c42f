"""mempool.space: /v1/fees/recommended, Bitcoin fee rates in sat/vB as integers; Bitcoin address
balances and transaction status from its Esplora API (providers.adapters.esplora)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import BadData, PermanentError, RequestSpec
from providers.adapters.esplora import ONCHAIN_CAPABILITIES, EsploraAccounts
from providers.schemas import make_gas


class MempoolSpace(EsploraAccounts):
    slug = "mempool_space"
    capabilities = frozenset({"gas"}) | ONCHAIN_CAPABILITIES
    chains = frozenset({"bitcoin"})

    def _check_chain(self, params: Mapping[str, Any]) -> None:
        if params.get("chain", "bitcoin") not in self.chains:
            raise PermanentError(f"{self.slug}: serves Bitcoin fees only, not {params.get('chain')!r}")

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability in ONCHAIN_CAPABILITIES:
            return self.build_onchain_request(capability, params)
        if capability != "gas":
            return super().build_request(capability, params)
        self._check_chain(params)
        return RequestSpec(path="/v1/fees/recommended")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability in ONCHAIN_CAPABILITIES:
            return self.parse_onchain(capability, params, payload)
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
