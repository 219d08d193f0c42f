"""Etherscan API V2 gas oracle: /v2/api?chainid=1&module=gastracker&action=gasoracle (key required).

Every error arrives as HTTP 200 with status "0" and the reason in `result`; gwei values are
decimal strings, often below 1 since 2024, so they are never parsed as integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, PermanentError, ProviderError, RequestSpec
from providers.schemas import make_gas

# The free plan serves the gas oracle on selected chains only; Ethereum mainnet is one.
CHAIN_IDS = {"ethereum": 1}


class Etherscan(Adapter):
    slug = "etherscan"
    capabilities = frozenset({"gas"})
    chains = frozenset(CHAIN_IDS)
    error_markers = {
        **dict.fromkeys(("rate limit", "max calls per sec", "too many"), Outcome.RATE_LIMITED),
        **dict.fromkeys(
            ("api key", "deprecated", "invalid chainid", "not supported", "invalid module", "invalid action"),
            Outcome.PERMANENT,
        ),
    }

    def _chain_id(self, params: Mapping[str, Any]) -> int:
        chain = params.get("chain", "ethereum")
        if chain not in CHAIN_IDS:
            raise PermanentError(f"{self.slug}: no gas oracle for chain {chain!r}")
        return CHAIN_IDS[chain]

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "gas":
            return super().build_request(capability, params)
        return RequestSpec(
            path="/v2/api",
            params={"chainid": self._chain_id(params), "module": "gastracker", "action": "gasoracle"},
        )

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "gas":
            return super().parse(capability, params, payload)
        self._chain_id(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        result = payload.get("result")
        if not isinstance(result, Mapping):
            raise BadData(f"{self.slug}: result is not an object")
        estimate = make_gas(
            slug=self.slug,
            chain=params.get("chain", "ethereum"),
            unit="gwei",
            slow=result.get("SafeGasPrice"),
            standard=result.get("ProposeGasPrice"),
            fast=result.get("FastGasPrice"),
            base_fee=result.get("suggestBaseFee"),
        )
        return estimate.to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or str(payload.get("status")) == "1":
            return None
        # The reason is in result (message is just "NOTOK"); an invalid-key reason carries a
        # "|..." suffix that is cut off the summary.
        reason = str(payload.get("result") or payload.get("message") or "")
        return ProviderError(
            f"status {payload.get('status')!r} inside HTTP 200: {reason.split('|')[0][:120]!r}", text=reason
        )
