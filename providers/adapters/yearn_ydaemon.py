"""Yearn yDaemon: /{chainID}/vaults/all, summing each vault's USD TVL into Yearn's TVL on a chain.

A second TVL source for one protocol (Yearn, "yearn-finance" as DefiLlama calls it) and
per chain only, so callers must name both. Another protocol or chain named is "not found" here
(Yearn has no such vault set), so a protocol nobody knows is a 404, not a provider fault; no
protocol at all is a permanent "cannot serve". Either way the engine moves on. Same answer shape
as DefiLlama: {"protocols": [...], "chains": []}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, AdapterError, BadData, NotFound, PermanentError, RequestSpec
from providers.schemas import make_tvl_protocol, number

PROTOCOL_NAMES = frozenset({"yearn", "yearn-finance", "yearn finance"})
# yDaemon's chain ids, by the chain names DefiLlama uses.
CHAIN_IDS = {"ethereum": 1, "optimism": 10, "polygon": 137, "fantom": 250, "base": 8453, "arbitrum": 42161}
CHAIN_NAMES = {1: "Ethereum", 10: "Optimism", 137: "Polygon", 250: "Fantom", 8453: "Base", 42161: "Arbitrum"}


class YearnYDaemon(Adapter):
    slug = "yearn_ydaemon"
    capabilities = frozenset({"tvl"})

    def _chain_id(self, params: Mapping[str, Any]) -> int:
        protocol = str(params.get("protocol") or "").strip().lower()
        if not protocol:
            raise PermanentError(f"{self.slug}: serves Yearn's own TVL only, per protocol")
        if protocol not in PROTOCOL_NAMES:
            raise NotFound(f"{self.slug}: serves Yearn's own TVL only, not {params.get('protocol')!r}",
                           field="protocol", values=[str(params.get("protocol"))])
        chain = str(params.get("chain") or "").strip().lower()
        if not chain:
            raise PermanentError(f"{self.slug}: answers per chain; name one")
        if chain not in CHAIN_IDS:
            raise NotFound(f"{self.slug}: no Yearn vaults on chain {params.get('chain')!r}", field="chain",
                           values=[str(params.get("chain"))])
        return CHAIN_IDS[chain]

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "tvl":
            return super().build_request(capability, params)
        return RequestSpec(path=f"/{self._chain_id(params)}/vaults/all")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "tvl":
            return super().parse(capability, params, payload)
        chain_id = self._chain_id(params)
        if isinstance(payload, Mapping) and payload.get("error"):
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {str(payload['error'])[:120]!r}")
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected an array of vaults")
        vaults = [vault for vault in payload if isinstance(vault, Mapping)]
        if not vaults:
            raise BadData(f"{self.slug}: no vaults on chain {chain_id}")
        total = 0.0
        for vault in vaults:
            if vault.get("chainID", chain_id) != chain_id:
                raise BadData(f"{self.slug}: vault from chain {vault.get('chainID')} in a chain {chain_id} answer")
            tvl = vault.get("tvl")
            value = number(tvl.get("tvl") if isinstance(tvl, Mapping) else None, "tvl.tvl", slug=self.slug)
            if value is None:
                raise BadData(f"{self.slug}: vault {vault.get('address')} has no TVL")
            if value < 0:
                raise BadData(f"{self.slug}: negative TVL for vault {vault.get('address')}")
            total += value
        # Summing many float dollar amounts: cents are the precision that means anything.
        total = round(total, 2)
        chain_name = CHAIN_NAMES[chain_id]
        protocol = make_tvl_protocol(
            slug=self.slug,
            name="Yearn Finance",
            protocol_slug="yearn-finance",
            tvl=total,
            chain_tvls={chain_name: total},
            category="Yield Aggregator",
            symbol="YFI",
            chains=[chain_name],
        )
        return {"protocols": [protocol.to_dict()], "chains": []}
