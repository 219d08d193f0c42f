"""DexScreener: /tokens/v1/{chainId}/{tokenAddress} lists the DEX pairs holding a token ("dex").

The answer is a bare array of pairs (an unknown token: `[]`); prices are decimal strings,
`priceUsd` being the base token's price and `priceNative` the base token in quote-token units, so
the quote side's USD price is priceUsd / priceNative. `liquidity` is absent on some pools and
`pairCreatedAt` is epoch milliseconds. Errors and throttling arrive as an object with `error`
or `message`, sometimes inside HTTP 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, PermanentError, ProviderError, RequestSpec
from providers.defi_records import DexPair, make_dex_answer, make_dex_pair
from providers.dex_chains import DexChain, chain_named, same_address
from providers.values import iso_from_millis, number


def dex_chain(slug: str, params: Mapping[str, Any]) -> DexChain:
    chain = chain_named(str(params.get("chain") or ""))
    if chain is None:
        raise PermanentError(f"{slug}: no DEX network for chain {params.get('chain')!r}")
    return chain


class DexScreener(Adapter):
    slug = "dexscreener"
    capabilities = frozenset({"dex"})
    error_markers = {**dict.fromkeys(("rate limit", "too many"), Outcome.RATE_LIMITED),
                     **dict.fromkeys(("invalid", "not supported", "unsupported"), Outcome.PERMANENT)}

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "dex":
            return super().build_request(capability, params)
        return RequestSpec(path=f"/tokens/v1/{dex_chain(self.slug, params).dexscreener}/{params['token']}")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "dex":
            return super().parse(capability, params, payload)
        chain = dex_chain(self.slug, params)
        self.raise_for_body_error(payload)
        # /latest/dex/tokens wraps the same pairs as {"pairs": [...] | null}; accept both forms.
        pairs = payload.get("pairs", ...) if isinstance(payload, Mapping) else payload
        if not isinstance(pairs, list) and not (pairs is None and isinstance(payload, Mapping)):
            raise BadData(f"{self.slug}: expected an array of pairs")
        if not pairs:
            raise NotFound(f"{self.slug}: no DEX pairs for {params['token']} on {chain.name}", field="token",
                           values=[params["token"]])
        priced = [self._pair(chain, params["token"], item) for item in pairs]
        return make_dex_answer(slug=self.slug, chain=chain, token=params["token"], priced_pairs=priced).to_dict()

    def _pair(self, chain: DexChain, token: str, item: Any) -> tuple[DexPair, float | None]:
        if not isinstance(item, Mapping):
            raise BadData(f"{self.slug}: a pair is not an object")
        if item.get("chainId") != chain.dexscreener:
            raise BadData(f"{self.slug}: pair on chain {item.get('chainId')!r}, asked {chain.dexscreener!r}")
        base = item.get("baseToken") if isinstance(item.get("baseToken"), Mapping) else {}
        quote = item.get("quoteToken") if isinstance(item.get("quoteToken"), Mapping) else {}
        liquidity = item.get("liquidity") if isinstance(item.get("liquidity"), Mapping) else {}
        volume = item.get("volume") if isinstance(item.get("volume"), Mapping) else {}
        created_ms = number(item.get("pairCreatedAt"), "pairCreatedAt", slug=self.slug)
        pair = make_dex_pair(
            slug=self.slug, dex=item.get("dexId"), pair_address=item.get("pairAddress"),
            base_address=base.get("address"), base_symbol=base.get("symbol"),
            quote_address=quote.get("address"), quote_symbol=quote.get("symbol"),
            price_usd=item.get("priceUsd"), liquidity_usd=liquidity.get("usd"), volume_24h_usd=volume.get("h24"),
            created_at=iso_from_millis(created_ms, slug=self.slug),
        )
        if same_address(chain, pair.base_address, token):
            return pair, pair.price_usd
        native = number(item.get("priceNative"), "priceNative", slug=self.slug)
        if pair.price_usd is None or not native:
            return pair, None
        return pair, pair.price_usd / native

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or not ({"error", "message"} & set(payload)) or "pairs" in payload:
            return None
        text = str(payload.get("error") or payload.get("message") or "")
        return ProviderError(f"error inside the answer: {text[:120]!r}", text=text)
