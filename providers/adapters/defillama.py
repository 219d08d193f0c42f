"""DefiLlama (free API): /protocols for one protocol's TVL, /v2/chains for chains' TVL; and the
stablecoins and yields hosts (their own providers, at the end of this module).

One capability, "tvl", with params {"protocol": slug or name | None, "chain": name | None}:
protocol given -> /protocols (multi-MB, every protocol); otherwise /v2/chains. With both, the
protocol's TVL is the one on that chain. The answer is {"protocols": [...], "chains": [...]}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import (
    Adapter,
    AdapterError,
    BadData,
    NotFound,
    Outcome,
    PermanentError,
    ProviderError,
    RequestSpec,
)
from providers.defi_records import (
    STABLECOINS_DEFAULT_LIMIT,
    STABLECOINS_MAX_LIMIT,
    YIELDS_DEFAULT_LIMIT,
    YIELDS_MAX_LIMIT,
    Stablecoin,
    YieldPool,
    limit_of,
    make_stablecoin,
    make_yield_pool,
)
from providers.schemas import make_tvl_chain, make_tvl_protocol
from providers.values import number

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


# --- stablecoins.llama.fi and yields.llama.fi: hosts of their own (providers defillama_stablecoins
# and defillama_yields in the catalogue), with the same error wording as api.llama.fi. ---------


class _LlamaHost(Adapter):
    error_markers = {"too many": Outcome.RATE_LIMITED, "rate limit": Outcome.RATE_LIMITED,
                     "internal": Outcome.TRANSIENT}

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping):
            return None
        text = payload.get("message") or payload.get("error")
        if text is None and payload.get("status") not in (None, "success"):
            text = f"status {payload.get('status')!r}"
        return None if text is None else ProviderError(f"error inside the answer: {str(text)[:120]!r}", text=str(text))


def peg_of(peg_type: Any) -> str | None:
    """"peggedUSD" -> "usd" ("peggedVAR", CPI-linked coins, -> "var")."""
    if not isinstance(peg_type, str) or not peg_type.startswith("pegged") or len(peg_type) <= len("pegged"):
        return None
    return peg_type.removeprefix("pegged").lower()


def by_supply_value(coins: list[Stablecoin]) -> list[Stablecoin]:
    """Largest first by circulating x price (supply alone when unpriced), as market-cap listings sort."""
    return sorted(coins, key=lambda c: (c.circulating or 0.0) * (c.price or 1.0), reverse=True)


class DefiLlamaStablecoins(_LlamaHost):
    """/stablecoins?includePrices=true: {"peggedAssets": [{name, symbol, gecko_id, pegType, price,
    circulating: {<pegType>: amount}, chains}]}; price is null for some coins."""

    slug = "defillama_stablecoins"
    capabilities = frozenset({"stablecoins"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "stablecoins":
            return super().build_request(capability, params)
        return RequestSpec(path="/stablecoins", params={"includePrices": "true"})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "stablecoins":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        assets = payload.get("peggedAssets") if isinstance(payload, Mapping) else None
        if not isinstance(assets, list) or not assets:
            raise BadData(f"{self.slug}: expected a non-empty peggedAssets array")
        coins = []
        for item in assets:
            if not isinstance(item, Mapping):
                raise BadData(f"{self.slug}: a stablecoin is not an object")
            circulating = item.get("circulating") if isinstance(item.get("circulating"), Mapping) else {}
            chains = item.get("chains") if isinstance(item.get("chains"), list) else ()
            coins.append(make_stablecoin(
                slug=self.slug, name=item.get("name"), symbol=item.get("symbol"), peg=peg_of(item.get("pegType")),
                circulating=circulating.get(item.get("pegType")), price=item.get("price"),
                gecko_id=item.get("gecko_id"), chains=chains,
            ))
        limit = limit_of(params, STABLECOINS_DEFAULT_LIMIT, STABLECOINS_MAX_LIMIT)
        return [coin.to_dict() for coin in by_supply_value(coins)[:limit]]


class DefiLlamaYields(_LlamaHost):
    """/pools: {"status": "success", "data": [{pool, chain, project, symbol, tvlUsd, apy, apyBase,
    apyReward, stablecoin, ...}]} - every pool (tens of thousands), so filter first, build last."""

    slug = "defillama_yields"
    capabilities = frozenset({"yields"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "yields":
            return super().build_request(capability, params)
        return RequestSpec(path="/pools")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "yields":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        pools = payload.get("data") if isinstance(payload, Mapping) else None
        if not isinstance(pools, list) or not pools or not all(isinstance(p, Mapping) for p in pools):
            raise BadData(f"{self.slug}: expected {{status: success, data: [pools]}}")
        chain, project = params.get("chain"), params.get("project")
        if project:
            pools = [p for p in pools if str(p.get("project") or "").lower() == project]
            if not pools:
                raise NotFound(f"{self.slug}: no yield pools of project {project!r}", field="project", values=[project])
        if chain:
            pools = [p for p in pools if str(p.get("chain") or "").lower() == chain]
            if not pools:
                raise NotFound(f"{self.slug}: no yield pools on chain {chain!r}", field="chain", values=[chain])
        # Sorting needs every candidate's TVL as a number; records are built for the answered rows only.
        tvls = [number(p.get("tvlUsd"), "tvlUsd", slug=self.slug) for p in pools]
        ranked = sorted(zip(tvls, range(len(pools)), strict=True), key=lambda t: t[0] or 0.0, reverse=True)
        limit = limit_of(params, YIELDS_DEFAULT_LIMIT, YIELDS_MAX_LIMIT)
        return [self._pool(pools[index]).to_dict() for _, index in ranked[:limit]]

    def _pool(self, item: Mapping) -> YieldPool:
        return make_yield_pool(slug=self.slug, pool=item.get("pool"), chain=item.get("chain"),
                               project=item.get("project"), symbol=item.get("symbol"), tvl_usd=item.get("tvlUsd"),
                               apy=item.get("apy"), apy_base=item.get("apyBase"), apy_reward=item.get("apyReward"),
                               stablecoin=item.get("stablecoin"))
