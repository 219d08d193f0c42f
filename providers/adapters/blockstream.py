"""Blockstream Esplora (blockstream.info/api, keyless): Bitcoin address balances and transaction
status, the same Esplora API as mempool.space (parsed in providers.adapters.esplora)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import RequestSpec
from providers.adapters.esplora import ONCHAIN_CAPABILITIES, EsploraAccounts


class Blockstream(EsploraAccounts):
    slug = "blockstream"
    capabilities = ONCHAIN_CAPABILITIES
    chains = frozenset({"bitcoin"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().build_request(capability, params)
        return self.build_onchain_request(capability, params)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().parse(capability, params, payload)
        return self.parse_onchain(capability, params, payload)
