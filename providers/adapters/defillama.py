"""DefiLlama (free API): /protocols for one protocol's TVL, /v2/chains for chains' TVL.

One capability, "tvl", with params {"protocol": slug or name | None, "chain": name | None}:
protocol given -> /protocols (multi-MB, every protocol); otherwise /v2/chains. With both, the
protocol's TVL is the one on that chain. The answer is {"protocols": [...], "chains": [...]}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, AdapterError, BadData, NotFound, PermanentError, RequestSpec
from providers.schemas import make_tvl_chain, make_tvl_protocol

# chainTvls also holds these categories, bare ("staking") or as a suffix ("Ethereum-borrowed");
# DefiLlama's headline TVL excludes them, so only plain chain keys are summed.
EXTRA_TVL_KINDS = frozenset(
    {"borrowed", "staking", "pool2", "vesting", "offers", "treasury", "doublecounted", "liquidstaking",
     "dcandlsoverlap"}
)


def plain_chain_tvls(chain_tvls: Any) -> dict[str, Any]:
    if not isinstance(chain_tvls, Mapping):
        return {}
    plain = {}
    for key, value in chain_tvls.items():
        kind = str(key).rsplit("-", 1)[-1].lower()
        if kind in EXTRA_TVL_KINDS:
            continue
        # /protocols has bare numbers here; /protocol/{slug} nests {"tvl": [...]}.
        plain[key] = value
    return plain


def _find(items: list[Mapping], wanted: str, *keys: str) -> Mapping | None:
    wanted = wanted.strip().lower()
    for item in items:
        if any(str(item.get(key) or "").lower() == wanted for key in keys):
            return item
    return None


class DefiLlama(Adapter):
    slug = "defillama"
    capabilities = frozenset({"tvl"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "tvl":
            return super().build_request(capability, params)
        if params.get("protocol"):
            return RequestSpec(path="/protocols")
        return RequestSpec(path="/v2/chains")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "tvl":
            return super().parse(capability, params, payload)
        if isinstance(payload, Mapping) and ("message" in payload or "error" in payload):
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {str(payload)[:120]}")
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected an array")
        items = [item for item in payload if isinstance(item, Mapping)]
        if not items:  # an empty or shapeless list says nothing about what exists
            raise BadData(f"{self.slug}: expected an array of objects")
        if params.get("protocol"):
            return {"protocols": [self._protocol(params, items)], "chains": []}
        return {"protocols": [], "chains": self._chains(params, items)}

    def _protocol(self, params: Mapping[str, Any], items: list[Mapping]) -> dict:
        item = _find(items, params["protocol"], "slug", "name")
        if item is None:
            raise NotFound(f"{self.slug}: unknown protocol {params['protocol']!r}", field="protocol",
                           values=[str(params["protocol"])])
        per_chain = plain_chain_tvls(item.get("chainTvls"))
        tvl = item.get("tvl")
        chain = params.get("chain")
        if chain:
            match = next((key for key in per_chain if key.lower() == chain.strip().lower()), None)
            if match is None:
                raise PermanentError(f"{self.slug}: {item.get('name')} has no TVL on {chain!r}")
            per_chain = {match: per_chain[match]}
            tvl = per_chain[match]
        protocol = make_tvl_protocol(
            slug=self.slug,
            name=item.get("name"),
            protocol_slug=item.get("slug"),
            tvl=tvl,
            chain_tvls=per_chain,
            category=item.get("category"),
            symbol=item.get("symbol"),
            chains=item.get("chains") if not chain else list(per_chain),
            change_1d_pct=item.get("change_1d"),
        )
        return protocol.to_dict()

    def _chains(self, params: Mapping[str, Any], items: list[Mapping]) -> list[dict]:
        if params.get("chain"):
            item = _find(items, params["chain"], "name", "gecko_id")
            if item is None:
                raise NotFound(f"{self.slug}: unknown chain {params['chain']!r}", field="chain",
                               values=[str(params["chain"])])
            items = [item]
        if not items:
            raise BadData(f"{self.slug}: empty chain list")
        chains = [
            make_tvl_chain(
                slug=self.slug,
                name=item.get("name"),
                tvl=item.get("tvl"),
                token_symbol=item.get("tokenSymbol"),
                gecko_id=item.get("gecko_id"),
                chain_id=item.get("chainId"),
            )
            for item in items
        ]
        return [chain.to_dict() for chain in sorted(chains, key=lambda c: c.tvl, reverse=True)]
